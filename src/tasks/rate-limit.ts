// Per-task rate limits shared by every worker: a fixed window counter in Redis.
import type { Redis } from '../platform/redis.js';

export interface Rate {
  count: number;
  periodMs: number;
}

const PERIODS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10/m" → 10 per minute; also "/s", "/h", "/d" and a bare number meaning per second (Celery's forms). */
export function parseRate(text: string): Rate {
  const match = /^\s*(\d+)\s*(?:\/\s*([smhd]))?\s*$/.exec(text);
  if (!match || Number(match[1]) <= 0) throw new Error(`rate limit "${text}" must look like "10/s", "100/m", "1000/h" or "5000/d"`);
  return { count: Number(match[1]), periodMs: PERIODS[match[2] ?? 's']! };
}

/**
 * KEYS[1] the counter of the current window; ARGV[1] the limit, ARGV[2] the window length in ms.
 * Returns 0 when a start is allowed, else the ms until the window ends.
 */
const TAKE_TOKEN = `
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if used <= tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[2]) end
return ttl`;

export async function takeRateToken(redis: Redis, key: string, rate: Rate): Promise<number> {
  return (await redis.eval(TAKE_TOKEN, 1, key, rate.count, rate.periodMs)) as number;
}
