import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runLabCli } from '../cli.js';
import { runExercises } from '../runner.js';
import { labSettings } from '../settings.js';
import { pubsub } from './pubsub.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

describe('lab pubsub', () => {
  it('a message published before subscribing reaches no one; after SUBSCRIBE every message arrives in order', async () => {
    const prefix = uniquePrefix('lab-pubsub');
    const { exercises } = await runExercises([pubsub], labSettings(testRedisUrl(), { prefix, timeoutMs: 3000 }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    expect(result.facts).toMatchObject({
      unheardReceivers: 0,
      subscribedCount: 1,
      received: ['hello', 'second message', 'stop'],
      receivers: [1, 1, 1],
    });
    const confirmation = result.steps.find((s) => s.command?.startsWith('SUBSCRIBE'));
    expect(confirmation?.reply).toEqual(['subscribe', `${prefix}:pubsub:news`, 1]);
  });

  it('--listen shows messages published from outside, until stopped', async () => {
    const prefix = uniquePrefix('lab-pubsub-listen');
    const channel = `${prefix}:pubsub:news`;
    let stdout = '';
    const controller = new AbortController();
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stdout += t) };
    const running = runLabCli(['pubsub', '--listen', '--prefix', prefix], io, { redisUrl: async () => testRedisUrl(), signal: controller.signal });
    const deadline = Date.now() + 5000;
    while (!stdout.includes('Ctrl-C stops') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await redis.publish(channel, 'from redis-cli')).toBe(1);
    while (!stdout.includes('"from redis-cli"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await running).toBe(0);
    expect(stdout).toContain('"from redis-cli"');
    expect(await redis.publish(channel, 'after')).toBe(0); // unsubscribed and closed
  });
});
