import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runLabCli } from '../cli.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { blocking } from './blocking.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

async function until(condition: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('lab blocking', () => {
  it('BRPOP on one connection returns the element an RPUSH on another pushed, within the bound', async () => {
    const prefix = uniquePrefix('lab-blocking');
    const timeoutMs = 3000;
    const started = Date.now();
    const { exercises } = await runExercises([blocking], labSettings(testRedisUrl(), { prefix, timeoutMs }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    expect(result.facts).toMatchObject({ element: 'job-1', list: `${prefix}:blocking:queue`, idleReply: null });
    const waited = result.facts.waitedMs as number;
    expect(waited).toBeGreaterThanOrEqual(250); // it really waited for the push…
    expect(waited).toBeLessThan(timeoutMs); // …and was woken by it, not by its timeout
    const brpop = result.steps.find((s) => s.command?.startsWith('BRPOP'));
    expect(brpop).toMatchObject({ client: 'consumer', reply: [`${prefix}:blocking:queue`, 'job-1'] });
    expect(Date.now() - started).toBeLessThan(timeoutMs + 2000);
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });

  it('--listen keeps popping what redis-cli would push, until stopped', async () => {
    const prefix = uniquePrefix('lab-blocking-listen');
    let stdout = '';
    const controller = new AbortController();
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stdout += t) };
    const running = runLabCli(['blocking', '--listen', '--timeout', '3', '--prefix', prefix], io, {
      redisUrl: async () => testRedisUrl(),
      signal: controller.signal,
    });
    await until(() => stdout.includes('Ctrl-C stops'));
    await redis.rpush(`${prefix}:blocking:queue`, 'from-outside');
    await until(() => stdout.includes('"from-outside"'));
    controller.abort();
    expect(await running).toBe(0);
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });
});
