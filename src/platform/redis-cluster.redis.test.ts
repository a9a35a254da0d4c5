// seler on a real Redis Cluster (3 masters + 3 replicas, started once for the file): tasks run, every
// key sits in one hash slot, start-up checks every master, and a wrong URL is one sentence.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis as RawRedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullKey } from '../tasks/bull-layout.js';
import { DEFAULT_QUEUE } from '../tasks/define-task.js';
import { startTestApp, waitFor } from '../../test/helpers/app.js';
import { runCli } from '../../test/helpers/cli.js';
import { uniquePrefix } from '../../test/helpers/redis.js';
import { redisCli, startRedisCluster, type RedisClusterBed } from '../../test/helpers/redis-topologies.js';
import { openRuntime } from '../app.js';
import { loadConfig } from '../config.js';
import { silentLogger } from './logger.js';
import { LuaScript } from './lua.js';
import { clusterErrorSentence, connectRedis, isCluster, keyspace } from './redis.js';
import { monKeys } from '../monitoring/keys.js';
import { forgetTasks, listTasks } from '../monitoring/store.js';
import { takeRateToken } from '../tasks/rate-limit.js';
import { makeJpeg } from '../thumbnails/test-images.js';

let cluster: RedisClusterBed;
let dir: string;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  dir = mkdtempSync(path.join(tmpdir(), 'seler-cluster-app-'));
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function keysOn(node: { host: string; port: number }, pattern: string): Promise<string[]> {
  const out = await redisCli(node, '--scan', '--pattern', pattern);
  return out ? out.split('\n') : [];
}

describe('seler on Redis Cluster', () => {
  it('runs tasks, serves the API, and keeps every key of its prefix on the one master that owns the hash slot', async () => {
    const prefix = uniquePrefix('cluster');
    const app = await startTestApp({ env: { REDIS_URL: cluster.url, SELER_REDIS_PREFIX: prefix }, worker: { concurrency: 2 } });
    try {
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => app.runtime.client.enqueue('demo.add', { args: [n, n] })));
      for (const [i, { id }] of ids.entries()) {
        const view = await waitFor(async () => {
          const v = await app.runtime.client.getTask(id);
          return v?.status === 'SUCCESS' ? v : undefined;
        });
        expect(view.result).toBe(2 * (i + 1));
      }
      // The thumbnail API end to end: upload, the task on a worker, the status over HTTP.
      const body = new FormData();
      body.append('images', new Blob([await makeJpeg({ width: 64, height: 48 })], { type: 'image/jpeg' }), 'photo.jpg');
      body.append('sizes', '32x32');
      const accepted = await fetch(`${app.baseUrl}/api/v1/thumbnails`, { method: 'POST', body });
      expect(accepted.status).toBe(202);
      const { statusUrl } = (await accepted.json()) as { statusUrl: string };
      const done = await waitFor(async () => {
        const view = (await (await fetch(new URL(statusUrl, app.baseUrl))).json()) as { status: string; result?: { files: unknown[] } };
        return view.status === 'SUCCESS' ? view : undefined;
      });
      expect(done.result!.files).toHaveLength(1);
      expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200);

      const owner = await cluster.ownerOf(`{${prefix}}`);
      const onOwner = await keysOn(owner, `{${prefix}}*`);
      expect(onOwner.length).toBeGreaterThan(5);
      // BullMQ's keys too: its prefix is the same hash tag.
      expect(onOwner.some((k) => k.startsWith(`{${prefix}}:default:`))).toBe(true);
      for (const other of cluster.masters.filter((m) => m !== owner)) expect(await keysOn(other, `*${prefix}*`)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('checks every master at start-up, naming the one that would evict', async () => {
    const victim = await cluster.notOwnerOf('{seler}');
    await redisCli(victim, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const config = loadConfig({ REDIS_URL: cluster.url, SELER_DATA_DIR: dir }, dir);
      await expect(openRuntime(config, silentLogger)).rejects.toThrow(
        new RegExp(`^${victim.host}:${victim.port}: Redis maxmemory-policy is "allkeys-lru": set it to "noeviction"`),
      );
    } finally {
      await redisCli(victim, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('refuses redis:// naming one node of the cluster with one sentence (CLI: exit 1, no stack)', async () => {
    const node = await cluster.notOwnerOf('{seler}');
    const result = await runCli(['call', 'demo.add', '--args', '[1,2]'], { env: { REDIS_URL: `redis://${node.host}:${node.port}/0`, SELER_DATA_DIR: dir } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'seler: REDIS_URL names one node of a Redis Cluster: write redis+cluster://host:port[,host:port…] so seler follows the cluster to the node that owns its keys.',
    );
  });

  it('refuses a database number on Cluster before connecting', async () => {
    const result = await runCli(['call', 'demo.add', '--args', '[1,2]'], { env: { REDIS_URL: `${cluster.url}/2`, SELER_DATA_DIR: dir } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^seler: REDIS_URL names a database \(.*\), but Redis Cluster has only database 0: remove "\/2"\.\n$/);
  });

  it('turns the real MOVED and CROSSSLOT replies into one sentence', async () => {
    const node = await cluster.notOwnerOf('{seler}');
    const plain = new RawRedis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await plain.connect();
      const moved = await plain.get('{seler}:x').catch((e: Error) => e);
      expect(clusterErrorSentence(moved)).toMatch(/^Redis answered MOVED: hash slot \d+ lives on 127\.0\.0\.1:\d+, another node of a Redis Cluster; set REDIS_URL=redis\+cluster:\/\//);
      const crossslot = await plain.mget('a', 'b').catch((e: Error) => e);
      expect(clusterErrorSentence(crossslot)).toMatch(/^Redis Cluster refused a command whose keys span several hash slots \(CROSSSLOT\)/);
      expect(clusterErrorSentence(new Error('ERR unknown command'))).toBeUndefined();
    } finally {
      plain.disconnect();
    }
  });

  it('runs the Lua scripts through defineCommand on a Cluster connection, each on the slot of its keys', async () => {
    const prefix = uniquePrefix('cluster-lua');
    const redis = await connectRedis(cluster.url);
    try {
      expect(isCluster(redis)).toBe(true);
      // A fixed key count (take-rate-token-1.lua).
      const rate = { count: 1, periodMs: 60_000 };
      expect(await takeRateToken(redis, `{${prefix}}:rate:t`, rate)).toBe(0);
      expect(await takeRateToken(redis, `{${prefix}}:rate:t`, rate)).toBeGreaterThan(0);
      // A variable key count (list-n.lua: four keys with a state filter) and the shared include (forget-ids-1.lua).
      const mk = monKeys(keyspace(prefix));
      const t0 = Date.now();
      await redis
        .multi()
        .zadd(mk.all, t0, 'task-1')
        .zadd(mk.state('SUCCESS'), t0, 'task-1')
        .hset(mk.sum, 'task-1', JSON.stringify({ n: 'demo.add', q: 'default', s: 'SUCCESS', t0 }))
        .exec();
      const page = await listTasks(redis, mk, { state: 'SUCCESS' });
      expect(page.items.map((t) => t.id)).toEqual(['task-1']);
      await forgetTasks(redis, mk, ['task-1']);
      expect((await listTasks(redis, mk, { state: 'SUCCESS' })).items).toEqual([]);
      expect(await redis.exists(mk.all, mk.sum)).toBe(0);
      const owner = await cluster.ownerOf(`{${prefix}}`);
      expect(await keysOn(owner, `{${prefix}}*`)).toEqual([`{${prefix}}:rate:t`]);
      // Keys of two slots in one script: refused, not run on one node with the other's key.
      const crossSlot = new LuaScript(fileURLToPath(new URL('../tasks/lua/job-snapshot-10.lua', import.meta.url)));
      const keys = Array.from({ length: 10 }, (_, i) => `{${prefix}-${i}}:x`);
      await expect(crossSlot.run(redis, keys, ['id', '0'])).rejects.toThrow(/CROSSSLOT|slot/i);
    } finally {
      redis.disconnect();
    }
  });

  // Last: it kills a master for good.
  it('follows the slot to the promoted replica when its master is killed (kill -9) under enqueueing, losing no acknowledged task (waitReplicas=1)', async () => {
    const prefix = uniquePrefix('cluster-failover');
    const app = await startTestApp({ env: { REDIS_URL: `${cluster.url}?waitReplicas=1`, SELER_REDIS_PREFIX: prefix }, web: false, worker: { concurrency: 2 } });
    let restarted: ChildProcess | undefined;
    try {
      const done = async (id: string) =>
        waitFor(async () => {
          const v = await app.runtime.client.getTask(id).catch(() => undefined);
          return v?.status === 'SUCCESS' ? v : undefined;
        }, 30_000);
      const before = await app.runtime.client.enqueue('demo.add', { args: [1, 1] });
      expect((await done(before.id)).result).toBe(2);
      const owner = await cluster.ownerOf(`{${prefix}}`);
      // A replica that has just (re)synced may not be listed at once on a loaded machine.
      const replica = await waitFor(() => cluster.replicaOf(owner), 20_000, 200);

      // Producers enqueue through the kill; an enqueue that fails is an error to its caller, not a loss.
      const acknowledged: string[] = [];
      let refused = 0;
      let stop = false;
      const producers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          try {
            acknowledged.push((await app.runtime.client.enqueue('demo.noop')).id);
          } catch {
            refused++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1000));
      owner.kill('SIGKILL');
      const killedAt = Date.now();
      // Once its replica is master, the dead host comes back (empty: no persistence here) and becomes the new
      // master's replica; until then no replica can confirm a task, so enqueues are refused, not lost.
      await waitFor(async () => (await cluster.ownerOf(`{${prefix}}`).catch(() => undefined)) === replica, 30_000, 200);
      restarted = spawn('redis-server', [path.join(owner.dir, 'redis.conf')], { stdio: 'ignore' });
      // Enqueue until it is accepted again (errors while the slot has no master are expected, and are errors, not losses).
      const after = await waitFor(async () => app.runtime.client.enqueue('demo.add', { args: [20, 22] }).catch(() => undefined), 30_000, 200);
      const stallMs = Date.now() - killedAt;
      await new Promise((r) => setTimeout(r, 1000));
      stop = true;
      await Promise.all(producers);
      expect((await done(after.id)).result).toBe(42);
      const exists = await Promise.all(acknowledged.map((id) => app.runtime.redis.exists(bullKey(app.runtime.client.bullPrefix, DEFAULT_QUEUE, id))));
      const lost = exists.filter((e) => e === 0).length;
      console.log(`cluster failover: enqueue accepted again ${stallMs} ms after kill -9 of the slot's master (cluster-node-timeout 2000); waitReplicas=1: lost ${lost} of ${acknowledged.length} acknowledged (${refused} refused)`);
      expect(acknowledged.length).toBeGreaterThan(100);
      expect(lost).toBe(0);
    } finally {
      await app.close().catch(() => {});
      restarted?.kill('SIGKILL');
    }
  }, 60_000);
});
