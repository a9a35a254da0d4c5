// Turning a call into the job BullMQ stores (validated once, shared with the canvas) and adding it.
import { createHash, randomUUID } from 'node:crypto';
import type { JobsOptions } from './bullmq.js';
import type { ReplicaAcknowledgement } from '../platform/replica-ack.js';
import { DEFAULT_QUEUE, getTaskDefinition } from './define-task.js';
import { taskError } from './errors.js';
import { taskIdProblem } from './ids.js';
import type { EnqueueOptions, PreparedJob } from './job-shape.js';
import { newCancelToken } from './owner.js';
import type { PublicTaskQueues } from './public-queues.js';
import type { TaskQueues } from './task-queues.js';

/** Validates a call and turns it into what BullMQ stores; shared by enqueue and the canvas. */
export function prepareCall(name: string, options: EnqueueOptions = {}): PreparedJob {
  const definition = getTaskDefinition(name);
  const args = options.args ?? [];
  const kwargs = options.kwargs ?? {};
  if (!Array.isArray(args)) throw taskError.invalid_args('args must be a JSON array');
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw taskError.invalid_kwargs('kwargs must be a JSON object');
  if (definition?.options.argsSchema && !options.skipArgsCheck) {
    const parsed = definition.options.argsSchema.safeParse(args);
    if (!parsed.success) throw taskError.invalid_args(`arguments of ${name}: ${parsed.error.issues[0]?.message}`);
  }
  if (definition?.options.kwargsSchema) {
    const parsed = definition.options.kwargsSchema.safeParse(kwargs);
    if (!parsed.success) throw taskError.invalid_kwargs(`keyword arguments of ${name}: ${parsed.error.issues[0]?.message}`);
  }
  const queueName = options.queue ?? definition?.options.queue ?? DEFAULT_QUEUE;
  if (!/^[\w.-]{1,100}$/.test(queueName)) throw taskError.invalid_queue(queueName);

  const now = Date.now();
  let delay = 0;
  if (options.countdown !== undefined) {
    if (!(options.countdown >= 0)) throw taskError.invalid_countdown();
    delay = Math.round(options.countdown * 1000);
  }
  if (options.eta) delay = Math.max(0, options.eta.getTime() - now);
  const expiresAt =
    options.expires === undefined ? undefined : typeof options.expires === 'number' ? now + options.expires * 1000 : options.expires.getTime();

  // Only an id from outside is checked: a UUID or idFromKey's hex is always a valid one.
  const problem = options.taskId === undefined ? undefined : taskIdProblem(options.taskId);
  if (problem) throw taskError.invalid_task_id(problem);
  const id = options.taskId ?? (options.idempotencyKey ? idFromKey(options.idempotencyKey) : randomUUID());
  const cancel = options.anonymousOwner ? newCancelToken() : undefined;
  return {
    id,
    name,
    queue: queueName,
    payload: { args, kwargs, ...(expiresAt ? { expiresAt } : {}), ...(cancel ? { owner: { kind: 'anonymous', cancel: cancel.hash } } : {}) },
    opts: jobOptions(id, delay, options.priority ?? definition?.options.priority, definition?.options.maxAttempts ?? 1, definition?.options.retryBackoffMs ?? 1000),
    ...(cancel ? { cancelToken: cancel.token } : {}),
  };
}

export class TaskEnqueuer {
  constructor(
    private readonly queues: TaskQueues,
    /** Every write that creates tasks goes through it (Sentinel's waitReplicas). */
    private readonly replicaAck: ReplicaAcknowledgement,
    private readonly publicQueues: PublicTaskQueues,
  ) {}

  async enqueue(name: string, options: EnqueueOptions = {}): Promise<{ id: string; cancelToken?: string }> {
    const prepared = prepareCall(name, options);
    const add = () => this.queues.queue(prepared.queue).add(name, prepared.payload, prepared.opts);
    // Without waitReplicas the write is the add itself (no wrapper's promise on the hot path).
    const job = await (this.replicaAck.replicas > 0 ? this.replicaAck.write(add) : add());
    if (prepared.cancelToken) this.publicQueues.remember(job.id ?? prepared.id, prepared.queue);
    return { id: job.id ?? prepared.id, ...(prepared.cancelToken ? { cancelToken: prepared.cancelToken } : {}) };
  }
}

/** Only the options that differ from BullMQ's defaults: every one is stored in, and parsed from, each job. */
function jobOptions(jobId: string, delay: number, priority: number | undefined, attempts: number, backoffMs: number): JobsOptions & { jobId: string } {
  const opts: JobsOptions & { jobId: string } = { jobId };
  if (delay) opts.delay = delay;
  if (priority !== undefined) opts.priority = priority;
  if (attempts > 1) {
    opts.attempts = attempts;
    opts.backoff = { type: 'exponential', delay: backoffMs, jitter: 0.5 };
  }
  return opts;
}

function idFromKey(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
