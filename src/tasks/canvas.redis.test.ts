import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { add, fail } from '../demo/tasks.js';
import { defineTask } from './define-task.js';
import { Canvas, TaskFailedError, signature as sig } from './index.js';

declare module './define-task.js' {
  interface TaskTypes {
    'test.collect': { args: unknown[]; kwargs: Record<string, never>; result: unknown[] };
  }
}
defineTask('test.collect', {}, (args) => args);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ web: false, worker: { concurrency: 4 } });
});
afterAll(async () => app?.close());

const result = (id: string) => app.runtime.client.asyncResult(id).get({ timeoutSeconds: 15 });

describe('AsyncResult and delay/applyAsync', () => {
  it('delay() queues with the task defaults and get() waits for the result', async () => {
    const { id } = await app.runtime.client.delay(add, 20, 22);
    expect(await result(id)).toBe(42);
    expect(await app.runtime.client.asyncResult(id).ready()).toBe(true);
  });

  it('applyAsync() takes options; get() raises the failure with its code', async () => {
    const { id } = await app.runtime.client.applyAsync(fail, { args: ['nope'], kwargs: { permanent: true }, queue: 'default' });
    const error = await result(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ code: 'permanent_failure' });
  });

  it('get() gives up after its timeout, and an unknown id is not PENDING', async () => {
    const { id } = await app.runtime.client.applyAsync(add, { args: [1, 1], countdown: 60 });
    await expect(app.runtime.client.asyncResult(id).get({ timeoutSeconds: 0.3 })).rejects.toMatchObject({ code: 'timeout' });
    expect(await app.runtime.client.asyncResult('never-was').state()).toBeUndefined();
    await app.runtime.client.revoke(id);
  });

  it('forget() removes a finished result', async () => {
    const { id } = await app.runtime.client.delay(add, 1, 2);
    await result(id);
    expect(await app.runtime.client.asyncResult(id).forget()).toBe(true);
    expect(await app.runtime.client.getTask(id)).toBeNull();
  });
});

describe('canvas', () => {
  it('chain: each result feeds the next', async () => {
    const { id, ids } = await app.runtime.client.canvas.chain([sig('demo.add', { args: [1, 2] }), sig('demo.add', { args: [10] }), sig('demo.add', { args: [100] })]);
    expect(ids).toHaveLength(3);
    expect(id).toBe(ids[2]);
    expect(await result(id)).toBe(113);
    expect(await result(ids[0]!)).toBe(3);
  });

  it('chain: an immutable signature ignores the previous result', async () => {
    const { id } = await app.runtime.client.canvas.chain([sig('demo.add', { args: [1, 2] }), sig('demo.add', { args: [5, 5] }, true)]);
    expect(await result(id)).toBe(10);
  });

  it('chain: a failure fails the rest instead of leaving them pending', async () => {
    const { id, ids } = await app.runtime.client.canvas.chain([sig('demo.add', { args: [1, 2] }), sig('demo.fail', { args: ['broken link'], kwargs: { permanent: true } }, true), sig('demo.add', { args: [1] })]);
    const error = (await result(id).catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.view.status).toBe('FAILURE');
    expect(error.code).toBe('dependency_failed');
    expect((await app.runtime.client.getTask(ids[1]!))?.error?.message).toBe('broken link');
    expect(await result(ids[0]!)).toBe(3);
  });

  it('group: parallel, results collected in the order given', async () => {
    const { groupId, ids } = await app.runtime.client.canvas.group([sig('demo.sleep', { args: [0.3] }), sig('demo.add', { args: [2, 2] }), sig('demo.add', { args: [3, 3] })]);
    await Promise.all(ids.map(result));
    const views = (await app.runtime.client.canvas.groupResults(groupId))!;
    expect(Canvas.groupReady(views)).toBe(true);
    expect(views.map((v) => v.id)).toEqual(ids);
    expect(views.slice(1).map((v) => v.result)).toEqual([4, 6]);
    expect(await app.runtime.client.canvas.groupResults('unknown-group')).toBeUndefined();
  });

  it('chord: the callback gets the header results in order', async () => {
    const { id, ids } = await app.runtime.client.canvas.chord(
      [sig('demo.sleep', { args: [0.3] }), sig('demo.add', { args: [1, 1] }), sig('demo.add', { args: [3, 3] })],
      sig('test.collect', { args: ['extra'] }),
    );
    expect(ids).toHaveLength(3);
    const [collected, extra] = (await result(id)) as [unknown[], string];
    expect(collected[0]).toMatchObject({ sleptMs: expect.any(Number) });
    expect(collected.slice(1)).toEqual([2, 6]);
    expect(extra).toBe('extra');
  });

  it('chord: a failing member fails the callback without running it', async () => {
    const { id } = await app.runtime.client.canvas.chord(
      [sig('demo.add', { args: [1, 1] }), sig('demo.fail', { args: ['header failed'], kwargs: { permanent: true } })],
      sig('demo.noop'),
    );
    const error = (await result(id).catch((e: unknown) => e)) as TaskFailedError;
    expect(error.code).toBe('dependency_failed');
    // BullMQ takes the callback only to fail it: its last event is the failure naming the child.
    const last = await waitFor(async () => {
      const mine = (await app.runtime.client.readEvents('0-0', 100_000)).filter((e) => e.taskId === id);
      return mine.at(-1)?.type === 'failed' ? mine.at(-1) : undefined;
    });
    expect(String(last.data?.message)).toMatch(/child .* failed/);
  });
});
