import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createRedis } from '../platform/redis.js';
import { defineTask } from './define-task.js';
import { inspect, type TaskView } from './index.js';

declare module './define-task.js' {
  interface TaskTypes {
    'test.limited': { args: []; kwargs: Record<string, never>; result: number };
    'test.soft-limit': { args: []; kwargs: Record<string, never>; result: string };
    'test.ignores-signal': { args: []; kwargs: Record<string, never>; result: string };
  }
}

defineTask('test.limited', { rateLimit: '2/s' }, () => Date.now());
defineTask('test.soft-limit', { softTimeLimitMs: 200 }, async (_a, _k, ctx) => {
  try {
    await sleep(5000, undefined, { signal: ctx.signal });
    return 'not interrupted';
  } catch {
    return `cleaned up after ${(ctx.signal.reason as Error).name}`;
  }
});
defineTask('test.ignores-signal', { timeLimitMs: 300 }, async () => {
  await sleep(3000);
  return 'too late';
});

const settled = (app: TestApp, id: string, timeoutMs = 15_000) =>
  waitFor(async () => {
    const view = await app.runtime.client.getTask(id);
    return view && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(view.status) ? view : undefined;
  }, timeoutMs);

describe('in the async pool', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ web: false, worker: { concurrency: 4 } });
  });
  afterAll(async () => app?.close());

  it('retries when the task asks, with its countdown, then succeeds', async () => {
    const { id } = await app.runtime.client.enqueue('demo.flaky', { args: [3], kwargs: { countdown: 0.3 } });
    const seen = new Set<string>();
    const view = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      if (v) seen.add(v.status);
      return v?.status === 'SUCCESS' ? v : undefined;
    }, 15_000, 20);
    expect(view.result).toEqual({ attempt: 3 });
    expect(seen.has('RETRY')).toBe(true);
  });

  it('holds a per-task rate limit across the queue', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => app.runtime.client.enqueue('test.limited')));
    const views = await Promise.all(ids.map(({ id }) => settled(app, id)));
    const starts = views.map((v) => Date.parse(v.dateStarted!)).sort((a, b) => a - b);
    // 6 starts at 2 per second need at least two window changes.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThan(1000);
    expect(views.every((v) => v.status === 'SUCCESS')).toBe(true);
    // A task held back says so: `received` (waiting again) with when it may start and why.
    const mine = new Set(ids.map(({ id }) => id));
    const held = await waitFor(async () => {
      const events = (await app.runtime.client.readEvents('0-0', 100_000)).filter((e) => mine.has(e.taskId) && e.type === 'received');
      return events.length ? events : undefined;
    });
    expect(held[0]!.data).toMatchObject({ reason: 'rate limit', eta: expect.any(Number) });
  });

  it('aborts the signal at the soft time limit so the task can clean up', async () => {
    const { id } = await app.runtime.client.enqueue('test.soft-limit');
    expect((await settled(app, id)).result).toBe('cleaned up after SoftTimeLimitExceeded');
  });

  it('gives up a task at the hard time limit', async () => {
    const started = Date.now();
    const { id } = await app.runtime.client.enqueue('test.ignores-signal');
    const view: TaskView = await settled(app, id);
    expect(view.status).toBe('FAILURE');
    expect(view.error?.code).toBe('time_limit');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('fails a task no worker has registered, clearly', async () => {
    const { id } = await app.runtime.client.enqueue('nobody.knows.this');
    const view = await settled(app, id);
    expect(view.status).toBe('FAILURE');
    expect(view.error).toMatchObject({ code: 'unknown_task' });
  });

  it('answers inspect commands through Redis', async () => {
    const blocking = createRedis(app.runtime.redisTarget, { maxRetriesPerRequest: null });
    try {
      const keys = app.runtime.client.keys;
      expect(await inspect(app.runtime.redis, blocking, keys, 'ping')).toEqual([{ worker: app.worker!.name, reply: 'pong' }]);
      const [registered] = await inspect(app.runtime.redis, blocking, keys, 'registered');
      expect(registered!.reply).toEqual(expect.arrayContaining(['demo.add', 'thumbnails.make', 'test.limited']));
      const { id } = await app.runtime.client.enqueue('demo.sleep', { args: [1] });
      await waitFor(async () => (await app.runtime.client.getTask(id))?.status !== 'PENDING');
      const [active] = await inspect(app.runtime.redis, blocking, keys, 'active');
      expect(active!.reply).toEqual([expect.objectContaining({ id, name: 'demo.sleep', args: [1] })]);
      const [stats] = await inspect(app.runtime.redis, blocking, keys, 'stats');
      expect(stats!.reply).toMatchObject({ pool: 'async', concurrency: 4, pid: process.pid });
      await settled(app, id);
    } finally {
      blocking.disconnect();
    }
  });
});

describe('in the process pool', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ web: false, worker: { pool: 'process', concurrency: 1, maxTasksPerChild: 2, timeLimitSeconds: 1 } });
  });
  afterAll(async () => app?.close());

  it('runs tasks in child processes and replaces a child after max tasks per child', async () => {
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { id } = await app.runtime.client.enqueue('demo.spin', { args: [0] });
      const view = await settled(app, id);
      expect(view.status).toBe('SUCCESS');
      pids.push((view.result as { pid: number }).pid);
    }
    expect(pids.every((p) => p !== process.pid)).toBe(true);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[1]).not.toBe(pids[2]);
  });

  it('kills a child that passes the hard time limit, even in a busy loop, and keeps working', async () => {
    const started = Date.now();
    const { id } = await app.runtime.client.enqueue('demo.spin', { args: [20_000] });
    const view = await settled(app, id);
    expect(view.status).toBe('FAILURE');
    expect(view.error?.code).toBe('time_limit');
    // Killed, not run to the end: well before the 20 s spin would finish (a loaded machine starts children slowly).
    expect(Date.now() - started).toBeLessThan(15_000);
    const next = await app.runtime.client.enqueue('demo.add', { args: [1, 1] });
    expect((await settled(app, next.id)).result).toBe(2);
  });

  it('terminates a running task on revoke with terminate', async () => {
    const { id } = await app.runtime.client.enqueue('demo.spin', { args: [800] });
    await waitFor(async () => (await app.runtime.client.getTask(id))?.status === 'STARTED');
    await app.runtime.client.revoke(id, { terminate: true });
    const view = await settled(app, id);
    expect(view.status).toBe('REVOKED');
  });
});

describe('in the threads pool', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ web: false, worker: { pool: 'threads', concurrency: 2 } });
  });
  afterAll(async () => app?.close());

  it('runs tasks in worker threads', async () => {
    const { id } = await app.runtime.client.enqueue('demo.spin', { args: [10] });
    const view = await settled(app, id);
    expect(view.status, JSON.stringify(view.error)).toBe('SUCCESS');
    expect(view.result).toMatchObject({ pid: process.pid });
    expect((view.result as { threadId: number }).threadId).toBeGreaterThan(0);
  });

  it('hands a thread’s tasks what its bootstrap answered (ctx.resources): thumbnails.cleanup cleans this app’s store', async () => {
    const old = path.join(app.config.mediaDir, 'uploads', 'old-upload');
    writeFileSync(old, Buffer.alloc(10));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    const { id } = await app.runtime.client.enqueue('thumbnails.cleanup', { args: [3600] });
    const view = await settled(app, id);
    expect(view.status, JSON.stringify(view.error)).toBe('SUCCESS');
    expect(view.result).toEqual({ removed: 1, bytes: 10 });
    expect(existsSync(old)).toBe(false);
  });
});
