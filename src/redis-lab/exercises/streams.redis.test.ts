import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { streams } from './streams.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

describe('lab streams', () => {
  it('re-reading from $ loses what was written between reads; resuming from the last id loses nothing', async () => {
    const prefix = uniquePrefix('lab-streams');
    const { exercises } = await runExercises([streams], labSettings(testRedisUrl(), { prefix, timeoutMs: 3000 }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    const facts = result.facts as Record<string, any>;
    expect(facts.readFromStart).toEqual({ added: 3, read: 3 });

    expect(facts.lostEntries).toEqual({ dollar: 6, resume: 0 });
    expect(facts.dollar).toMatchObject({ produced: 9, received: 3 });
    expect(facts.resume).toMatchObject({ produced: 7, received: 7, lost: [], leftInStream: 0 });

    expect(facts.groups).toEqual({ aliceGot: 2, pendingBeforeClaim: 1, bobGot: 1, claimedByBob: 1, pendingAfter: 0 });
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });
});
