// The worker runtime: consumes queues with BullMQ and runs registered tasks through an executor
// (in process, worker threads or child processes); revokes, expiry, rate limits, retries, events,
// heartbeats, remote control and warm shutdown live here.
import { hostname } from 'node:os';
import { bullmq, type Job, type Worker } from './bullmq.js';
import { withDurableFinish } from './durable-finish.js';

const { DelayedError, UnrecoverableError, Worker: BullWorker } = bullmq();
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { createRedis, isRedisUnavailableError, type Redis, type RedisTarget } from '../platform/redis.js';
import { ReplicaAcknowledgement } from '../platform/replica-ack.js';
import { ERROR_FIELD, serializeError, type JobPayload, type TaskClient, type TaskError } from './client.js';
import {
  HEARTBEAT_MS,
  MAX_CONCURRENCY,
  controlChannel,
  rateLimitOverrides,
  removeWorker,
  sendReply,
  writeHeartbeat,
  type ControlMessage,
  type ControlReply,
  type InspectCommand,
  type WorkerControl,
  type WorkerInfo,
} from './control.js';
import { getTaskDefinition, registeredTasks, taskCaller, type CallOptions, type TaskProgress, type TaskResources } from './define-task.js';
import { asyncExecutor, isPermanent, type ExecutionHooks, type Executor } from './execute.js';
import { childPool } from './pool.js';
import { parseRate, takeRateToken } from './rate-limit.js';
import { REVOKED_PREFIX } from './states.js';
import { TASK_LOG_KEEP, TASK_LOG_MAX_LINES, droppedLine } from './task-log.js';

export type PoolKind = 'async' | 'threads' | 'process';

export interface WorkerOptions {
  redisTarget: RedisTarget | string;
  client: TaskClient;
  queues: string[];
  concurrency: number;
  pool?: PoolKind;
  logger: Logger;
  logLevel?: string;
  /** How long a warm shutdown waits for running tasks. */
  shutdownTimeoutMs: number;
  /** How long a task stays locked to this worker without a lock renewal; after it, another worker takes it over. */
  lockDurationMs?: number;
  maxTasksPerChild?: number;
  maxMemoryPerChildBytes?: number;
  softTimeLimitMs?: number;
  timeLimitMs?: number;
  /** "10/m": at most that many tasks started per period from each consumed queue, across all workers. */
  queueRateLimit?: string;
  /** What the tasks get as ctx.resources (in the threads and process pools, the bootstrap's answer instead). */
  resources?: Partial<TaskResources>;
  /** For the threads and process pools: the module that loads the tasks in a child, and its argument. */
  bootstrap?: { module: string; payload: unknown };
  /**
   * A `shutdown` control command arrived: by default the process gets SIGTERM (its warm shutdown,
   * as Celery's shutdown ends the worker process); an embedding may close just the worker instead.
   */
  onShutdownRequested?: () => void;
}

export interface RunningWorker {
  readonly name: string;
  readonly queues: string[];
  activeCount(): number;
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { client, logger } = options;
  const keys = client.keys;
  const workerName = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;
  const pool = options.pool ?? 'async';
  const revoked = new Map<string, string>();
  const active = new Map<string, RunningTask>();
  /** The queues consumed now (control commands add and cancel consumers) and their BullMQ workers. */
  const consumers = new Map<string, Worker>();
  let concurrency = options.concurrency;
  /** Rate limits set at run time (control.ts setRateLimit), over what the tasks declare; "none" lifts one. */
  const rateOverrides = new Map<string, string>();
  const stats = { processed: 0, failed: 0, startedAt: Date.now() };

  if (pool !== 'async' && !options.bootstrap) throw new Error(`the ${pool} pool needs a bootstrap module to load tasks in its children`);
  // A task's ctx.delay queues through this worker's own client, never through another one opened in this process.
  const enqueue = (name: string, call: CallOptions) => client.enqueue(name, call);
  const executor: Executor =
    pool === 'async'
      ? asyncExecutor({ resources: options.resources ?? {}, caller: taskCaller(enqueue) })
      : childPool({
          kind: pool,
          size: options.concurrency,
          bootstrap: options.bootstrap!.module,
          bootstrapPayload: options.bootstrap!.payload,
          maxTasksPerChild: options.maxTasksPerChild,
          maxMemoryPerChildBytes: options.maxMemoryPerChildBytes,
          logger,
          logLevel: options.logLevel ?? 'info',
          enqueue,
        });

  const info = (): WorkerInfo => ({
    name: workerName,
    host: hostname(),
    pid: process.pid,
    queues: [...consumers.keys()],
    concurrency,
    pool,
    active: active.size,
    processed: stats.processed,
    failed: stats.failed,
    startedAt: stats.startedAt,
    heartbeatAt: Date.now(),
    rss: process.memoryUsage().rss,
  });

  const answer = async (command: InspectCommand): Promise<unknown> => {
    switch (command) {
      case 'ping':
        return 'pong';
      case 'registered':
        return registeredTasks().map((t) => t.name);
      case 'stats':
        return { ...info(), uptimeSeconds: Math.round((Date.now() - stats.startedAt) / 1000) };
      case 'active':
        return [...active.values()].map(({ job, startedAt }) => ({ id: job.id, name: job.name, queue: job.queueName, args: (job.data as JobPayload).args, startedAt }));
      case 'scheduled': {
        const delayed = await Promise.all([...consumers.keys()].map((q) => client.queue(q).getDelayed(0, 99)));
        return delayed.flat().map((job) => ({ id: job.id, name: job.name, queue: job.queueName, eta: new Date(job.timestamp + (job.delay ?? 0)).toISOString() }));
      }
    }
  };

  // Subscribe before loading the persisted revokes, so none published in between is missed.
  const subscriber = createRedis(options.redisTarget, { name: 'seler-worker-control', maxRetriesPerRequest: null });
  subscriber.on('message', (_channel: string, raw: string) => {
    let message: ControlMessage;
    try {
      message = JSON.parse(raw) as ControlMessage;
    } catch {
      return logger.warn('ignored a malformed control message');
    }
    if (message.type === 'revoke') {
      const reason = message.reason ?? 'revoked';
      revoked.set(message.id, reason);
      const task = active.get(message.id);
      if (!task) return;
      if (message.terminate && executor.terminate(message.id, `terminated: ${reason}`)) return;
      task.abort(reason);
    } else if (message.type === 'inspect') {
      void answer(message.command)
        .then((reply) => sendReply(client.redis, message.replyTo, workerName, reply))
        .catch((err) => logger.warn({ err: errorMessage(err) }, 'could not answer an inspect command'));
    } else if (message.type === 'control') {
      if (message.destination && !message.destination.includes(workerName)) return;
      let reply: ControlReply;
      try {
        reply = applyControl(message.control);
      } catch (err) {
        reply = { ok: false, error: errorMessage(err) };
      }
      void sendReply(client.redis, message.replyTo, workerName, reply)
        .catch((err) => logger.warn({ err: errorMessage(err) }, 'could not answer a control command'))
        .finally(() => {
          if (reply.ok && message.control.command === 'shutdown') (options.onShutdownRequested ?? sigtermSelf)();
        });
    } else if (message.type === 'rate-limit') {
      if (message.rate === null) rateOverrides.delete(message.task);
      else rateOverrides.set(message.task, message.rate);
      logger.info({ task: message.task, rateLimit: message.rate ?? 'as declared' }, 'rate limit changed');
    }
  });
  await subscriber.subscribe(controlChannel(keys));
  for (const [task, rate] of Object.entries(await rateLimitOverrides(client.redis, keys))) rateOverrides.set(task, rate);

  function applyControl(control: WorkerControl): ControlReply {
    const done = (changed: boolean): ControlReply => ({ ok: true, queues: [...consumers.keys()], concurrency, changed });
    switch (control.command) {
      case 'concurrency': {
        const value = control.value;
        if (!Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) throw new Error(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
        const changed = value !== concurrency;
        concurrency = value;
        for (const worker of consumers.values()) worker.concurrency = value;
        executor.resize?.(value);
        if (changed) logger.info({ concurrency: value }, 'concurrency changed by a control command');
        return done(changed);
      }
      case 'add-consumer': {
        if (!/^[\w.-]{1,100}$/.test(control.queue)) throw new Error(`queue name "${String(control.queue).slice(0, 100)}" may contain letters, digits, "_", "." and "-"`);
        if (consumers.has(control.queue)) return done(false);
        consume(control.queue);
        logger.info({ queue: control.queue }, 'started consuming a queue (control command)');
        return done(true);
      }
      case 'cancel-consumer': {
        const worker = consumers.get(control.queue);
        if (!worker) return done(false);
        consumers.delete(control.queue);
        // Warm: the queue's running tasks finish; nothing new is taken from it.
        void worker
          .close()
          .then(() => worker.disconnect())
          .catch((err) => logger.warn({ err: errorMessage(err), queue: control.queue }, 'closing a cancelled consumer failed'));
        logger.info({ queue: control.queue }, 'stopped consuming a queue (control command)');
        return done(true);
      }
      case 'shutdown':
        logger.info({}, 'warm shutdown requested by a control command');
        return done(true);
      default:
        throw new Error(`unknown control command "${String((control as { command?: unknown }).command).slice(0, 50)}"`);
    }
  }
  for (const id of await client.redis.zrangebyscore(keys.key('revoked'), Date.now(), '+inf')) revoked.set(id, 'revoked');

  /** The error a run failed with, as the job keeps it (written by DurableWorker's failure write). */
  const taskErrors = new WeakMap<object, TaskError>();

  // Started, progress and succeeded are BullMQ's own stream entries (see events.ts); seler writes the rest.
  const emit = (job: Job, type: 'received' | 'revoked' | 'retried', data: Record<string, unknown>) =>
    client.events.emit({ type, taskId: job.id!, name: job.name, queue: job.queueName, ts: Date.now(), data });

  // Two parameters: BullMQ makes an AbortController per job for a processor that takes a third;
  // ours is made only when the task or the executor looks at its signal.
  const processor = async (job: Job, token?: string): Promise<unknown> => {
    const payload = (job.data ?? {}) as JobPayload;
    const queue = job.queueName;
    // Without waitReplicas there is nothing to wait for: no promise, no await per task.
    const handOver = client.replicaAck.replicas > 0 ? await awaitHandOverReplicas(queue) : 'confirmed';
    if (handOver === 'lost') {
      // The connection that handed this task over dropped before its replicas confirmed the hand-over: the
      // master is gone or being demoted (a failover), which undoes it, and the new master hands the task out
      // again. Running it here too would run it twice: leave it untouched.
      logger.warn({ taskId: job.id, task: job.name }, 'not running a task whose hand-over the replicas never confirmed (Redis failover?)');
      throw new DelayedError();
    }
    if (handOver === 'timed-out') logger.warn({ taskId: job.id, task: job.name }, "running a task whose hand-over Redis's replicas have not confirmed yet");
    const task = new RunningTask(job, logger, (line) => client.queue(queue).addJobLog(job.id!, line, TASK_LOG_KEEP));
    const revokedReason = revoked.get(job.id!);
    if (revokedReason !== undefined) {
      task.log.info({ reason: revokedReason }, 'task discarded: revoked');
      throw new UnrecoverableError(REVOKED_PREFIX + revokedReason);
    }
    if (payload.expiresAt && Date.now() > payload.expiresAt) {
      const reason = `expired at ${new Date(payload.expiresAt).toISOString()} before it could start`;
      task.log.info({ reason }, 'task discarded: expired');
      emit(job, 'revoked', { reason });
      throw new UnrecoverableError(REVOKED_PREFIX + reason);
    }
    const definition = getTaskDefinition(job.name);
    const rateLimit = rateOverrides.get(job.name) ?? definition?.options.rateLimit;
    if (rateLimit && rateLimit !== 'none') {
      const rate = parseRate(rateLimit);
      const waitMs = await takeRateToken(client.redis, keys.key('rate', job.name), rate);
      if (waitMs > 0) {
        await job.moveToDelayed(Date.now() + waitMs, token);
        // BullMQ said `started` when it handed the task over: say it waits again (Celery's "received").
        emit(job, 'received', { eta: Date.now() + waitMs, reason: 'rate limit' });
        throw new DelayedError();
      }
    }

    const args = payload.receives ? [await resultsOfDependencies(job, payload), ...(payload.args ?? [])] : (payload.args ?? []);
    active.set(job.id!, task);
    if (logger.isLevelEnabled('info')) task.log.info({ attempt: job.attemptsMade + 1 }, 'task started');
    try {
      return await executor.run(
        {
          id: job.id!,
          name: job.name,
          queue,
          attempt: job.attemptsMade + 1,
          retries: payload.retries ?? 0,
          args,
          kwargs: payload.kwargs ?? {},
          softTimeLimitMs: definition?.options.softTimeLimitMs ?? options.softTimeLimitMs,
          timeLimitMs: definition?.options.timeLimitMs ?? options.timeLimitMs,
        },
        task,
      );
    } catch (err) {
      const retryInMs = (err as { retryInMs?: number }).retryInMs;
      if (typeof retryInMs === 'number') {
        // An explicit retry from inside the task, with its own countdown.
        const retries = (payload.retries ?? 0) + 1;
        const maxRetries = Math.max(0, (definition?.options.maxAttempts ?? 1) - 1);
        if (retries <= maxRetries || (err as { force?: boolean }).force) {
          await job.updateData({ ...payload, retries });
          await job.moveToDelayed(Date.now() + retryInMs, token);
          emit(job, 'retried', { message: (err as Error).message, retries, countdownMs: retryInMs });
          task.log.info({ retries, countdownMs: retryInMs }, 'task retry requested');
          throw new DelayedError();
        }
      }
      const revokedWhileRunning = revoked.get(job.id!);
      if (revokedWhileRunning !== undefined) throw new UnrecoverableError(REVOKED_PREFIX + revokedWhileRunning);
      const error = serializeError(err);
      // BullMQ keeps err.message as the failed reason and the 'failed' event carries it: the scrubbed one (the stack keeps the original).
      if (err instanceof Error && err.message !== error.message) {
        try {
          err.message = error.message;
        } catch {
          /* a frozen error keeps its message; the stored selerError is scrubbed anyway */
        }
      }
      const permanent = isPermanent(err) || (err as Error).name === 'TimeLimitExceeded' || (err as Error).name === 'Terminated';
      const thrown = permanent ? new UnrecoverableError(error.message) : typeof err === 'object' && err !== null ? err : new Error(error.message);
      taskErrors.set(thrown, error);
      throw thrown;
    } finally {
      // The task's log lines are in Redis before its job finishes: whoever sees it finished sees them.
      const logWrites = task.flushLog();
      if (logWrites) await bounded(logWrites, 5000);
      active.delete(job.id!);
    }
  };

  // With REDIS_URL's waitReplicas, a task runs once the replicas hold its hand-over (see processor). The wait
  // happens inside the processor, so BullMQ keeps renewing the task's lock meanwhile.
  const handOverAcks = new WeakMap<Worker, ReplicaAcknowledgement>();
  async function awaitHandOverReplicas(queue: string): Promise<'confirmed' | 'lost' | 'timed-out'> {
    const replicas = client.replicaAck.replicas;
    const consumer = consumers.get(queue);
    if (replicas === 0 || !consumer) return 'confirmed';
    let ack = handOverAcks.get(consumer);
    if (!ack) {
      ack = new ReplicaAcknowledgement((await consumer.backend.client) as unknown as Redis, replicas, keys.root);
      handOverAcks.set(consumer, ack);
    }
    // Long enough for Sentinel to drop a demoted master's clients (which marks the hand-over lost), short
    // enough that a replica that is down costs each task little.
    return ack.awaitReplicas(Math.min(2000, Math.round(lockDurationMs / 4)));
  }

  const limiter = options.queueRateLimit ? parseRate(options.queueRateLimit) : undefined;
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  const DurableWorker = withDurableFinish(BullWorker, {
    // seler's error goes into BullMQ's own failure write: a reader never sees FAILURE or RETRY without it.
    failureFields: (err) => {
      const error = taskErrors.get(err);
      return error && { [ERROR_FIELD]: JSON.stringify(error) };
    },
    // BullMQ stops renewing the lock before it records the finish: past half the lock another worker may hold the task.
    giveUpAfterMs: Math.round(lockDurationMs / 2),
    onFirstRetry: (job, what, err) => logger.warn({ taskId: job.id, task: job.name, err: err.message }, `Redis did not take the task's ${what} state yet; trying again`),
  });
  function consume(queue: string): void {
    client.queue(queue); // registers the queue name so results can be found
    const worker = new DurableWorker(queue, processor, {
      connection: createRedis(options.redisTarget, { name: `seler-worker-${queue}`, maxRetriesPerRequest: null }),
      prefix: client.bullPrefix,
      concurrency,
      name: workerName,
      lockDuration: lockDurationMs,
      stalledInterval: Math.max(1000, Math.round(lockDurationMs / 2)),
      maxStalledCount: 2,
      removeOnComplete: { age: client.retention.successSeconds },
      removeOnFail: { age: client.retention.failureSeconds },
      ...(limiter ? { limiter: { max: limiter.count, duration: limiter.periodMs } } : {}),
    });
    worker.on('completed', (job) => {
      stats.processed++;
      if (!logger.isLevelEnabled('info')) return;
      logger.info({ taskId: job.id, task: job.name, runtimeMs: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined }, 'task succeeded');
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const revokedTask = err.message.startsWith(REVOKED_PREFIX);
      const willRetry = !revokedTask && !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
      const type = revokedTask ? 'revoked' : willRetry ? 'retried' : 'failed';
      if (type === 'failed') stats.failed++;
      logger[willRetry || revokedTask ? 'warn' : 'error']({ taskId: job.id, task: job.name, err: err.message, attempt: job.attemptsMade }, `task ${type}`);
      if (revokedTask) return; // revoke() or the expiry check sent the 'revoked' event with its reason
      const now = Date.now();
      // How long the failed attempt ran, so the monitor's list shows what the task's page shows.
      const runtimeMs = type === 'failed' && job.processedOn ? (job.finishedOn ?? now) - job.processedOn : undefined;
      client.events.emit({ type, taskId: job.id!, name: job.name, queue, ts: now, data: { message: err.message, attempt: job.attemptsMade, ...(runtimeMs !== undefined ? { runtimeMs } : {}) } });
    });
    // A lost connection is reported once for the process (watchRedisConnection), not once per queue and retry.
    worker.on('error', (err) => logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: errorMessage(err), queue }, 'worker connection error'));
    consumers.set(queue, worker);
  }
  for (const queue of options.queues) consume(queue);

  await writeHeartbeat(client.redis, keys, info());
  const heartbeat = setInterval(() => void writeHeartbeat(client.redis, keys, info()).catch(() => {}), HEARTBEAT_MS);
  logger.info({ queues: options.queues, concurrency: options.concurrency, pool, worker: workerName }, 'worker ready');

  return {
    name: workerName,
    get queues() {
      return [...consumers.keys()];
    },
    activeCount: () => active.size,
    async close() {
      // Warm shutdown: stop taking work and let running tasks finish, up to the timeout; tasks still
      // running after it are handed back (moved to wait) so another worker runs them at once. Every
      // step that talks to Redis is bounded: a dead or hung Redis must not keep the process alive.
      const deadline = Date.now() + options.shutdownTimeoutMs;
      const workers = [...consumers.values()];
      const closing = Promise.all(workers.map((w) => w.close()));
      void closing.catch(() => {});
      // BullMQ's close may wait on a dead connection after the last task ended: being idle is enough.
      const idle = (async () => {
        while (active.size > 0 && Date.now() < deadline) await sleepMs(50);
        if (active.size === 0) await sleepMs(Math.min(1000, Math.max(0, deadline - Date.now())));
      })();
      const outcome = await Promise.race([
        closing.then(() => 'closed' as const),
        idle.then(() => (active.size === 0 ? ('idle' as const) : ('timeout' as const))),
        sleepMs(options.shutdownTimeoutMs).then(() => 'timeout' as const),
      ]);
      if (outcome === 'timeout' && active.size > 0) {
        logger.warn({ active: [...active.keys()] }, 'shutdown timeout: handing back the tasks still running');
        await bounded(handBack([...active.values()].map((a) => a.job)), 1500);
        for (const task of active.values()) task.abort('worker shutting down');
        // BullMQ's close keeps waiting for those tasks; the connections are cut below instead.
      }
      clearInterval(heartbeat);
      await bounded(executor.close(), 2000);
      await bounded(Promise.all(workers.map((w) => w.disconnect().catch(() => {}))), 1000);
      if (client.redis.status === 'ready') await bounded(removeWorker(client.redis, keys, workerName).catch(() => {}), 500);
      subscriber.disconnect();
      logger.info({ worker: workerName }, 'worker stopped');
    },
  };

  async function handBack(jobs: Job[]): Promise<void> {
    await Promise.all(
      jobs.map(async (job) => {
        try {
          await job.moveToWait(job.token);
        } catch (err) {
          logger.warn({ taskId: job.id, err: errorMessage(err) }, 'could not hand a task back; stalled-job recovery will');
        }
      }),
    );
  }
}

/** A task a worker runs: its bookkeeping and its executor hooks, made once per task with everything lazy on the prototype. */
class RunningTask implements ExecutionHooks {
  readonly startedAt = Date.now();
  private controller?: AbortController;
  private taskLog?: Logger;

  /** Lines of ctx.log kept in this run, lines dropped over the cap, and the writes in flight (in order). */
  private logLines = 0;
  private logDropped = 0;
  private logWrites?: Promise<void>;

  constructor(
    readonly job: Job,
    private readonly logger: Logger,
    private readonly appendLog: (line: string) => Promise<unknown>,
  ) {}

  /** Made on first use: a no-op task never pays for an AbortController. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** A child logger costs more than a no-op task: made only when something logs. */
  get log(): Logger {
    return (this.taskLog ??= this.logger.child({ taskId: this.job.id, task: this.job.name }));
  }

  progress(progress: TaskProgress): Promise<void> {
    return this.job.updateProgress(progress);
  }

  keepLogLine(line: string): void {
    if (this.logLines >= TASK_LOG_MAX_LINES) {
      this.logDropped++;
      return;
    }
    this.logLines++;
    this.writeLog(line);
  }

  keepLogDropped(count: number): void {
    this.logDropped += count;
  }

  /** Chained, not only pipelined: the first write may be retried (a script not loaded yet) after the second went out. */
  private writeLog(line: string): void {
    const write = () => this.appendLog(line).then(
      () => {},
      (err: unknown) => this.log.debug({ err: errorMessage(err) }, 'keeping a task log line failed'),
    );
    this.logWrites = this.logWrites ? this.logWrites.then(write) : write();
  }

  /** Says how many lines the cap dropped; the lines still being written (undefined when the task kept none: no timer, no await). */
  flushLog(): Promise<void> | undefined {
    if (this.logDropped) this.writeLog(droppedLine(this.logDropped));
    this.logDropped = 0;
    return this.logWrites;
  }

  abort(reason: string): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}

/** Canvas: the result of the previous task of a chain, or the ordered results of a chord's header. */
async function resultsOfDependencies(job: Job, payload: JobPayload): Promise<unknown> {
  const values = (await job.getChildrenValues()) as Record<string, unknown>;
  const byId = new Map(Object.entries(values).map(([key, value]) => [key.slice(key.lastIndexOf(':') + 1), value]));
  if (payload.receives?.kind === 'chord') return payload.receives.order.map((id) => byId.get(id));
  return [...byId.values()][0];
}

/** Waits for `promise`, at most `ms`; what it was doing goes on without us. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  promise.catch(() => {});
  await Promise.race([promise, sleepMs(ms)]);
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The default answer to a `shutdown` control: this process's SIGTERM handling (its warm shutdown).
 * On Windows `process.kill(process.pid, 'SIGTERM')` ends the process at once, handlers or not, so
 * there the handlers are called directly; with none, the process ends as on SIGTERM.
 */
function sigtermSelf(): void {
  if (process.platform === 'win32' && process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  else process.kill(process.pid, 'SIGTERM');
}
