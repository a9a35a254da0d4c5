// The worker runtime: consumes queues with BullMQ and runs registered task handlers.
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { createRedis, type Redis } from '../platform/redis.js';
import { CONTROL_CHANNEL, ERROR_FIELD, serializeError, type JobPayload, type TaskClient } from './client.js';
import { getTaskDefinition, type TaskContext, type TaskProgress } from './define-task.js';
import { REVOKED_PREFIX } from './states.js';

/** Thrown by a task for a failure that retrying cannot fix. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
  constructor(
    message: string,
    readonly code = 'permanent_failure',
  ) {
    super(message);
  }
}

export interface WorkerOptions {
  redisUrl: string;
  client: TaskClient;
  queues: string[];
  concurrency: number;
  logger: Logger;
  /** How long a warm shutdown waits for running tasks. */
  shutdownTimeoutMs: number;
}

export interface RunningWorker {
  readonly name: string;
  readonly queues: string[];
  activeCount(): number;
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { client, logger } = options;
  const workerName = `${hostname()}:${process.pid}`;
  const revoked = new Map<string, string>();
  const active = new Map<string, Job>();
  const workers: Worker[] = [];

  // Subscribe before loading the persisted revokes, so none published in between is missed.
  const subscriber = createRedis(options.redisUrl, { name: 'seler-worker-control', maxRetriesPerRequest: null });
  const controlChannel = client.keys.key(CONTROL_CHANNEL);
  subscriber.on('message', (_channel: string, message: string) => {
    try {
      const command = JSON.parse(message) as { type: string; id: string; reason?: string };
      if (command.type !== 'revoke') return;
      revoked.set(command.id, command.reason ?? 'revoked');
      if (active.has(command.id)) {
        for (const w of workers) w.cancelJob(command.id, command.reason ?? 'revoked');
      }
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'ignored a malformed control message');
    }
  });
  await subscriber.subscribe(controlChannel);
  const persisted = await client.redis.zrangebyscore(client.keys.key('revoked'), Date.now(), '+inf');
  for (const id of persisted) revoked.set(id, 'revoked');

  const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    const payload = (job.data ?? {}) as JobPayload;
    const queue = job.queueName;
    const log = logger.child({ taskId: job.id, task: job.name });
    const event = (type: 'received' | 'started' | 'progress' | 'revoked', data?: Record<string, unknown>) =>
      void client.events.append({ type, taskId: job.id!, name: job.name, queue, ts: Date.now(), data }).catch(() => {});

    const revokedReason = revoked.get(job.id!);
    if (revokedReason !== undefined) {
      log.info({ reason: revokedReason }, 'task discarded: revoked');
      throw new UnrecoverableError(REVOKED_PREFIX + revokedReason);
    }
    if (payload.expiresAt && Date.now() > payload.expiresAt) {
      const reason = `expired at ${new Date(payload.expiresAt).toISOString()} before it could start`;
      log.info({ reason }, 'task discarded: expired');
      event('revoked', { reason });
      throw new UnrecoverableError(REVOKED_PREFIX + reason);
    }
    const definition = getTaskDefinition(job.name);
    if (!definition) {
      const error = { code: 'unknown_task', message: `task "${job.name}" is not registered in this worker` };
      await client.redis.hset(jobKey(client, job), ERROR_FIELD, JSON.stringify(error));
      throw new UnrecoverableError(error.message);
    }

    active.set(job.id!, job);
    event('started', { worker: workerName, attempt: job.attemptsMade + 1 });
    log.info({ attempt: job.attemptsMade + 1 }, 'task started');
    const ctx: TaskContext = {
      id: job.id!,
      name: job.name,
      queue,
      attempt: job.attemptsMade + 1,
      signal: signal ?? new AbortController().signal,
      log,
      progress: async (progress: TaskProgress) => {
        await job.updateProgress(progress);
        event('progress', progress);
      },
    };
    try {
      return await definition.handler(payload.args ?? [], payload.kwargs ?? {}, ctx);
    } catch (err) {
      const error = serializeError(err);
      await client.redis.hset(jobKey(client, job), ERROR_FIELD, JSON.stringify(error)).catch(() => {});
      if (err instanceof PermanentFailure || (err as { status?: number }).status === 400 || (err as { status?: number }).status === 422)
        throw new UnrecoverableError(error.message);
      throw err;
    } finally {
      active.delete(job.id!);
    }
  };

  for (const queue of options.queues) {
    client.queue(queue); // registers the queue name so results can be found
    const worker = new Worker(queue, processor, {
      connection: createRedis(options.redisUrl, { name: `seler-worker-${queue}`, maxRetriesPerRequest: null }),
      prefix: client.bullPrefix,
      concurrency: options.concurrency,
      name: workerName,
      removeOnComplete: { age: client.retention.successSeconds },
      removeOnFail: { age: client.retention.failureSeconds },
    });
    worker.on('completed', (job, result) => {
      const runtimeMs = job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined;
      logger.info({ taskId: job.id, task: job.name, runtimeMs }, 'task succeeded');
      void client.events
        .append({ type: 'succeeded', taskId: job.id!, name: job.name, queue, ts: Date.now(), data: { runtimeMs, hasResult: result !== undefined } })
        .catch(() => {});
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const revokedTask = err.message.startsWith(REVOKED_PREFIX);
      const willRetry = !revokedTask && !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
      const type = revokedTask ? 'revoked' : willRetry ? 'retried' : 'failed';
      logger[willRetry ? 'warn' : 'error']({ taskId: job.id, task: job.name, err: err.message, attempt: job.attemptsMade }, `task ${type}`);
      if (revokedTask) return; // revoke() or the expiry check sent the 'revoked' event with its reason
      void client.events
        .append({ type, taskId: job.id!, name: job.name, queue, ts: Date.now(), data: { message: err.message, attempt: job.attemptsMade } })
        .catch(() => {});
    });
    worker.on('error', (err) => logger.warn({ err: errorMessage(err), queue }, 'worker connection error'));
    workers.push(worker);
  }
  logger.info({ queues: options.queues, concurrency: options.concurrency, worker: workerName }, 'worker ready');

  return {
    name: workerName,
    queues: options.queues,
    activeCount: () => active.size,
    async close() {
      // Warm shutdown: stop taking work and let running tasks finish, up to the timeout; what is still
      // running after it is left to BullMQ's stalled-job recovery, which hands it to another worker.
      const closing = Promise.all(workers.map((w) => w.close()));
      const timedOut = await Promise.race([closing.then(() => false), sleepMs(options.shutdownTimeoutMs).then(() => true)]);
      if (timedOut) {
        logger.warn({ active: [...active.keys()] }, 'shutdown timeout: stopping with tasks still running');
        for (const w of workers) w.cancelAllJobs('worker shutting down');
        await Promise.all(workers.map((w) => w.close(true)));
      }
      await Promise.all(workers.map((w) => w.disconnect().catch(() => {})));
      subscriber.disconnect();
      logger.info({ worker: workerName }, 'worker stopped');
    },
  };
}

function jobKey(client: TaskClient, job: Job): string {
  return `${client.bullPrefix}:${job.queueName}:${job.id}`;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
