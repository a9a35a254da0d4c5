// `seler call | result | inspect`: short clients of Redis. They load the task definitions (call only) and the
// task client, never the web server, the worker runtime, the database or sharp, so they answer at once.
import { createLogger } from '../platform/logger.js';
import { ConfigError, UsageError } from '../platform/errors.js';
import { closeRedis, createRedis, keyspace } from '../platform/redis.js';
import { connectConfiguredRedis, type RedisConnection } from '../redis-connection.js';
import {
  controlWorkers, getTaskDefinition, inspect, isValidTaskId, parseRate, registeredTasks, setRateLimit, taskIdProblem, TaskClient, type InspectCommand, type TaskView, type WorkerControl,
} from '../tasks/client-api.js';
import type { EnqueueOptions } from '../tasks/client.js';
import path from 'node:path';
import { config, refuseNewDefault } from './common.js';

async function withClient<T>(fn: (client: TaskClient, connection: RedisConnection) => Promise<T>, options: { tasks?: boolean } = {}): Promise<T> {
  const cfg = config();
  if (!cfg.redisTarget) refuseNewDefault(path.join(cfg.dataDir, 'redis'), 'private Redis (REDIS_URL is not set)');
  // stderr: stdout is the command's answer (an id, a result) for scripts to read.
  const logger = createLogger(process.env.SELER_LOG_LEVEL ?? 'warn', {}, { format: cfg.logFormat, destination: process.stderr });
  const connection = await connectConfiguredRedis(cfg, logger, 'seler-cli');
  try {
    if (options.tasks) await (await import('../task-modules.js')).loadTasks(cfg);
    const client = new TaskClient({
      redis: connection.redis,
      redisTarget: connection.target,
      keys: keyspace(cfg.redisPrefix),
      retention: { successSeconds: cfg.retention.successSeconds, failureSeconds: cfg.retention.failureSeconds },
      eventsMaxLen: cfg.eventsMaxLen,
      logger,
    });
    try {
      return await fn(client, connection);
    } finally {
      await client.close();
    }
  } finally {
    await closeRedis(connection.redis, 1000);
    await connection.server?.stop();
  }
}

export async function call(task: string, opts: EnqueueOptions): Promise<void> {
  await withClient(
    async (client, { target }) => {
      if (!registeredTasks().some((t) => t.name === task))
        throw new UsageError(`Unknown task "${task}". Registered tasks: ${registeredTasks().map((t) => t.name).join(', ')}.`);
      const { id } = await client.enqueue(task, opts);
      process.stdout.write(`${id}\n`);
      process.stderr.write(`Queued ${task} on Redis at ${target.display}.\n`);
    },
    { tasks: true },
  );
}

function printTask(view: TaskView): void {
  const out: Record<string, unknown> = { id: view.id, status: view.status };
  if (view.status === 'SUCCESS') out.result = view.result;
  if (view.error) out.error = view.error.traceback ? { code: view.error.code, message: view.error.message } : view.error;
  if (view.progress) out.progress = view.progress;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export async function result(id: string, opts: { wait?: number }): Promise<void> {
  if (!isValidTaskId(id)) throw new UsageError(`Not a task id: ${taskIdProblem(id)}.`);
  await withClient(async (client) => {
    const view = opts.wait ? await client.waitUntilReady(id, opts.wait * 1000) : await client.getTask(id);
    if (!view) throw new ConfigError(`No task with id "${id}" (it never existed or its result has expired).`);
    printTask(view);
    if (view.status === 'FAILURE' || view.status === 'REVOKED') process.exitCode = 1;
  });
}

function formatReply(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Array.isArray(reply)) return reply.length ? `\n${reply.map((r) => `   * ${typeof r === 'string' ? r : JSON.stringify(r)}`).join('\n')}` : 'none';
  return `\n${JSON.stringify(reply, null, 2).replace(/^/gm, '   ')}`;
}

export async function inspectWorkers(command: InspectCommand, opts: { timeout: number; json?: boolean }): Promise<void> {
  await withClient(async (client, { redis, target }) => {
    const blocking = createRedis(target, { name: 'seler-inspect', maxRetriesPerRequest: null });
    try {
      const replies = await inspect(redis, blocking, client.keys, command, opts.timeout * 1000);
      if (opts.json) process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
      else if (!replies.length) process.stdout.write('No worker answered.\n');
      else for (const { worker, reply } of replies) process.stdout.write(`-> ${worker}: ${formatReply(reply)}\n`);
      if (!replies.length) process.exitCode = 1;
    } finally {
      blocking.disconnect();
    }
  });
}

/** `seler control concurrency|add-consumer|cancel-consumer|shutdown`: one line per worker that answered; exit 1 when none did or one refused. */
export async function controlWorkersCommand(control: WorkerControl, opts: { destination?: string; timeout: number; json?: boolean }): Promise<void> {
  const destination = (opts.destination ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  await withClient(async (client, { redis, target }) => {
    const blocking = createRedis(target, { name: 'seler-control', maxRetriesPerRequest: null });
    try {
      const replies = await controlWorkers(redis, blocking, client.keys, control, destination, opts.timeout * 1000);
      if (opts.json) process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
      else
        for (const { worker, reply } of replies)
          process.stdout.write(reply.ok ? `-> ${worker}: ok, concurrency ${reply.concurrency}, queues ${reply.queues.join(', ') || 'none'}${reply.changed ? '' : ' (unchanged)'}\n` : `-> ${worker}: refused: ${reply.error}\n`);
      const missing = destination.filter((d) => !replies.some((r) => r.worker === d));
      if (missing.length) process.stderr.write(`seler: no answer from ${missing.join(', ')} (not online, or busier than --timeout).\n`);
      else if (!replies.length) process.stderr.write('seler: no worker answered.\n');
      if (!replies.length || missing.length || replies.some((r) => !r.reply.ok)) process.exitCode = 1;
    } finally {
      blocking.disconnect();
    }
  });
}

/** `seler control rate-limit <task> <rate|reset>`: kept in Redis, so workers started later apply it too. */
export async function rateLimitCommand(task: string, rate: string): Promise<void> {
  const reset = rate.trim() === 'reset';
  const value = rate.trim();
  if (!reset && value !== 'none') {
    try {
      parseRate(value);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  await withClient(
    async (client, { target }) => {
      if (!getTaskDefinition(task)) throw new ConfigError(`no registered task is named "${task}" (seler inspect registered lists them).`);
      await setRateLimit(client.redis, client.keys, task, reset ? null : value);
      const declared = getTaskDefinition(task)?.options.rateLimit;
      process.stdout.write(`${task}: ${reset ? `back to its declared limit (${declared ?? 'none'})` : value === 'none' ? 'no limit' : `at most ${value}`} on every worker (Redis ${target.display}).\n`);
    },
    { tasks: true },
  );
}

/** `seler control pause|resume <queue>`. */
export async function pauseQueueCommand(queue: string, pause: boolean): Promise<void> {
  if (!/^[\w.-]{1,100}$/.test(queue)) throw new UsageError(`queue name "${queue.slice(0, 100)}" may contain letters, digits, "_", "." and "-".`);
  await withClient(async (client, { target }) => {
    const known = await client.redis.smembers(client.keys.key('queues'));
    if (!known.includes(queue)) throw new ConfigError(`no queue named "${queue}" is known here (known: ${known.sort().join(', ') || 'none'}).`);
    const q = client.queue(queue);
    await (pause ? q.pause() : q.resume());
    process.stdout.write(`queue ${queue}: ${pause ? 'paused: no worker starts its tasks until "seler control resume"' : 'resumed'} (Redis ${target.display}).\n`);
  });
}
