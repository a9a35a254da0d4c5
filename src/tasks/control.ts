// Heartbeats and remote control through Redis: workers announce themselves every few seconds and answer
// `seler inspect` broadcasts (Celery's inspect/control) on the control channel.
import { randomUUID } from 'node:crypto';
import type { Keyspace, Redis } from '../platform/redis.js';
import type { WorkerInfo } from './contract.js';

export type { WorkerInfo } from './contract.js';

export const HEARTBEAT_MS = 2000;
/** A worker whose last heartbeat is older than this is gone. */
export const WORKER_GONE_MS = 3 * HEARTBEAT_MS + 1000;

export const INSPECT_COMMANDS = ['active', 'scheduled', 'registered', 'stats', 'ping'] as const;
export type InspectCommand = (typeof INSPECT_COMMANDS)[number];

/** Celery's `control` commands for one worker or several (Flower's worker page). */
export type WorkerControl =
  | { command: 'concurrency'; value: number }
  | { command: 'add-consumer'; queue: string }
  | { command: 'cancel-consumer'; queue: string }
  | { command: 'shutdown' };
export const WORKER_CONTROL_COMMANDS = ['concurrency', 'add-consumer', 'cancel-consumer', 'shutdown'] as const;
export const MAX_CONCURRENCY = 1000;

export type ControlReply = { ok: true; queues: string[]; concurrency: number; changed: boolean } | { ok: false; error: string };

export type ControlMessage =
  | { type: 'revoke'; id: string; reason?: string; terminate?: boolean }
  | { type: 'inspect'; command: InspectCommand; replyTo: string }
  | { type: 'control'; control: WorkerControl; destination?: string[]; replyTo: string }
  /** A task's rate limit changed (rate null: back to what the task declares); workers re-read it at once. */
  | { type: 'rate-limit'; task: string; rate: string | null };

export const workersKey = (keys: Keyspace) => keys.key('workers');
export const workersSeenKey = (keys: Keyspace) => keys.key('workers', 'seen');
export const controlChannel = (keys: Keyspace) => keys.key('control');

export async function writeHeartbeat(redis: Redis, keys: Keyspace, info: WorkerInfo): Promise<void> {
  await redis
    .multi()
    .hset(workersKey(keys), info.name, JSON.stringify(info))
    .zadd(workersSeenKey(keys), info.heartbeatAt, info.name)
    .exec();
}

export async function removeWorker(redis: Redis, keys: Keyspace, name: string): Promise<void> {
  await redis.multi().hdel(workersKey(keys), name).zrem(workersSeenKey(keys), name).exec();
}

/** Workers with a recent heartbeat; entries of workers gone for an hour are pruned on the way. */
export async function liveWorkers(redis: Redis, keys: Keyspace, now = Date.now()): Promise<WorkerInfo[]> {
  const stale = await redis.zrangebyscore(workersSeenKey(keys), '-inf', now - 3600_000);
  if (stale.length) await redis.multi().hdel(workersKey(keys), ...stale).zrem(workersSeenKey(keys), ...stale).exec();
  const names = await redis.zrangebyscore(workersSeenKey(keys), now - WORKER_GONE_MS, '+inf');
  if (!names.length) return [];
  const values = await redis.hmget(workersKey(keys), ...names);
  return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as WorkerInfo);
}

/** Every heartbeat entry, fresh or stale (liveWorkers() returns only the fresh ones). */
export async function workerHeartbeats(redis: Redis, keys: Keyspace): Promise<WorkerInfo[]> {
  const all = await redis.hgetall(workersKey(keys));
  const out: WorkerInfo[] = [];
  for (const value of Object.values(all)) {
    try {
      out.push(JSON.parse(value) as WorkerInfo);
    } catch {
      /* a malformed entry is skipped */
    }
  }
  return out;
}

/**
 * Broadcasts an inspect command and collects one reply per live worker (or what arrived before the
 * timeout). `blocking` must be a connection of its own: it waits in BLPOP.
 */
export async function inspect(
  redis: Redis,
  blocking: Redis,
  keys: Keyspace,
  command: InspectCommand,
  timeoutMs = 1500,
): Promise<{ worker: string; reply: unknown }[]> {
  const expected = (await liveWorkers(redis, keys)).length;
  return broadcast(redis, blocking, keys, (replyTo) => ({ type: 'inspect', command, replyTo }), expected, timeoutMs);
}

/**
 * Sends a control command to the named workers (all live ones when `destination` is empty) and
 * collects their replies; a worker that does not answer within the timeout is missing from them.
 */
export async function controlWorkers(
  redis: Redis,
  blocking: Redis,
  keys: Keyspace,
  control: WorkerControl,
  destination: string[] = [],
  timeoutMs = 3000,
): Promise<{ worker: string; reply: ControlReply }[]> {
  const expected = destination.length || (await liveWorkers(redis, keys)).length;
  const replies = await broadcast(redis, blocking, keys, (replyTo) => ({ type: 'control', control, ...(destination.length ? { destination } : {}), replyTo }), expected, timeoutMs);
  return replies as { worker: string; reply: ControlReply }[];
}

/** The rate limits set at run time (task name → "10/m", or "none" for no limit), shared by every worker. */
export const rateLimitsKey = (keys: Keyspace) => keys.key('rate-limits');

export async function setRateLimit(redis: Redis, keys: Keyspace, task: string, rate: string | null): Promise<void> {
  if (rate === null) await redis.hdel(rateLimitsKey(keys), task);
  else await redis.hset(rateLimitsKey(keys), task, rate);
  await redis.publish(controlChannel(keys), JSON.stringify({ type: 'rate-limit', task, rate } satisfies ControlMessage));
}

export async function rateLimitOverrides(redis: Redis, keys: Keyspace): Promise<Record<string, string>> {
  return redis.hgetall(rateLimitsKey(keys));
}

async function broadcast(
  redis: Redis,
  blocking: Redis,
  keys: Keyspace,
  message: (replyTo: string) => ControlMessage,
  expected: number,
  timeoutMs: number,
): Promise<{ worker: string; reply: unknown }[]> {
  const replyTo = keys.key('reply', randomUUID());
  await redis.publish(controlChannel(keys), JSON.stringify(message(replyTo)));
  const replies: { worker: string; reply: unknown }[] = [];
  const deadline = Date.now() + timeoutMs;
  while (replies.length < expected || expected === 0) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const popped = await blocking.blpop(replyTo, Math.max(0.01, left / 1000));
    if (!popped) break;
    replies.push(JSON.parse(popped[1]) as { worker: string; reply: unknown });
  }
  await redis.del(replyTo);
  return replies.sort((a, b) => a.worker.localeCompare(b.worker));
}

export async function sendReply(redis: Redis, replyTo: string, worker: string, reply: unknown): Promise<void> {
  await redis.multi().rpush(replyTo, JSON.stringify({ worker, reply })).expire(replyTo, 60).exec();
}
