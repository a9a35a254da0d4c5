// A task queues other tasks through its own worker's client (ctx.delay), never through whichever client
// the process opened last: two runtimes in one process, on two key spaces, never mix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { add, callAdd } from '../demo/tasks.js';
import { defineTask } from './define-task.js';

declare module './define-task.js' {
  interface TaskTypes {
    'test.caller.celery-style': { args: []; kwargs: Record<string, never>; result: never };
  }
}

// What a Celery habit writes inside a task: `add.delay(...)`, with no client in sight.
defineTask('test.caller.celery-style', {}, () => (add.delay as unknown as (a: number, b: number) => never)(1, 2));

let appA: TestApp;
let appB: TestApp;
beforeAll(async () => {
  appA = await startTestApp({ web: false, worker: { concurrency: 2 } });
  // Opened after A: the process-wide client used to be this one, so A's tasks enqueued into B's key space.
  appB = await startTestApp({ web: false, worker: false });
});
afterAll(async () => {
  await appB?.close();
  await appA?.close();
});

async function finished(app: TestApp, id: string) {
  return waitFor(async () => {
    const view = await app.runtime.client.getTask(id);
    return view && ['SUCCESS', 'FAILURE'].includes(view.status) ? view : undefined;
  });
}

describe("a task's ctx.delay", () => {
  it("queues through the client of the worker that runs the task, even with another client opened later", async () => {
    for (let n = 0; n < 5; n++) {
      const { id } = await appA.runtime.client.delay(callAdd, n, 40);
      const parent = await finished(appA, id);
      expect(parent.status).toBe('SUCCESS');
      const childId = (parent.result as { id: string }).id;
      const child = await finished(appA, childId);
      expect(child).toMatchObject({ name: 'demo.add', status: 'SUCCESS', result: n + 40 });
      expect(await appB.runtime.client.getTask(childId)).toBeNull();
    }
  });

  it('in a threads pool, the child asks its parent, which queues through the same client', async () => {
    const worker = await import('../app.js').then(({ startWorkerRole }) => startWorkerRole(appA.runtime, { pool: 'threads', concurrency: 1, queues: ['caller-threads'] }));
    try {
      const { id } = await appA.runtime.client.applyAsync(callAdd, { args: [2, 3], queue: 'caller-threads' });
      const parent = await finished(appA, id);
      expect(parent.status).toBe('SUCCESS');
      const childId = (parent.result as { id: string }).id;
      expect(await finished(appA, childId)).toMatchObject({ status: 'SUCCESS', result: 5 });
      expect(await appB.runtime.client.getTask(childId)).toBeNull();
      // A call the task may not make is refused in the child with its code (the arguments do not match demo.add's schema).
      const { id: badId } = await appA.runtime.client.enqueue('demo.call', { args: [1, 'x' as unknown as number], queue: 'caller-threads', skipArgsCheck: true });
      expect((await finished(appA, badId)).error?.code).toBe('invalid_args');
    } finally {
      await worker.close();
    }
  });

  it('a task calling task.delay() with no client fails naming ctx.delay and client.delay', async () => {
    expect(() => (add.delay as unknown as (a: number, b: number) => never)(1, 2)).toThrow(/inside a task call ctx\.delay\(task, …\), elsewhere client\.delay\(task, …\)/);
    const { id } = await appA.runtime.client.enqueue('test.caller.celery-style');
    const view = await finished(appA, id);
    expect(view.status).toBe('FAILURE');
    expect(view.error?.message).toMatch(/demo\.add\.delay\(\) has no client .* ctx\.delay/);
  });
});
