// Per-task rate limits shared by every worker: a fixed window counter in Redis.
import { luaScript } from '../platform/lua.js';
import type { Redis } from '../platform/redis.js';

const TAKE_TOKEN = luaScript(import.meta.url, './lua/take-rate-token-1.lua');

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

export async function takeRateToken(redis: Redis, key: string, rate: Rate): Promise<number> {
  return TAKE_TOKEN.run<number>(redis, [key], [rate.count, rate.periodMs]);
}
