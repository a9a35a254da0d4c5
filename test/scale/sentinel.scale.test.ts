// The bed on a Sentinel group (1 master + 2 replicas + 3 sentinels on the redis host), two worker hosts
// and a client, every seler process on REDIS_URL=redis+sentinel://…?waitReplicas=2: an enqueue is
// acknowledged only once both replicas hold the task. SENTINEL FAILOVER and kill -9 of the master
// under load: nothing acknowledged may be lost.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Bed, faultUnderLoad, restartRedis, startBedSentinel, startSeler, type Host } from './bed/index.js';
import type { SentinelGroup } from '../helpers/redis-topologies.js';

const CONCURRENCY = 4;
// 8 s: a worker waits a quarter of the lock (2 s) for Sentinel to drop a demoted master's clients before it runs a task whose hand-over the replicas did not confirm.
const LOCK_SECONDS = 8;

let bed: Bed;
let group: SentinelGroup;
let agent: Agent;
const hosts: Record<string, Host> = {};
const workers = () => [hosts['worker-1']!, hosts['worker-2']!];

beforeAll(async () => {
  bed = await Bed.create('sentinel');
  for (const name of ['redis', 'client', 'worker-1', 'worker-2']) hosts[name] = await bed.addHost(name);
  group = await startBedSentinel(hosts.redis!, { serverConfig: ['min-replicas-max-lag 2'] });
  const env = { REDIS_URL: `${group.url}?waitReplicas=2`, SELER_LOCK_DURATION: String(LOCK_SECONDS), SELER_SHUTDOWN_TIMEOUT: '5' };
  await Promise.all(workers().map((h) => startSeler(h, 'worker', { env, args: ['-c', String(CONCURRENCY)] })));
  agent = await Agent.start(hosts.client!, { REDIS_URL: env.REDIS_URL });
});

afterAll(async () => {
  await agent?.close();
  await bed?.teardown();
});

// Each scenario starts from a whole group (every replica online), even after one that failed.
beforeEach(async () => group?.settled(60_000));

describe('Sentinel', () => {
  it('SENTINEL FAILOVER under load: no acknowledged task lost, workers follow the new master', async () => {
    const run = await faultUnderLoad({
      label: 'Sentinel FAILOVER under load (waitReplicas=2)',
      agent,
      workers: workers(),
      idPrefix: 'sfo',
      durationMs: 6000,
      faultAfterMs: 2000,
      fault: async () => {
        const before = await group.master();
        const after = await group.failover();
        return { masterFrom: before.port, masterTo: after.port };
      },
    });
    expect(run.fault.masterTo).not.toBe(run.fault.masterFrom);
    expect(run.tally.acknowledged).toBeGreaterThan(200);
    expect(run.tally.lost).toBe(0);
    expect(run.settled.missing).toEqual([]);
    expect(run.settled.states.SUCCESS).toBe(run.tally.acknowledged);
    // A task finished on the old master after the promotion is finished on the new one only when its lock
    // runs out, so it runs again; a worker runs no task whose hand-over the replicas did not confirm, so
    // only the tasks in flight at the fault (CONCURRENCY per worker host) can run twice, none more.
    expect(run.tally.maxExecutionsPerTask).toBeLessThanOrEqual(2);
    expect(run.tally.extraExecutions).toBeLessThanOrEqual(workers().length * CONCURRENCY);
  });

  it('kill -9 of the master under load (it comes back 5 s later as a replica): no acknowledged task lost', async () => {
    const run = await faultUnderLoad({
      label: 'Sentinel master killed -9 under load (waitReplicas=2)',
      agent,
      workers: workers(),
      idPrefix: 'skill',
      durationMs: 10_000,
      faultAfterMs: 2000,
      settleTimeoutMs: 90_000,
      fault: async () => {
        const master = await group.master();
        const server = group.servers.find((s) => s.port === master.port)!;
        const killedAt = Date.now();
        server.kill('SIGKILL');
        let promoted = master;
        while (promoted.port === master.port) {
          await sleep(100);
          promoted = await group.master().catch(() => master);
        }
        const promotedAfterMs = Date.now() - killedAt;
        await sleep(Math.max(0, 5000 - (Date.now() - killedAt)));
        await restartRedis(hosts.redis!, server, `redis-${server.port}-again`);
        return { masterFrom: master.port, masterTo: promoted.port, promotedAfterMs };
      },
    });
    expect(run.fault.masterTo).not.toBe(run.fault.masterFrom);
    expect(run.tally.lost).toBe(0);
    expect(run.settled.missing).toEqual([]);
    expect(run.settled.states.SUCCESS).toBe(run.tally.acknowledged);
    expect(run.tally.maxExecutionsPerTask).toBeLessThanOrEqual(2);
    expect(run.tally.extraExecutions).toBeLessThanOrEqual(workers().length * CONCURRENCY);
  });
});
