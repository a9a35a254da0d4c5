// seler on a real Sentinel group (1 master + 2 replicas + 3 sentinels, started once for the file):
// tasks run through the master Sentinel names, and a SENTINEL FAILOVER under enqueueing loses no
// acknowledged task when REDIS_URL asks every replica to confirm each task (waitReplicas).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { startSentinelGroup, type SentinelGroup } from '../../test/helpers/redis-topologies.js';
import { bullKey } from '../tasks/bull-layout.js';
import { DEFAULT_QUEUE } from '../tasks/define-task.js';
import { loadConfig } from '../config.js';
import { openRuntime } from '../app.js';
import { silentLogger } from './logger.js';
import { checkRedisServer, connectRedis } from './redis.js';

let group: SentinelGroup;
beforeAll(async () => {
  group = await startSentinelGroup({ replicas: 2, serverConfig: ['min-replicas-max-lag 2'] });
}, 60_000);
afterAll(async () => group?.stop());

const settled = (app: TestApp, id: string) =>
  waitFor(async () => {
    const view = await app.runtime.client.getTask(id);
    return view && ['SUCCESS', 'FAILURE'].includes(view.status) ? view : undefined;
  });

/**
 * Enqueues from `producers` loops for `ms`, with a SENTINEL FAILOVER after `failoverAfterMs`; then
 * counts the acknowledged tasks (enqueue resolved) whose job is missing on the new master.
 */
async function enqueueThroughFailover(app: TestApp, options: { ms: number; failoverAfterMs: number; producers: number }) {
  const acknowledged: string[] = [];
  let refused = 0;
  const stopAt = Date.now() + options.ms;
  const producers = Array.from({ length: options.producers }, async () => {
    while (Date.now() < stopAt) {
      try {
        acknowledged.push((await app.runtime.client.enqueue('demo.noop')).id);
      } catch {
        refused++;
      }
    }
  });
  await new Promise((r) => setTimeout(r, options.failoverAfterMs));
  const before = await group.master();
  const after = await group.failover();
  await Promise.all(producers);
  await group.settled();
  const redis = app.runtime.redis;
  const exists = await Promise.all(acknowledged.map((id) => redis.exists(bullKey(app.runtime.client.bullPrefix, DEFAULT_QUEUE, id))));
  const lost = exists.filter((e) => e === 0).length;
  return { acknowledged: acknowledged.length, lost, refused, from: before.port, to: after.port };
}

describe('seler on Redis Sentinel', () => {
  it('runs tasks through the master the sentinels name', async () => {
    const app = await startTestApp({ env: { REDIS_URL: group.url }, web: false, worker: { concurrency: 2 } });
    try {
      const { id } = await app.runtime.client.enqueue('demo.add', { args: [2, 3] });
      expect((await settled(app, id)).result).toBe(5);
      expect(app.runtime.redisTarget).toMatchObject({ kind: 'sentinel', name: group.name });
    } finally {
      await app.close();
    }
  });

  it('warns at start-up when REDIS_URL does not ask replicas to confirm tasks, or asks for more than follow', async () => {
    const redis = await connectRedis(group.url);
    try {
      expect((await checkRedisServer(redis)).warnings).toEqual([expect.stringMatching(/^REDIS_URL has no waitReplicas: a Sentinel failover can lose tasks .* add \?waitReplicas=2 /)]);
      expect((await checkRedisServer(redis, { waitReplicas: 2 })).warnings).toEqual([]);
      expect((await checkRedisServer(redis, { waitReplicas: 3 })).warnings).toEqual([
        "REDIS_URL's waitReplicas is 3 but the Sentinel master has 2 connected replica(s): enqueues fail with 503 until enough replicas follow.",
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('an enqueue that not enough replicas confirm is refused as unavailable, not acknowledged', async () => {
    const app = await startTestApp({ env: { REDIS_URL: `${group.url}?waitReplicas=3` }, web: false, worker: false });
    try {
      await expect(app.runtime.client.enqueue('demo.noop')).rejects.toThrow(/^only 2 of the 3 replicas REDIS_URL's waitReplicas asks for confirmed the task within 1000 ms/);
    } finally {
      await app.close();
    }
  });

  it('a SENTINEL FAILOVER under enqueueing loses no acknowledged task when every replica must confirm it, and work goes on', async () => {
    const figures: string[] = [];
    const measured: Record<number, Awaited<ReturnType<typeof enqueueThroughFailover>>> = {};
    for (const waitReplicas of [0, 2]) {
      const app = await startTestApp({ env: { REDIS_URL: `${group.url}?waitReplicas=${waitReplicas}` }, web: false, worker: false });
      try {
        const run = await enqueueThroughFailover(app, { ms: 3000, failoverAfterMs: 1000, producers: 16 });
        measured[waitReplicas] = run;
        figures.push(`waitReplicas=${waitReplicas}: lost ${run.lost} of ${run.acknowledged} acknowledged (${run.refused} refused)`);
        expect(run.to).not.toBe(run.from);
        expect(run.acknowledged).toBeGreaterThan(100);
      } finally {
        await app.close();
      }
    }
    // The figures the README quotes: printed so a run shows what it measured.
    console.log(`SENTINEL FAILOVER, 2 replicas, failover detector on: ${figures.join('; ')}`);
    expect(measured[2]!.lost).toBe(0);
    // After the failovers a worker still takes work from whichever server is master now.
    const worker = await startTestApp({ env: { REDIS_URL: group.url }, web: false, worker: { concurrency: 2 } });
    try {
      const { id } = await worker.runtime.client.enqueue('demo.add', { args: [20, 22] });
      expect((await settled(worker, id)).result).toBe(42);
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('refuses a database the master does not have, naming REDIS_URL', async () => {
    const config = loadConfig({ REDIS_URL: `${group.url}?db=99`, SELER_DATA_DIR: '/tmp/seler-unused' }, '/tmp');
    await expect(openRuntime(config, silentLogger)).rejects.toThrow(/^REDIS_URL names database 99, which redis\+sentinel:\/\/.* does not have/);
  });
});
