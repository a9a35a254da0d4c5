// A real Redis for tests: the run's private server, a unique key prefix per test file, cleanup after.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { connectRedis, type Redis } from '../../src/platform/redis.js';

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A prefix no other test uses, so tests can run in parallel on one Redis. */
export function uniquePrefix(label = 't'): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export async function testRedis(): Promise<Redis> {
  return connectRedis(testRedisUrl(), { name: 'seler-test' });
}

/** Deletes every key of a prefix (SCAN, never KEYS or FLUSHDB). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
