import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { silentLogger } from '../platform/logger.js';
import { TaskClient, type TaskEvent, type TaskView } from './index.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ web: false });
});
afterAll(async () => app?.close());

const settled = (id: string) =>
  waitFor(async () => {
    const view = await app.runtime.client.getTask(id);
    return view && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(view.status) ? view : undefined;
  });

describe('task layer core', () => {
  it('runs a task and stores its result under Celery state names', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [2, 3] });
    const view: TaskView = await settled(id);
    expect(view).toMatchObject({ id, name: 'demo.add', status: 'SUCCESS', result: 5, args: [2, 3], queue: 'default' });
    expect(Date.parse(view.dateDone!)).toBeGreaterThanOrEqual(Date.parse(view.dateCreated));
  });

  it('tells an unknown id apart from a pending one', async () => {
    expect(await app.runtime.client.getTask('no-such-task')).toBeNull();
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600 });
    expect((await app.runtime.client.getTask(id))?.status).toBe('PENDING');
    await app.runtime.client.revoke(id);
  });

  it('reports FAILURE with the error code and message', async () => {
    const { id } = await app.runtime.client.enqueue('demo.fail', { args: ['boom'], kwargs: { permanent: true } });
    const view = await settled(id);
    expect(view.status).toBe('FAILURE');
    expect(view.error).toMatchObject({ code: 'permanent_failure', message: 'boom' });
    expect(view.error?.traceback).toContain('PermanentFailure');
  });

  it('refuses arguments that do not match the task schema', async () => {
    await expect(app.runtime.client.enqueue('demo.add', { args: ['x', 1] })).rejects.toMatchObject({ status: 400, code: 'invalid_args' });
  });

  it('revokes a waiting task so it never runs, and the revoke survives without workers', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 2], countdown: 1 });
    const revoked = await app.runtime.client.revoke(id);
    expect(revoked?.status).toBe('REVOKED');
    const view = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v?.dateDone ? v : undefined;
    });
    expect(view.status).toBe('REVOKED');
    expect(view.result).toBeUndefined();
  });

  it('does not run a task that waited past its expiry', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 2], countdown: 1, expires: 0.5 });
    const view = await settled(id);
    expect(view.status).toBe('REVOKED');
    expect(view.error?.code).toBe('expired');
  });

  it('reports progress while running and ends with the result', async () => {
    const { id } = await app.runtime.client.enqueue('demo.sleep', { args: [1.2] });
    const running = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v?.status === 'PROGRESS' ? v : undefined;
    });
    expect(running.progress).toMatchObject({ total: 2 });
    expect((await settled(id)).status).toBe('SUCCESS');
  });

  it('dedupes enqueues with the same idempotency key', async () => {
    const a = await app.runtime.client.enqueue('demo.add', { args: [4, 4], idempotencyKey: 'order-42' });
    const b = await app.runtime.client.enqueue('demo.add', { args: [4, 4], idempotencyKey: 'order-42' });
    expect(b.id).toBe(a.id);
    expect((await settled(a.id)).result).toBe(8);
  });

  it('appends lifecycle events to the capped stream in order', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [5, 5] });
    await settled(id);
    const types = await waitFor(async () => {
      const events = await app.runtime.client.readEvents('0-0', 10_000);
      const mine = events.filter((e) => e.taskId === id).map((e) => e.type);
      return mine.includes('succeeded') ? mine : undefined;
    });
    expect(types).toEqual(['sent', 'started', 'succeeded']);
  });

  it('completes events from BullMQ’s stream with the worker, the attempt and the runtime', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [2, 2] });
    await settled(id);
    const events = await waitFor(async () => {
      const mine = (await app.runtime.client.readEvents('0-0', 10_000)).filter((e) => e.taskId === id);
      return mine.length === 3 ? mine : undefined;
    });
    expect(events.map((e) => [e.type, e.stream, e.name])).toEqual([
      ['sent', 'default', 'demo.add'],
      ['started', 'default', 'demo.add'],
      ['succeeded', 'default', 'demo.add'],
    ]);
    expect(events[1]!.data).toEqual({ worker: app.worker!.name, attempt: 1 });
    expect(events[2]!.data?.runtimeMs).toBeGreaterThanOrEqual(0);
  });

  it('hears a queue that only another process uses, and one this process starts using, through one hub', async () => {
    const hub = await app.runtime.client.eventHub();
    const heard: TaskEvent[] = [];
    const unsubscribe = hub.subscribe('*', (e) => heard.push(e));
    // Another process's client: this process's hub learns of its queue from Redis (within 2 s).
    const other = new TaskClient({ redis: app.runtime.redis, redisTarget: app.runtime.redisTarget, keys: app.runtime.client.keys, retention: app.runtime.client.retention, eventsMaxLen: 1000, logger: silentLogger });
    try {
      const elsewhere = await other.enqueue('demo.add', { args: [1, 2], queue: 'hub-elsewhere' });
      // This process's own client: the hub reads the new queue at once.
      const here = await app.runtime.client.enqueue('demo.add', { args: [3, 4], queue: 'hub-here' });
      const sent = await waitFor(async () => {
        const ids = heard.filter((e) => e.type === 'sent').map((e) => e.taskId);
        return ids.includes(elsewhere.id) && ids.includes(here.id) ? heard : undefined;
      }, 5_000);
      expect(sent.find((e) => e.taskId === elsewhere.id)).toMatchObject({ type: 'sent', name: 'demo.add', queue: 'hub-elsewhere', stream: 'hub-elsewhere' });
      expect(sent.find((e) => e.taskId === here.id)).toMatchObject({ type: 'sent', name: 'demo.add', queue: 'hub-here' });
    } finally {
      unsubscribe();
      await other.close();
      await Promise.all(['hub-elsewhere', 'hub-here'].map((q) => app.runtime.client.queue(q).obliterate({ force: true })));
    }
  });
});
