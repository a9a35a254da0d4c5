// The bed on a Redis Cluster (3 masters + 3 replicas on the redis host), two worker hosts and a client,
// on REDIS_URL=redis+cluster://…?waitReplicas=1: a manual CLUSTER FAILOVER and a kill -9 of the master
// that owns seler's slot, under load; neither loses an acknowledged task.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Bed, faultUnderLoad, restartRedis, startBedCluster, startSeler, type Host } from './bed/index.js';
import { redisCli, type RedisClusterBed } from '../helpers/redis-topologies.js';

const CONCURRENCY = 4;
const LOCK_SECONDS = 4;
/** Every key of seler carries this hash tag, so one master owns them all. */
const SLOT_KEY = '{seler}';

let bed: Bed;
let cluster: RedisClusterBed;
let agent: Agent;
const hosts: Record<string, Host> = {};
const workers = () => [hosts['worker-1']!, hosts['worker-2']!];

beforeAll(async () => {
  bed = await Bed.create('cluster');
  for (const name of ['redis', 'client', 'worker-1', 'worker-2']) hosts[name] = await bed.addHost(name);
  cluster = await startBedCluster(hosts.redis!);
  // waitReplicas=1: an enqueue answers once the slot's replica holds the task (WAIT on the slot's master).
  const env = { REDIS_URL: `${cluster.url}?waitReplicas=1`, SELER_LOCK_DURATION: String(LOCK_SECONDS), SELER_SHUTDOWN_TIMEOUT: '5' };
  await Promise.all(workers().map((h) => startSeler(h, 'worker', { env, args: ['-c', String(CONCURRENCY)] })));
  agent = await Agent.start(hosts.client!, { REDIS_URL: env.REDIS_URL });
});

afterAll(async () => {
  await agent?.close();
  await bed?.teardown();
});

// Each scenario starts from a healthy cluster whose masters all have their replica.
beforeEach(async () => cluster?.healthy(60_000));

describe('Redis Cluster', () => {
  it("CLUSTER FAILOVER of seler's slot under load: no acknowledged task lost", async () => {
    const run = await faultUnderLoad({
      label: 'Cluster manual FAILOVER of the slot owner under load',
      agent,
      workers: workers(),
      idPrefix: 'cfo',
      durationMs: 6000,
      faultAfterMs: 2000,
      fault: async () => {
        const owner = await cluster.ownerOf(SLOT_KEY);
        const replica = (await cluster.replicaOf(owner))!;
        expect(await redisCli(replica, 'CLUSTER', 'FAILOVER')).toBe('OK');
        let now = owner;
        while (now.port === owner.port) {
          await sleep(100);
          now = await cluster.ownerOf(SLOT_KEY).catch(() => owner);
        }
        return { ownerFrom: owner.port, ownerTo: now.port };
      },
    });
    expect(run.fault.ownerTo).not.toBe(run.fault.ownerFrom);
    expect(run.tally.acknowledged).toBeGreaterThan(200);
    expect(run.tally.lost).toBe(0);
    expect(run.settled.missing).toEqual([]);
    expect(run.settled.states.SUCCESS).toBe(run.tally.acknowledged);
    expect(run.tally.extraExecutions).toBeLessThanOrEqual(2 * CONCURRENCY);
  });

  it("kill -9 of the master that owns seler's slot under load (it comes back as a replica)", async () => {
    const run = await faultUnderLoad({
      label: 'Cluster slot owner killed -9 under load',
      agent,
      workers: workers(),
      idPrefix: 'ckill',
      durationMs: 10_000,
      faultAfterMs: 2000,
      settleTimeoutMs: 90_000,
      fault: async () => {
        const owner = await cluster.ownerOf(SLOT_KEY);
        const killedAt = Date.now();
        owner.kill('SIGKILL');
        let now = owner;
        while (now.port === owner.port) {
          await sleep(100);
          now = await cluster.ownerOf(SLOT_KEY).catch(() => owner);
        }
        const promotedAfterMs = Date.now() - killedAt;
        await restartRedis(hosts.redis!, owner, `redis-${owner.port}-again`);
        return { ownerFrom: owner.port, ownerTo: now.port, promotedAfterMs };
      },
    });
    expect(run.fault.ownerTo).not.toBe(run.fault.ownerFrom);
    expect(run.tally.acknowledged).toBeGreaterThan(200);
    // Worker writes the dead master took but had not replicated are gone too: those tasks (in flight at
    // the kill) run again. A task that finished while the slot moved is recorded once the new owner takes
    // writes: none ends FAILURE for it.
    expect(run.tally.maxExecutionsPerTask).toBeLessThanOrEqual(2);
    expect(run.tally.extraExecutions).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(run.settled.states).toEqual({ SUCCESS: run.tally.acknowledged });
    // With waitReplicas=1 nothing the dead master acknowledged was only on it.
    expect(run.settled.unfinished).toEqual([]);
    expect(run.tally.lost).toBe(0);
  });
});
