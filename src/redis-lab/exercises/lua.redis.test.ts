import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { lua } from './lua.js';
import { GRANT_TO_GROUP } from './lua-scripts.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

const run = async (prefix: string, flushScripts: boolean) => {
  const { exercises } = await runExercises([lua], labSettings(testRedisUrl(), { prefix, flushScripts }));
  const result = exercises[0]!;
  expect(result.error).toBeUndefined();
  expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  return result.facts as Record<string, any>;
};

describe('lab lua', () => {
  it('runs the lab scripts and falls back from NOSCRIPT for a script never loaded', async () => {
    const facts = await run(uniquePrefix('lab-lua'), false);
    expect(facts.hello).toBe('Hello from Lua inside Redis');
    expect(facts.echoed).toEqual([expect.stringMatching(/:lua:first$/), expect.stringMatching(/:lua:second$/), 'alpha', 'beta']);
    expect(facts.squares).toEqual([1, 4, 9, 16, 25]);
    expect(facts.jsonSum).toBe(7);
    expect(facts.key2).toBe('15');
    expect(facts.permissions).toEqual({ granted: true, grantedTo: ['ala', 'bartek'], refusedUnknown: true, unknownGrantedTo: [] });
    expect(facts.evalsha).toMatchObject({ flushed: false, noscriptSeen: true, reply: 2 });
  });

  it('EVALSHA after SCRIPT FLUSH still works through the fallback', async () => {
    const facts = await run(uniquePrefix('lab-lua-flush'), true);
    expect(facts.evalsha).toMatchObject({ flushed: true, noscriptSeen: true, reply: 2 });
    // The fallback loaded the flushed script again.
    expect(await redis.call('SCRIPT', 'EXISTS', facts.evalsha.sha)).toEqual([1]);
  });

  it('the permission script grants exactly the members of the group, and only a known permission', async () => {
    const p = uniquePrefix('lab-grant');
    const known = `${p}:permissions`;
    const group = `${p}:group:ops`;
    const users = `${p}:user:`;
    await redis.sadd(known, 'deploy', 'read');
    await redis.sadd(group, 'u1', 'u2', 'u3');
    await redis.sadd(`${users}outsider`, 'read');
    const grant = (permission: string) => redis.eval(GRANT_TO_GROUP, 2, known, group, permission, users);

    expect([1, true]).toContain(await grant('deploy'));
    for (const user of ['u1', 'u2', 'u3']) expect(await redis.smembers(`${users}${user}`)).toEqual(['deploy']);
    expect(await redis.smembers(`${users}outsider`)).toEqual(['read']);

    expect([null, false]).toContain(await grant('launch-missiles'));
    for (const user of ['u1', 'u2', 'u3', 'outsider']) expect(await redis.sismember(`${users}${user}`, 'launch-missiles')).toBe(0);
    await deleteKeys(redis, `${p}:*`);
  });
});
