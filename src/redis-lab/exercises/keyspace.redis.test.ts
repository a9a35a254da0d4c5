import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runLabCli } from '../cli.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { acquireKeyspaceLock, keyspace, LOCK_KEY } from './keyspace.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

const signal = new AbortController().signal;
const setting = async () => ((await redis.call('CONFIG', 'GET', 'notify-keyspace-events')) as string[])[1];

/** Reads the setting while no keyspace run (of another test file) is changing it. */
async function quietSetting(): Promise<string | undefined> {
  const lock = await acquireKeyspaceLock(redis, 20_000, signal);
  try {
    return await setting();
  } finally {
    await lock.release();
  }
}

/** The test Redis's URL, logged in as another user (unix:// URLs need a host part to carry one). */
function urlForUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  if (u.protocol.includes('unix') && !u.host) return `unix://${user}:${password}@localhost${u.pathname}${u.search}`;
  u.username = user;
  u.password = password;
  return u.toString();
}

describe('lab keyspace', () => {
  it('delivers keyspace and keyevent notifications in order, then restores the server setting', async () => {
    const prefix = uniquePrefix('lab-keyspace');
    const before = await quietSetting();
    const { exercises } = await runExercises([keyspace], labSettings(testRedisUrl(), { prefix, timeoutMs: 15_000 }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    const facts = result.facts as Record<string, any>;
    expect(facts.previous).toBe(before);
    expect(facts.keyspaceEvents).toEqual(['set', 'append', 'lpush']);
    expect(facts.keyeventKeys).toEqual([`${prefix}:keyspace:a`, `${prefix}:keyspace:b`]);
    expect(facts.settingDuring).toMatch(/E/);
    expect(await quietSetting()).toBe(before);
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });

  it('explains and exits 1 without side effects where CONFIG is forbidden', async () => {
    const user = `no-config-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-config');
    const prefix = uniquePrefix('lab-keyspace-forbidden');
    // Held by the test: the refused run must not even need it, and nobody else changes the setting meanwhile.
    const lock = await acquireKeyspaceLock(redis, 20_000, signal);
    try {
      const before = await setting();
      let stderr = '';
      const started = Date.now();
      const code = await runLabCli(
        ['keyspace', '--prefix', prefix, '--redis-url', urlForUser(testRedisUrl(), user, password)],
        { stdout: () => {}, stderr: (t) => (stderr += t) },
        { redisUrl: async () => 'unused' },
      );
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(stderr).toMatch(/refuses CONFIG .*notify-keyspace-events.*Nothing was changed\./);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(await setting()).toBe(before);
      expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
    } finally {
      await lock.release();
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it('a server that allows CONFIG GET but not CONFIG SET: refused, lock released, nothing changed', async () => {
    const user = `no-config-set-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-config|set');
    const prefix = uniquePrefix('lab-keyspace-noset');
    try {
      const before = await quietSetting();
      let stderr = '';
      const code = await runLabCli(
        ['keyspace', '--prefix', prefix, '--timeout', '15', '--redis-url', urlForUser(testRedisUrl(), user, password)],
        { stdout: () => {}, stderr: (t) => (stderr += t) },
        { redisUrl: async () => 'unused' },
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/refuses CONFIG/);
      expect(await quietSetting()).toBe(before);
      expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
      // If the lock were still held, quietSetting() above would have waited for its TTL and failed.
      expect(await redis.pttl(LOCK_KEY)).toBeLessThan(0);
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });
});
