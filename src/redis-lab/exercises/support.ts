// Small helpers the blocking and listening exercises share.
import { setTimeout as delay } from 'node:timers/promises';
import { parseRedisUrl, type Redis } from '../../platform/redis.js';
import type { LabContext } from '../types.js';

export class LabTimeout extends Error {
  override name = 'LabTimeout';
}

export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new Error('interrupted');
  }
}

/** Resolves when the signal aborts (a learner's Ctrl-C ends a --listen session). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Items pushed by event handlers (messages, notifications), taken one at a time with a bound. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.waiter?.();
  }

  async next(timeoutMs: number, what: string, signal: AbortSignal): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new LabTimeout(`${what} did not arrive within ${timeoutMs} ms`);
      if (signal.aborted) throw new Error('interrupted');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.items.shift() as T;
  }
}

/**
 * Waits until the connection `clientId` is blocked in a command (flag `b` in CLIENT LIST), so that
 * a write meant to wake it cannot overtake the blocking call. Returns false if `answered()` turns
 * true first (the call did not need to block). Where CLIENT is not allowed (some managed services),
 * a short pause has to do.
 */
export async function waitUntilBlocked(admin: Redis, clientId: number, ctx: LabContext, answered: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + ctx.settings.timeoutMs;
  while (Date.now() < deadline) {
    if (answered()) return false;
    let line: string;
    try {
      line = String(await admin.call('CLIENT', 'LIST', 'ID', clientId));
    } catch {
      await sleep(200, ctx.signal);
      return !answered();
    }
    if (/\bflags=\w*b/.test(line)) return true;
    await sleep(5, ctx.signal);
  }
  if (answered()) return false;
  throw new LabTimeout(`the blocking call was not seen blocked within ${ctx.settings.timeoutMs} ms`);
}

export async function clientId(redis: Redis): Promise<number> {
  return Number(await redis.call('CLIENT', 'ID'));
}

export type StreamEntry = { id: string; fields: string[] };

/** XREAD/XREADGROUP replies: `[[key, entries]]` in RESP2, `[key, entries]` when RESP3 maps are flattened. */
export function streamEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const pairs: unknown[][] = typeof reply[0] === 'string' ? chunk(reply, 2) : (reply as unknown[][]);
  return pairs.flatMap(([, entries]) => entriesOf(entries));
}

export function entriesOf(entries: unknown): StreamEntry[] {
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((entry): entry is [string, string[]] => Array.isArray(entry) && entry[1] !== null)
    .map(([id, fields]) => ({ id, fields }));
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** How to reach the same Redis from redis-cli, for the --listen hints. */
export function redisCliCommand(url: string, db: number): string {
  try {
    const target = parseRedisUrl(url);
    // redis-cli follows a Cluster's redirects with -c; for Sentinel, ask it where the master is first.
    if (target.kind === 'cluster') return `redis-cli -c -h ${target.nodes[0]!.host} -p ${target.nodes[0]!.port}`;
    if (target.kind === 'sentinel')
      return `redis-cli -h <master> -p <port>${db ? ` -n ${db}` : ''} (the master: redis-cli -h ${target.sentinels[0]!.host} -p ${target.sentinels[0]!.port} SENTINEL GET-MASTER-ADDR-BY-NAME ${target.name})`;
    const u = new URL(url);
    if (u.protocol.includes('unix')) return `redis-cli -s ${decodeURIComponent(u.pathname)}${db ? ` -n ${db}` : ''}`;
    if (u.password) u.password = '<password>';
    return `redis-cli -u ${u.toString()}`;
  } catch {
    return 'redis-cli';
  }
}
