// Reading a task: its job and BullMQ state in one snapshot, turned into the Celery view. For a queue already
// known (an event stream names it; an anonymous upload seen here) that is one round trip.
import type { Keyspace, Redis } from '../platform/redis.js';
import type { TaskView } from './contract.js';
import { DEFAULT_QUEUE, type TaskProgress } from './define-task.js';
import { isValidTaskId } from './ids.js';
import type { JobPayload } from './job-shape.js';
import { readJobSnapshot, type JobSnapshot } from './job-snapshot.js';
import type { TaskOwner } from './owner.js';
import type { PublicTaskQueues } from './public-queues.js';
import { REVOKED_PREFIX, isReady, stateFromJob } from './states.js';
import { ERROR_FIELD, readError } from './stored-error.js';
import type { TaskQueues } from './task-queues.js';

export class TaskReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly queues: TaskQueues,
    private readonly publicQueues: PublicTaskQueues,
  ) {}

  async getTask(id: string): Promise<TaskView | null> {
    return (await this.readTask(id))?.view ?? null;
  }

  /**
   * Who owns a task (the job's `owner`), for the public routes' access check. It costs the same
   * round trips whether the id is unknown or staff-only, so timing does not tell them apart.
   */
  async taskOwner(id: string): Promise<TaskOwner | undefined> {
    return (await this.readTask(id))?.owner;
  }

  /**
   * A task and its anonymous owner, read in one snapshot. `queue` is where the caller already found
   * it (an open event stream): then, as for an anonymous upload this process has seen, it is one
   * round trip. Otherwise the queue is looked up first, and an unknown id costs what a known one does.
   */
  async readTask(id: string, options: { queue?: string } = {}): Promise<{ view: TaskView; owner?: TaskOwner } | null> {
    if (!isValidTaskId(id)) return null;
    const revokedKey = this.keys.key('revoked');
    const known = options.queue ?? this.publicQueues.get(id);
    let queueName: string | undefined;
    let job: JobSnapshot | undefined;
    if (known) {
      queueName = known;
      job = await readJobSnapshot(this.redis, this.queues.keysOf(known), id, revokedKey);
      if (!job) this.publicQueues.forget(id);
    } else {
      queueName = await this.queues.findQueue(id);
      // Read even when no queue has it: the same cost for an unknown id.
      job = await readJobSnapshot(this.redis, this.queues.keysOf(queueName ?? DEFAULT_QUEUE), id, revokedKey);
    }
    if (!queueName || !job) return null;
    const payload = (job.data ?? {}) as Partial<JobPayload>;
    const owner = payload.owner?.kind === 'anonymous' && typeof payload.owner.cancel === 'string' ? payload.owner : undefined;
    if (owner && !known) this.publicQueues.remember(id, queueName);
    return { view: viewOf(id, queueName, job, payload), ...(owner ? { owner } : {}) };
  }
}

function viewOf(id: string, queueName: string, job: JobSnapshot, payload: Partial<JobPayload>): TaskView {
  let status = stateFromJob(job.state, { ...job, retries: payload.retries });
  if (job.revoked && !isReady(status)) status = 'REVOKED';
  const view: TaskView = {
    id,
    name: job.name,
    queue: queueName,
    status,
    args: payload.args ?? [],
    kwargs: payload.kwargs ?? {},
    attempts: job.attemptsMade,
    dateCreated: new Date(job.timestamp).toISOString(),
  };
  if (job.processedOn) view.dateStarted = new Date(job.processedOn).toISOString();
  if (job.finishedOn && isReady(status)) view.dateDone = new Date(job.finishedOn).toISOString();
  if (job.progress && typeof job.progress === 'object' && !isReady(status)) view.progress = job.progress as TaskProgress;
  if (status === 'SUCCESS') view.result = job.returnvalue;
  if (status === 'FAILURE' || status === 'RETRY') view.error = readError(job.fields[ERROR_FIELD] ?? null, job.failedReason, job.stacktrace);
  if (status === 'REVOKED') {
    const reason = job.failedReason?.startsWith(REVOKED_PREFIX) ? job.failedReason.slice(REVOKED_PREFIX.length) : 'revoked';
    view.error = { code: reason.startsWith('expired') ? 'expired' : 'revoked', message: reason };
  }
  return view;
}
