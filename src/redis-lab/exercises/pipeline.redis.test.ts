import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { INCRS, pipeline } from './pipeline.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

describe('lab pipeline', () => {
  it('both ways count to 10,001; MULTI/EXEC runs queued commands as one block and WATCH aborts it', async () => {
    const prefix = uniquePrefix('lab-pipeline');
    const { exercises } = await runExercises([pipeline], labSettings(testRedisUrl(), { prefix, rounds: 2 }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    const facts = result.facts as Record<string, any>;
    expect(INCRS).toBe(10_001);
    expect(facts.count).toBe(INCRS);
    expect(facts.oneByOneMs).toHaveLength(2);
    expect(facts.pipelinedMs).toHaveLength(2);
    // The speed-up is reported, not asserted: on a loaded test machine timings say little.
    expect(facts.speedup).toBeGreaterThan(0);
    expect(facts.transaction).toEqual({ exec: [110, 120], watchedExec: null, final: '121' });
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });
});
