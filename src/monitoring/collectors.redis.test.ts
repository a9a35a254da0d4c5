import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { startWorkerRole } from '../app.js';
import { collectQueues, collectWorkers, GONE_KEPT_MS } from './collectors.js';
import { monKeys } from './keys.js';

describe('the worker and queue collectors', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ web: false, worker: false });
  });
  afterAll(async () => app?.close());

  it('shows a running worker online from its heartbeat, then gone (stopped) after it shuts down', async () => {
    const { redis, client } = app.runtime;
    const mk = monKeys(client.keys);
    const worker = await startWorkerRole(app.runtime, { queues: ['mon-w'], concurrency: 3 });
    let workers = await collectWorkers(redis, client.keys, mk);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ name: worker.name, status: 'online', goneReason: null, goneAt: null, pid: process.pid, queues: ['mon-w'], concurrency: 3, pool: 'async', active: 0 });
    expect(workers[0]!.memoryRss).toBeGreaterThan(10_000_000);
    expect(Date.now() - Date.parse(workers[0]!.lastHeartbeat)).toBeLessThan(10_000);

    const { id } = await client.enqueue('demo.add', { args: [1, 2], queue: 'mon-w' });
    await waitFor(async () => (await client.getTask(id))?.status === 'SUCCESS');
    await waitFor(async () => (await collectWorkers(redis, client.keys, mk))[0]!.processed === 1, 10_000, 200);

    await worker.close();
    workers = await collectWorkers(redis, client.keys, mk);
    expect(workers).toMatchObject([{ name: worker.name, status: 'gone', goneReason: 'stopped', processed: 1, active: 0 }]);
    expect(Date.now() - Date.parse(workers[0]!.goneAt!)).toBeLessThan(5000);
    // Gone workers are listed for an hour, then forgotten.
    expect(await collectWorkers(redis, client.keys, mk, Date.now() + GONE_KEPT_MS + 60_000)).toEqual([]);
    expect(await redis.hlen(mk.workers)).toBe(0);
  });

  it('shows a worker whose heartbeat stopped as gone (lost)', async () => {
    const { redis, client } = app.runtime;
    const mk = monKeys(client.keys);
    const beat = Date.now() - 60_000;
    const info = { name: 'host:1:lost', host: 'host', pid: 1, queues: ['default'], concurrency: 4, pool: 'process', active: 2, processed: 7, failed: 1, startedAt: beat - 3600_000, heartbeatAt: beat, rss: 123 };
    await redis.hset(client.keys.key('workers'), info.name, JSON.stringify(info));
    const workers = await collectWorkers(redis, client.keys, mk);
    expect(workers).toEqual([
      expect.objectContaining({ name: 'host:1:lost', status: 'gone', goneReason: 'lost', goneAt: new Date(beat).toISOString(), active: 0, processed: 7, failed: 1, uptimeSeconds: 3600, memoryRss: 123 }),
    ]);
    await redis.hdel(client.keys.key('workers'), info.name);
  });

  it('counts a queue’s tasks by state and finds the oldest waiting one', async () => {
    const { client } = app.runtime;
    const mk = monKeys(client.keys);
    const first = await client.enqueue('demo.add', { args: [1, 1], queue: 'mon-q' });
    await client.enqueue('demo.add', { args: [2, 2], queue: 'mon-q' });
    await client.enqueue('demo.add', { args: [3, 3], queue: 'mon-q', countdown: 600 });
    await client.enqueue('demo.add', { args: [4, 4], queue: 'mon-q', priority: 3 });
    const queues = await collectQueues(client, mk, []);
    const q = queues.find((x) => x.name === 'mon-q')!;
    expect(q.counts).toEqual({ waiting: 2, active: 0, delayed: 1, prioritized: 1, completed: 0, failed: 0, waitingChildren: 0 });
    const stamp = Number(await app.runtime.redis.hget(`${client.bullPrefix}:mon-q:${first.id}`, 'timestamp'));
    expect(q.oldestWaitingSince).toBe(new Date(stamp).toISOString());
    expect(q.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
    expect(q).toMatchObject({ paused: false, workers: 0, throughput: { lastMinute: 0, lastHour: 0 } });
    expect(q.throughput.series).toHaveLength(60);
    expect(queues.map((x) => x.name)).toContain('default');
    await client.queue('mon-q').pause();
    expect((await collectQueues(client, mk, [])).find((x) => x.name === 'mon-q')!.paused).toBe(true);
  });
});
