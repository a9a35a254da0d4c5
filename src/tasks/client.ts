// Enqueue tasks, look up their state and result, revoke them. The only place (with worker.ts) that speaks BullMQ.
import { createHash, randomUUID } from 'node:crypto';
import { bullmq, type JobsOptions, type Queue } from './bullmq.js';
import { AppError, errorMessage } from '../platform/errors.js';
import { taskError } from './errors.js';
import type { Logger } from '../platform/logger.js';
import { isRedisUnavailableError, parseRedisUrl, type Keyspace, type Redis, type RedisTarget } from '../platform/redis.js';
import { ReplicaAcknowledgement } from '../platform/replica-ack.js';
import { DEFAULT_QUEUE, bindTaskCaller, getTaskDefinition, type TaskProgress } from './define-task.js';
import { AsyncResult } from './async-result.js';
import { SELER_ERROR_FIELD, bullKey } from './bull-layout.js';
import { Canvas } from './canvas.js';
import { EventHub, EventLog, bullEventsKey, eventsKey, readEventsSince, type EventStreamRef, type TaskEvent } from './events.js';
import type { TaskError, TaskView } from './contract.js';
import type { EnqueueOptions, JobPayload, PreparedJob, Retention } from './job-shape.js';
import { scrubErrorMessage } from './error-text.js';
import { isValidTaskId, taskIdProblem } from './ids.js';
import { readJobSnapshot, type JobSnapshot } from './job-snapshot.js';
import { newCancelToken, type TaskOwner } from './owner.js';
import { REVOKED_PREFIX, isReady, stateFromJob } from './states.js';

export type { TaskError } from './contract.js';

export type { EnqueueOptions, JobPayload, PreparedJob, Retention } from './job-shape.js';

export type { TaskView };

export const ERROR_FIELD = SELER_ERROR_FIELD;
/** How many anonymous uploads' queues a client remembers (a few hundred KB at most). */
const PUBLIC_QUEUES_KEPT = 10_000;
export const CONTROL_CHANNEL = 'control';

export interface TaskClientOptions {
  redis: Redis;
  /** For the blocking connection that waits on events (get with a timeout). */
  redisTarget: RedisTarget | string;
  keys: Keyspace;
  retention: Retention;
  eventsMaxLen: number;
  logger: Logger;
}

export class TaskClient {
  readonly events: EventLog;
  private readonly queues = new Map<string, Queue>();
  private readonly knownQueues = new Set<string>([DEFAULT_QUEUE]);
  /**
   * The queue of tasks an anonymous uploader owns (enqueued here or read once), so reading one again
   * is one round trip. Only those: their id is all it takes to read them anyway, while a staff-only
   * task must cost an anonymous caller as much as an unknown id (access.ts).
   */
  private readonly publicQueues = new Map<string, string>();
  private hub: EventHub | undefined;
  private canvasInstance: Canvas | undefined;
  /** Every write that creates tasks goes through it (Sentinel's waitReplicas). */
  readonly replicaAck: ReplicaAcknowledgement;

  constructor(private readonly options: TaskClientOptions) {
    const target = typeof options.redisTarget === 'string' ? parseRedisUrl(options.redisTarget) : options.redisTarget;
    this.replicaAck = new ReplicaAcknowledgement(options.redis, target.kind === 'single' ? 0 : target.waitReplicas, options.keys.root);
    this.events = new EventLog(options.redis, eventsKey(options.keys), options.eventsMaxLen);
    // The most recently opened client serves `task.delay()` and `task.applyAsync()` in this process.
    bindTaskCaller({ call: (name, callOptions) => this.enqueue(name, callOptions) });
  }

  get keys(): Keyspace {
    return this.options.keys;
  }

  get retention(): Retention {
    return this.options.retention;
  }

  get redis(): Redis {
    return this.options.redis;
  }

  /** BullMQ's prefix: every queue key starts with `{seler}` so one Redis Cluster slot holds them all. */
  get bullPrefix(): string {
    return this.options.keys.root;
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new (bullmq().Queue)(name, {
        connection: this.options.redis,
        prefix: this.bullPrefix,
        defaultJobOptions: {
          removeOnComplete: { age: this.options.retention.successSeconds },
          removeOnFail: { age: this.options.retention.failureSeconds },
        },
        // BullMQ's event stream of the queue carries seler's sent / started / progress / succeeded events.
        streams: { events: { maxLen: this.options.eventsMaxLen } },
      });
      // A lost connection is reported once for the process (watchRedisConnection), not once per queue and retry.
      queue.on('error', (err) => this.options.logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: errorMessage(err), queue: name }, 'queue error'));
      this.queues.set(name, queue);
      this.knownQueues.add(name);
      void this.options.redis.sadd(this.options.keys.key('queues'), name).catch(() => {});
      this.hub?.addQueue(name);
    }
    return queue;
  }

  /** A queue's keys without a BullMQ Queue: reading a task must not load BullMQ (`seler result`). */
  private queueKeys(name: string): { toKey(type: string): string } {
    return { toKey: (type: string) => bullKey(this.bullPrefix, name, type) };
  }

  /** Validates a call and turns it into what BullMQ stores; shared by enqueue and the canvas. */
  prepare(name: string, options: EnqueueOptions = {}): PreparedJob {
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

  async enqueue(name: string, options: EnqueueOptions = {}): Promise<{ id: string; cancelToken?: string }> {
    const prepared = this.prepare(name, options);
    const add = () => this.queue(prepared.queue).add(name, prepared.payload, prepared.opts);
    // Without waitReplicas the write is the add itself (no wrapper's promise on the hot path).
    const job = await (this.replicaAck.replicas > 0 ? this.replicaAck.write(add) : add());
    if (prepared.cancelToken) this.rememberPublic(job.id ?? prepared.id, prepared.queue);
    return { id: job.id ?? prepared.id, ...(prepared.cancelToken ? { cancelToken: prepared.cancelToken } : {}) };
  }

  private rememberPublic(id: string, queue: string): void {
    this.publicQueues.delete(id);
    this.publicQueues.set(id, queue);
    // Insertion order: the first key is the one least recently remembered.
    if (this.publicQueues.size > PUBLIC_QUEUES_KEPT) this.publicQueues.delete(this.publicQueues.keys().next().value!);
  }

  /**
   * Who owns a task (the job's `owner`), for the public routes' access check. It costs the same
   * round trips whether the id is unknown or staff-only, so timing does not tell them apart.
   */
  async taskOwner(id: string): Promise<TaskOwner | undefined> {
    return (await this.readTask(id))?.owner;
  }

  /** The queue holding a task, found among the queues seler knows about; undefined for an unknown id. */
  async findQueue(id: string): Promise<string | undefined> {
    if (!isValidTaskId(id)) return undefined;
    const known = await this.options.redis.smembers(this.options.keys.key('queues')).catch(() => [] as string[]);
    for (const q of known) this.knownQueues.add(q);
    const names = [...this.knownQueues];
    const pipeline = this.options.redis.pipeline();
    for (const q of names) pipeline.exists(bullKey(this.bullPrefix, q, id));
    const replies = (await pipeline.exec()) ?? [];
    // A pipeline reports a dead Redis per command instead of rejecting: that is "unavailable", not "no such task".
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    const index = replies.findIndex(([, exists]) => exists === 1);
    return index >= 0 ? names[index] : undefined;
  }

  async getTask(id: string): Promise<TaskView | null> {
    return (await this.readTask(id))?.view ?? null;
  }

  /**
   * A task and its anonymous owner, read in one snapshot. `queue` is where the caller already found
   * it (an open event stream): then, as for an anonymous upload this process has seen, it is one
   * round trip. Otherwise the queue is looked up first, and an unknown id costs what a known one does.
   */
  async readTask(id: string, options: { queue?: string } = {}): Promise<{ view: TaskView; owner?: TaskOwner } | null> {
    if (!isValidTaskId(id)) return null;
    const revokedKey = this.options.keys.key('revoked');
    const known = options.queue ?? this.publicQueues.get(id);
    let queueName: string | undefined;
    let job: JobSnapshot | undefined;
    if (known) {
      queueName = known;
      job = await readJobSnapshot(this.options.redis, this.queueKeys(known), id, revokedKey);
      if (!job) this.publicQueues.delete(id);
    } else {
      queueName = await this.findQueue(id);
      // Read even when no queue has it: the same cost for an unknown id.
      job = await readJobSnapshot(this.options.redis, this.queueKeys(queueName ?? DEFAULT_QUEUE), id, revokedKey);
    }
    if (!queueName || !job) return null;
    const payload = (job.data ?? {}) as Partial<JobPayload>;
    const owner = payload.owner?.kind === 'anonymous' && typeof payload.owner.cancel === 'string' ? payload.owner : undefined;
    if (owner && !known) this.rememberPublic(id, queueName);
    return { view: this.viewOf(id, queueName, job, payload), ...(owner ? { owner } : {}) };
  }

  private viewOf(id: string, queueName: string, job: JobSnapshot, payload: Partial<JobPayload>): TaskView {
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

  /**
   * Revokes a task. The revoke is kept in Redis (not only broadcast), so it holds for workers
   * that are offline now; a running task has its AbortSignal aborted.
   */
  async revoke(id: string, options: { reason?: string; terminate?: boolean } = {}): Promise<TaskView | null> {
    const view = await this.getTask(id);
    if (!view) return null;
    if (isReady(view.status)) return view;
    const keepUntil = Date.now() + this.options.retention.failureSeconds * 1000;
    const reason = options.reason ?? 'revoked by request';
    await this.options.redis
      .multi()
      .zadd(this.options.keys.key('revoked'), keepUntil, id)
      .zremrangebyscore(this.options.keys.key('revoked'), '-inf', Date.now())
      .publish(this.options.keys.key(CONTROL_CHANNEL), JSON.stringify({ type: 'revoke', id, reason, terminate: !!options.terminate }))
      .exec();
    this.events.emit({ type: 'revoked', taskId: id, name: view.name, queue: view.queue, ts: Date.now(), data: { reason } });
    return { ...view, status: 'REVOKED', error: { code: 'revoked', message: reason } };
  }

  /**
   * Waits until the task is finished (or the timeout passes) by listening to its events, not by polling;
   * resolves to its final view, its view at the timeout, or null for an unknown id.
   */
  async waitUntilReady(id: string, timeoutMs: number): Promise<TaskView | null> {
    const hub = await this.eventHub();
    return new Promise<TaskView | null>((resolve, reject) => {
      let settled = false;
      const finish = (view: TaskView | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(view);
      };
      const check = () => this.getTask(id).then((v) => (!v || isReady(v.status)) && finish(v), reject);
      // Subscribe first, then look: an event between the two cannot be missed.
      const unsubscribe = hub.subscribe(id, () => void check());
      const timer = setTimeout(() => void this.getTask(id).then(finish, reject), timeoutMs);
      void check();
    });
  }

  /** Every event stream: seler's own and BullMQ's of each known queue. */
  async eventStreams(): Promise<EventStreamRef[]> {
    const names = new Set([...this.knownQueues, ...(await this.options.redis.smembers(this.options.keys.key('queues')))]);
    return [{ key: eventsKey(this.options.keys) }, ...[...names].sort().map((queue) => ({ key: bullEventsKey(this.bullPrefix, queue), queue }))];
  }

  /** Up to `count` task events after a cursor (an SSE event id; '0-0' for everything kept), in order. */
  async readEvents(cursor: string, count: number): Promise<TaskEvent[]> {
    return readEventsSince(this.options.redis, this.bullPrefix, await this.eventStreams(), cursor, count);
  }

  /** The process's one event hub (started on first use, stopped by close()). */
  async eventHub(): Promise<EventHub> {
    this.hub ??= new EventHub({
      redis: this.options.redis,
      redisTarget: this.options.redisTarget,
      bullPrefix: this.bullPrefix,
      logger: this.options.logger,
      streams: () => this.eventStreams(),
    });
    const hub = this.hub;
    await hub.start();
    return hub;
  }

  /** Removes a finished task and its result now, instead of waiting for the retention to expire. */
  async forget(id: string): Promise<boolean> {
    const queueName = await this.findQueue(id);
    if (!queueName) return false;
    const job = await bullmq().Job.fromId(this.queue(queueName), id);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'active') throw taskError.task_running(id);
    await job.remove();
    await this.options.redis.zrem(this.options.keys.key('revoked'), id);
    return true;
  }

  /** chain, group and chord (Celery's canvas). */
  get canvas(): Canvas {
    this.canvasInstance ??= new Canvas(this);
    return this.canvasInstance;
  }

  asyncResult<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this);
  }

  async close(): Promise<void> {
    // Events waiting to be written go out when Redis answers; against a dead Redis closing must not wait.
    if (this.options.redis.status === 'ready') await this.events.drain();
    await this.hub?.stop();
    this.hub = undefined;
    await this.canvasInstance?.close();
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    this.queues.clear();
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

function readError(json: string | null, failedReason: string | undefined, stacktrace: string[] | null | undefined): TaskError {
  if (json) {
    try {
      const error = JSON.parse(json) as TaskError;
      return { ...error, message: scrubErrorMessage(String(error.message ?? '')) };
    } catch {
      /* fall through to BullMQ's own fields */
    }
  }
  if (failedReason && /^child .* failed/i.test(failedReason))
    return { code: 'dependency_failed', message: scrubErrorMessage(`a task this one depends on failed (${failedReason})`) };
  return { code: 'task_error', message: scrubErrorMessage(failedReason ?? 'the task failed'), traceback: stacktrace?.at(-1) };
}

export function serializeError(err: unknown): TaskError {
  // The message is shown to whoever may read the task: no server paths in it (the traceback, for staff, keeps them).
  if (err instanceof AppError) return { code: err.code, message: scrubErrorMessage(err.message), traceback: err.stack };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : err.name === 'Error' ? 'task_error' : err.name, message: scrubErrorMessage(err.message), traceback: err.stack };
  }
  return { code: 'task_error', message: scrubErrorMessage(String(err)) };
}
