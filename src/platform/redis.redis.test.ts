import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateRedis, type PrivateRedis } from './private-redis.js';
import { checkRedisServer, connectRedis, redisOptionsFromUrl } from './redis.js';

describe('Redis URLs', () => {
  it('understands redis://, rediss:// and unix:// URLs', () => {
    expect(redisOptionsFromUrl('redis://:s%40cret@cache.local:6380/3')).toMatchObject({ host: 'cache.local', port: 6380, db: 3, password: 's@cret' });
    expect(redisOptionsFromUrl('rediss://u:p@h/0')).toMatchObject({ host: 'h', port: 6379, username: 'u', tls: {} });
    expect(redisOptionsFromUrl('unix:///var/run/redis.sock?db=2')).toMatchObject({ path: '/var/run/redis.sock', db: 2 });
    expect(() => redisOptionsFromUrl('http://x')).toThrow(/unsupported Redis URL scheme/);
    expect(() => redisOptionsFromUrl('not a url')).toThrow(/is not a Redis URL/);
  });

  it('an unreachable Redis fails within the connect timeout with one sentence', async () => {
    const started = Date.now();
    await expect(connectRedis('redis://127.0.0.1:1/0', { connectTimeoutMs: 1000 })).rejects.toThrow(/^Cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: .*[^.]\.$/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('the start-up check of the server', () => {
  let dir: string;
  let server: PrivateRedis;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seler-check-'));
    server = await ensurePrivateRedis(dir);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the private server and names a dangerous eviction policy', async () => {
    const redis = await connectRedis(server.url);
    try {
      const fine = await checkRedisServer(redis);
      expect(fine.problems).toEqual([]);
      expect(Number(fine.version.split('.')[0])).toBeGreaterThanOrEqual(6);
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const bad = await checkRedisServer(redis);
      expect(bad.problems).toEqual([expect.stringContaining('maxmemory-policy is "allkeys-lru"')]);
    } finally {
      redis.disconnect();
    }
  });
});
