import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateRedis, type PrivateRedis } from './private-redis.js';
import { waitFor } from '../../test/helpers/app.js';
import { redisServerPids } from '../../test/helpers/redis-processes.js';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { OUTAGE_GRACE_MS, checkRedisServer, connectRedis, isRedisUnavailableError, pingWithin, redisOptionsFromUrl } from './redis.js';

describe('Redis URLs', () => {
  it('turns redis://, rediss://, unix:// and Sentinel URLs into ioredis options', () => {
    expect(redisOptionsFromUrl('redis://:s%40cret@cache.local:6380/3')).toMatchObject({ host: 'cache.local', port: 6380, db: 3, password: 's@cret' });
    expect(redisOptionsFromUrl('rediss://u:p@h/0')).toMatchObject({ host: 'h', port: 6379, username: 'u', tls: {} });
    expect(redisOptionsFromUrl('unix:///var/run/redis.sock?db=2')).toMatchObject({ path: '/var/run/redis.sock', db: 2 });
    const sentinel = redisOptionsFromUrl('redis+sentinel://h1:26379,h2:26380/mymaster?db=1');
    expect(sentinel).toMatchObject({ sentinels: [{ host: 'h1', port: 26379 }, { host: 'h2', port: 26380 }], name: 'mymaster', db: 1, failoverDetector: true });
    expect(sentinel.reconnectOnError!(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(sentinel.reconnectOnError!(new Error('ERR wrong number of arguments'))).toBe(false);
    expect(() => redisOptionsFromUrl('http://x')).toThrow(/unsupported scheme/);
    expect(() => redisOptionsFromUrl('not a url')).toThrow(/is not a Redis URL/);
  });

  it('refuses a database the server does not have instead of writing into database 0', async () => {
    const url = testRedisUrl();
    await expect(connectRedis(`${url}${url.includes('?') ? '&' : '?'}db=99`)).rejects.toThrow(/^REDIS_URL names database 99, which .* does not have \(DB index is out of range; see "databases" in redis.conf\)\.$/);
    const fine = await connectRedis(`${url}${url.includes('?') ? '&' : '?'}db=15`);
    expect(await fine.client('INFO')).toMatch(/ db=15 /);
    fine.disconnect();
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

describe('a connection with a command timeout while Redis is down', () => {
  let dir: string;
  let server: PrivateRedis;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seler-outage-'));
    server = await ensurePrivateRedis(dir);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits out a short blip, fails fast (as "unavailable") in a real outage, and comes back by itself', async () => {
    const redis = await connectRedis(server.url, { commandTimeoutMs: 1500 });
    try {
      await redis.set('k', 'v');
      // A short blip: the command waits for the restart and succeeds.
      await server.stop();
      const during = redis.get('k');
      server = await ensurePrivateRedis(dir);
      expect(await during).toBe('v');

      // A real outage: after the grace period a command fails at once, with an error the HTTP layer maps to 503.
      await server.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_GRACE_MS + 300));
      const started = Date.now();
      const err = await redis.get('k').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(200);
      expect(isRedisUnavailableError(err)).toBe(true);
      await expect(pingWithin(redis, 1000)).rejects.toThrow(/not connected/);

      server = await ensurePrivateRedis(dir);
      await waitFor(async () => redis.status === 'ready', 10_000, 20);
      expect(await redis.get('k')).toBe('v');
      await pingWithin(redis, 1000);
    } finally {
      redis.disconnect();
    }
  }, 30_000);

  it('a hung Redis (SIGSTOP) fails a command after the timeout, not after a minute', async () => {
    const redis = await connectRedis(server.url, { commandTimeoutMs: 500 });
    const pid = redisServerPids(dir)[0]!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const err = await redis.get('k').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(isRedisUnavailableError(err)).toBe(true);
      await expect(pingWithin(redis, 300)).rejects.toThrow(/did not answer/);
    } finally {
      process.kill(pid, 'SIGCONT');
      redis.disconnect();
    }
  });

  it('tells connection errors from command errors', async () => {
    const redis = await connectRedis(server.url);
    try {
      const wrong = await redis.call('NO-SUCH-COMMAND').catch((e: unknown) => e);
      expect(isRedisUnavailableError(wrong)).toBe(false);
      expect(isRedisUnavailableError(new Error('Command timed out'))).toBe(true);
      expect(isRedisUnavailableError(Object.assign(new Error('connect ECONNREFUSED /x.sock'), { code: 'ECONNREFUSED' }))).toBe(true);
      expect(isRedisUnavailableError(new TypeError('x is undefined'))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
