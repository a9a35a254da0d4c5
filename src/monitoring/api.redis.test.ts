import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerApi, startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { startWorkerRole } from '../app.js';
import { createToken, createUser, listLog } from '../admin/index.js';
import { silentLogger } from '../platform/logger.js';
import { defineTask } from '../tasks/index.js';
import { TaskIndexer } from './indexer.js';
import type { ListResult, TaskRow } from './store.js';
import type { TaskDetail } from './tasks.js';

// Fails until the test "fixes" it: the failure cause an operator removes before pressing Retry.
let broken = true;
defineTask('test.monitor.fragile', { description: 'fails while broken' }, ([label]: [string]) => {
  if (broken) throw new Error(`broken on purpose (${label})`);
  return `fixed ${label}`;
});

describe('the monitor API', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};

  const call = bearerApi(() => app, tokens);
  const get = (path: string, who = 'viewer') => call(who, 'GET', path);
  const list = async (query: string) => {
    const res = await get(`/api/v1/monitor/tasks?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as ListResult;
  };
  const idsOf = (page: ListResult) => page.items.map((r: TaskRow) => r.id);
  const indexed = () => new TaskIndexer({ redis: app.runtime.redis, redisTarget: app.runtime.redisTarget, client: app.runtime.client, logger: silentLogger }).caughtUp();
  const settled = (id: string) =>
    waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(v.status) ? v : undefined;
    });
  // Two enqueues in one millisecond would tie in the index (then ordered by id): keep them apart so the expected order is the enqueue order.
  const enqueue = async (name: string, args: unknown[], options: { queue?: string; countdown?: number } = {}) => {
    const { id } = await app.runtime.client.enqueue(name, { args, ...options });
    await sleep(2);
    return id;
  };

  beforeAll(async () => {
    app = await startTestApp({ worker: { concurrency: 2 } });
    const db = app.runtime.db!;
    const users: Record<string, string[]> = { viewer: ['view_task'], operator: ['view_task', 'change_task'], cleaner: ['view_task', 'delete_task'], nobody: [] };
    for (const [username, permissions] of Object.entries(users)) {
      const user = await createUser(db, { username, password: null, isStaff: true, permissions });
      tokens[username] = (await createToken(db, user.id, 'test')).token;
    }
  });
  afterAll(async () => app?.close());

  describe('task list', () => {
    const made: Record<string, string[]> = {};
    let middle = 0;
    beforeAll(async () => {
      // Batch 1: three sums and two failures on the default queue; batch 2: two sums on a queue no worker consumes.
      made.ok = [await enqueue('demo.add', [101, 1]), await enqueue('demo.add', [102, 2]), await enqueue('demo.add', [103, 3])];
      made.fail = [await enqueue('demo.fail', ['first failure']), await enqueue('demo.fail', ['second failure'])];
      await Promise.all([...made.ok, ...made.fail].map(settled));
      await sleep(5);
      middle = Date.now();
      await sleep(5);
      made.idle = [await enqueue('demo.add', [777_001, 5], { queue: 'mon-idle' }), await enqueue('demo.add', [777_002, 6], { queue: 'mon-idle' })];
      await indexed();
    });

    it('lists every task newest first, with exact totals, and filters by one field', async () => {
      const all = await list('limit=50');
      expect(idsOf(all)).toEqual([...made.ok!, ...made.fail!, ...made.idle!].reverse());
      expect(all.total).toBe(7);
      expect(all.nextCursor).toBeNull();
      expect(idsOf(await list('state=FAILURE'))).toEqual([...made.fail!].reverse());
      expect(idsOf(await list('state=PENDING'))).toEqual([...made.idle!].reverse());
      expect(idsOf(await list('name=demo.add'))).toEqual([...made.ok!, ...made.idle!].reverse());
      const queue = await list('queue=mon-idle');
      expect(idsOf(queue)).toEqual([...made.idle!].reverse());
      expect(queue.total).toBe(2);
      const row = (await list('state=FAILURE&limit=1')).items[0]!;
      expect(row).toMatchObject({ id: made.fail![1], name: 'demo.fail', queue: 'default', state: 'FAILURE', error: 'second failure', argsPreview: '["second failure"]', worker: app.worker!.name, attempt: 1 });
      expect(Date.parse(row.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(row.startedAt!));
      // A failure's run time is in the list, the same figure the task's page shows.
      expect(row.runtimeMs).toEqual(expect.any(Number));
      expect((await get(`/api/v1/monitor/tasks/${row.id}`)).body.runtimeMs).toBe(row.runtimeMs);
    });

    it('filters by enqueue time and by several fields at once (a bounded walk)', async () => {
      expect(idsOf(await list(`from=${middle}`))).toEqual([...made.idle!].reverse());
      expect(idsOf(await list(`to=${new Date(middle).toISOString()}`))).toEqual([...made.ok!, ...made.fail!].reverse());
      const both = await list('state=SUCCESS&name=demo.add');
      expect(idsOf(both)).toEqual([...made.ok!].reverse());
      expect(both.total).toBeNull();
      expect(both.scan).toMatchObject({ truncated: false });
      expect(idsOf(await list('state=PENDING&queue=default'))).toEqual([]);
      expect(idsOf(await list(`state=SUCCESS&name=demo.add&order=asc&from=0&to=${middle}`))).toEqual(made.ok);
      expect((await get('/api/v1/monitor/tasks?from=yesterday')).status).toBe(400);
      expect((await get('/api/v1/monitor/tasks?state=DONE')).status).toBe(400);
    });

    it('searches by exact id and by argument text', async () => {
      const byId = await list(`q=${made.fail![0]}`);
      expect(idsOf(byId)).toEqual([made.fail![0]]);
      expect(byId.exactId).toBe(true);
      expect(idsOf(await list('q=777002'))).toEqual([made.idle![1]]);
      expect(idsOf(await list('q=FAILURE'))).toEqual([made.fail![1], made.fail![0]]); // "first failure", "second failure"
      // (Search texts with letters past "f": a task id, hexadecimal, cannot contain them by chance.)
      const one = await list('q=second&scan=1');
      // The newest entry does not match; the walk stops after one entry and says so.
      expect(idsOf(one)).toEqual([]);
      expect(one.scan).toEqual({ examined: 1, limit: 1, truncated: true });
      expect(one.nextCursor).not.toBeNull();
      const three = await list('q=second&scan=3');
      expect(idsOf(three)).toEqual([made.fail![1]]);
      expect(three.scan).toEqual({ examined: 3, limit: 3, truncated: true });
      // Continuing from the cursor walks on from where the last walk stopped.
      const rest = await list(`q=second&scan=3&cursor=${three.nextCursor}`);
      expect(idsOf(rest)).toEqual([]);
      expect(rest.scan).toEqual({ examined: 3, limit: 3, truncated: true });
      const end = await list(`q=second&scan=3&cursor=${rest.nextCursor}`);
      expect(end.scan).toEqual({ examined: 1, limit: 3, truncated: false });
      expect(end.nextCursor).toBeNull();
    });

    it('pages with cursors and with page numbers', async () => {
      const expected = [...made.ok!, ...made.fail!, ...made.idle!].reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page: ListResult = await list(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...idsOf(page));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(expected);
      const page2 = await list('limit=2&page=2');
      expect(idsOf(page2)).toEqual(expected.slice(2, 4));
      expect(page2).toMatchObject({ page: 2, total: 7 });
      // Combined filters page through the bounded walk too.
      const first = await list('name=demo.add&state=SUCCESS&limit=2');
      expect(idsOf(first)).toEqual([made.ok![2], made.ok![1]]);
      expect(idsOf(await list(`name=demo.add&state=SUCCESS&limit=2&cursor=${first.nextCursor}`))).toEqual([made.ok![0]]);
      expect((await get('/api/v1/monitor/tasks?cursor=bm9wZQ')).status).toBe(400);
    });

    it('shows a failed task in full, with its traceback and timeline', async () => {
      const res = await get(`/api/v1/monitor/tasks/${made.fail![0]}`);
      expect(res.status).toBe(200);
      const task = res.body as TaskDetail;
      expect(task).toMatchObject({ id: made.fail![0], name: 'demo.fail', state: 'FAILURE', args: ['first failure'], kwargs: {}, worker: app.worker!.name, attempts: 1 });
      expect(task.error!.message).toBe('first failure');
      expect(task.error!.traceback).toMatch(/^Error: first failure\n\s+at /);
      expect(task.timeline.map((e) => e.event)).toEqual(['sent', 'received', 'started', 'failed']);
      expect(task.timeline.find((e) => e.event === 'started')!.worker).toBe(app.worker!.name);
      expect(task.actions).toEqual({ revoke: false, terminate: false, retry: true, promote: false, runAgain: true, delete: true });
      const ok = (await get(`/api/v1/monitor/tasks/${made.ok![0]}`)).body as TaskDetail;
      expect(ok).toMatchObject({ state: 'SUCCESS', result: 102 });
      expect(ok.runtimeMs).toBeGreaterThanOrEqual(0);
      expect((await get('/api/v1/monitor/tasks/no-such-task')).status).toBe(404);
    });

    it('answers the dashboard, workers, queues and filter choices', async () => {
      const overview = (await get('/api/v1/monitor/overview')).body;
      expect(overview.tasks.byState).toMatchObject({ SUCCESS: 3, FAILURE: 2, PENDING: 2 });
      expect(overview.series.time).toHaveLength(60);
      const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
      expect([sum(overview.series.sent), sum(overview.series.succeeded), sum(overview.series.failed)]).toEqual([7, 3, 2]);
      expect(overview.runtimes.find((r: { name: string }) => r.name === 'demo.add')).toMatchObject({ count: 3 });
      expect(overview.totals.byName.find((r: { name: string }) => r.name === 'demo.fail')).toMatchObject({ sent: 2, failed: 2, succeeded: 0 });
      expect(overview.workers).toEqual({ online: 1, gone: 0 });
      const queues = (await get('/api/v1/monitor/queues')).body.items as { name: string; counts: Record<string, number>; workers: number; oldestWaitingAgeMs: number | null; throughput: { lastHour: number } }[];
      const idle = queues.find((q) => q.name === 'mon-idle')!;
      expect(idle).toMatchObject({ counts: { waiting: 2, active: 0, failed: 0 }, workers: 0 });
      expect(idle.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
      expect(queues.find((q) => q.name === 'default')!.throughput.lastHour).toBe(5);
      const workers = (await get('/api/v1/monitor/workers')).body;
      expect(workers).toMatchObject({ online: 1, gone: 0, items: [{ name: app.worker!.name, status: 'online', pid: process.pid, concurrency: 2, pool: 'async' }] });
      expect((await get('/api/v1/monitor/filters')).body).toMatchObject({ names: ['demo.add', 'demo.fail'], queues: ['default', 'mon-idle'] });
    });

    it('is documented in the OpenAPI description', async () => {
      const doc = (await (await fetch(`${app.baseUrl}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const paths = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
      expect(paths).toEqual(
        expect.arrayContaining([
          'GET /api/v1/monitor/overview',
          'GET /api/v1/monitor/workers',
          'GET /api/v1/monitor/queues',
          'GET /api/v1/monitor/filters',
          'GET /api/v1/monitor/tasks',
          'GET /api/v1/monitor/tasks/{id}',
          'DELETE /api/v1/monitor/tasks/{id}',
          'POST /api/v1/monitor/tasks/{id}/revoke',
          'POST /api/v1/monitor/tasks/{id}/retry',
          'POST /api/v1/monitor/tasks/{id}/promote',
          'POST /api/v1/monitor/queues/{name}/retry-failed',
          'POST /api/v1/monitor/queues/{name}/clean-failed',
          'GET /api/v1/monitor/events',
          'GET /metrics',
        ]),
      );
    });

    it('needs view_task to read', async () => {
      expect((await call(null, 'GET', '/api/v1/monitor/tasks')).status).toBe(401);
      const denied = await get('/api/v1/monitor/overview', 'nobody');
      expect(denied).toEqual({ status: 403, body: { error: { code: 'permission_denied', message: 'You do not have the "view_task" permission.' } } });
    });

    it('refuses strangers before looking at their input: 401/403, not a 400 that would describe it', async () => {
      const probes: [string, string, unknown][] = [
        ['GET', '/api/v1/monitor/tasks?limit=-1&state=DONE', undefined],
        ['GET', '/api/v1/monitor/overview?minutes=1e400', undefined],
        ['GET', `/api/v1/monitor/tasks/${'x'.repeat(250)}`, undefined],
        ['GET', '/api/v1/monitor/events?lastEventId=nope', undefined],
        ['POST', '/api/v1/monitor/tasks/some-id/revoke', { terminate: 'yes', reason: 'r'.repeat(1000) }],
        ['POST', '/api/v1/monitor/queues/default/retry-failed', { limit: -5 }],
        ['POST', '/api/v1/monitor/queues/default/clean-failed', { limit: 'all' }],
        ['DELETE', `/api/v1/monitor/tasks/${'x'.repeat(250)}`, undefined],
      ];
      for (const [method, path, body] of probes) {
        expect((await call(null, method, path, body)).status, `${method} ${path}`).toBe(401);
        expect((await call('nobody', method, path, body)).status, `${method} ${path}`).toBe(403);
      }
    });
  });

  describe('actions', () => {
    const lastLog = async () => (await listLog(app.runtime.db!, { objectType: 'task', pageSize: 1 })).items[0];
    const state = async (id: string) => ((await get(`/api/v1/monitor/tasks/${id}`)).body as TaskDetail).state;

    it('retries a failed task once its cause is removed; refuses other states, unknown ids and viewers', async () => {
      broken = true;
      const id = await enqueue('test.monitor.fragile', ['a']);
      expect((await settled(id)).status).toBe('FAILURE');
      expect((await call('viewer', 'POST', `/api/v1/monitor/tasks/${id}/retry`)).status).toBe(403);
      broken = false;
      const res = await call('operator', 'POST', `/api/v1/monitor/tasks/${id}/retry`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.state).toMatch(/^(RETRY|STARTED|SUCCESS)$/);
      const done = await settled(id);
      expect(done).toMatchObject({ status: 'SUCCESS', result: 'fixed a' });
      expect(await lastLog()).toMatchObject({ username: 'operator', action: 'change', objectId: id, objectRepr: `test.monitor.fragile ${id}`, changeMessage: 'Retried' });
      await indexed();
      const row = (await list(`q=${id}`)).items[0]!;
      expect(row).toMatchObject({ state: 'SUCCESS', retries: 1 });
      const again = await call('operator', 'POST', `/api/v1/monitor/tasks/${id}/retry`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('task_not_failed');
      expect((await call('operator', 'POST', '/api/v1/monitor/tasks/nope/retry')).status).toBe(404);
    });

    it('revokes a waiting task and terminates a running one; refuses a finished one', async () => {
      const waiting = await enqueue('demo.add', [1, 1], { queue: 'mon-idle' });
      const res = await call('operator', 'POST', `/api/v1/monitor/tasks/${waiting}/revoke`, { reason: 'not needed' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ state: 'REVOKED', error: { code: 'revoked', message: 'not needed' } });
      expect(await lastLog()).toMatchObject({ username: 'operator', objectId: waiting, changeMessage: 'Revoked: not needed' });
      await indexed();
      expect((await get(`/api/v1/monitor/tasks/${waiting}`)).body.error).toEqual({ code: 'revoked', message: 'not needed' });
      const twice = await call('operator', 'POST', `/api/v1/monitor/tasks/${waiting}/revoke`);
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe('task_finished');

      const running = await enqueue('demo.sleep', [20]);
      await waitFor(async () => ['STARTED', 'PROGRESS'].includes((await app.runtime.client.getTask(running))?.status ?? ''));
      expect((await get(`/api/v1/monitor/tasks/${running}`)).body.actions).toMatchObject({ terminate: true, delete: false });
      expect((await call('viewer', 'POST', `/api/v1/monitor/tasks/${running}/revoke`)).status).toBe(403);
      expect((await call('operator', 'POST', `/api/v1/monitor/tasks/${running}/revoke`, { terminate: true })).status).toBe(200);
      expect((await settled(running)).status).toBe('REVOKED');
      // A revoked task sits in BullMQ's failed set, but it is not a failure to retry.
      const retry = await call('operator', 'POST', `/api/v1/monitor/tasks/${running}/retry`);
      expect(retry.status).toBe(409);
      expect(retry.body.error).toEqual({ code: 'task_not_failed', message: `Only a FAILURE task can be retried; task "${running}" is REVOKED.` });
      expect((await call('operator', 'POST', '/api/v1/monitor/tasks/nope/revoke')).status).toBe(404);
    });

    it('runs a delayed task now; refuses one that is not delayed', async () => {
      const delayed = await enqueue('demo.add', [40, 2], { countdown: 3600 });
      expect((await get(`/api/v1/monitor/tasks/${delayed}`)).body.actions.promote).toBe(true);
      const res = await call('operator', 'POST', `/api/v1/monitor/tasks/${delayed}/promote`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(await settled(delayed)).toMatchObject({ status: 'SUCCESS', result: 42 });
      const again = await call('operator', 'POST', `/api/v1/monitor/tasks/${delayed}/promote`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('task_not_delayed');
      expect(await lastLog()).toMatchObject({ objectId: delayed, changeMessage: 'Run now (was delayed)' });
    });

    it('runs a finished task again as a new task with the same call; refuses unfinished tasks, unknown ids and viewers', async () => {
      const first = await enqueue('demo.add', [30, 12]);
      await settled(first);
      expect((await call('viewer', 'POST', `/api/v1/monitor/tasks/${first}/run-again`)).status).toBe(403);
      const res = await call('operator', 'POST', `/api/v1/monitor/tasks/${first}/run-again`);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body).toEqual({ id: expect.any(String), from: first });
      expect(res.body.id).not.toBe(first);
      expect(await settled(res.body.id)).toMatchObject({ name: 'demo.add', status: 'SUCCESS', result: 42, args: [30, 12], queue: 'default' });
      expect(await lastLog()).toMatchObject({ username: 'operator', action: 'add', objectId: res.body.id, changeMessage: `Run again (a copy of ${first})` });

      const waiting = await enqueue('demo.add', [1, 2], { queue: 'mon-idle' });
      expect((await get(`/api/v1/monitor/tasks/${waiting}`)).body.actions.runAgain).toBe(false);
      const early = await call('operator', 'POST', `/api/v1/monitor/tasks/${waiting}/run-again`);
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('task_not_finished');
      expect((await call('operator', 'POST', '/api/v1/monitor/tasks/nope/run-again')).status).toBe(404);
      expect((await call('operator', 'POST', '/api/v1/monitor/tasks/meta/run-again')).status).toBe(404);
      await app.runtime.client.revoke(waiting);
    });

    it('deletes a task (delete_task), not while it runs', async () => {
      const id = await enqueue('demo.add', [5, 5]);
      await settled(id);
      await indexed();
      expect((await call('operator', 'DELETE', `/api/v1/monitor/tasks/${id}`)).status).toBe(403);
      const res = await call('cleaner', 'DELETE', `/api/v1/monitor/tasks/${id}`);
      expect(res).toEqual({ status: 200, body: { id, deleted: true } });
      expect(idsOf(await list(`q=${id}`))).toEqual([]);
      expect((await get(`/api/v1/monitor/tasks/${id}`)).status).toBe(404);
      expect(await lastLog()).toMatchObject({ username: 'cleaner', action: 'delete', objectId: id, changeMessage: 'Deleted (was SUCCESS)' });
      expect((await call('cleaner', 'DELETE', `/api/v1/monitor/tasks/${id}`)).status).toBe(404);

      const running = await enqueue('demo.sleep', [20]);
      await waitFor(async () => ['STARTED', 'PROGRESS'].includes((await app.runtime.client.getTask(running))?.status ?? ''));
      const refused = await call('cleaner', 'DELETE', `/api/v1/monitor/tasks/${running}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('task_running');
      await app.runtime.client.revoke(running);
      await settled(running);
    });

    it('retries and cleans all failed tasks of a queue', async () => {
      broken = true;
      const failed = [await enqueue('test.monitor.fragile', ['b'], { queue: 'mon-bulk' }), await enqueue('test.monitor.fragile', ['c'], { queue: 'mon-bulk' })];
      const worker = await (await import('../app.js')).startWorkerRole(app.runtime, { queues: ['mon-bulk'], concurrency: 2 });
      try {
        await Promise.all(failed.map(settled));
        expect((await call('viewer', 'POST', '/api/v1/monitor/queues/mon-bulk/retry-failed')).status).toBe(403);
        broken = false;
        const res = await call('operator', 'POST', '/api/v1/monitor/queues/mon-bulk/retry-failed', { limit: 10 });
        expect(res).toEqual({ status: 200, body: { queue: 'mon-bulk', retried: 2, skippedRevoked: 0, remaining: 0 } });
        expect((await Promise.all(failed.map(settled))).map((v) => v.result)).toEqual(['fixed b', 'fixed c']);

        const doomed = [await enqueue('demo.fail', ['x'], { queue: 'mon-bulk' }), await enqueue('demo.fail', ['y'], { queue: 'mon-bulk' })];
        await Promise.all(doomed.map(settled));
        await indexed();
        expect((await call('operator', 'POST', '/api/v1/monitor/queues/mon-bulk/clean-failed')).status).toBe(403);
        const cleaned = await call('cleaner', 'POST', '/api/v1/monitor/queues/mon-bulk/clean-failed');
        expect(cleaned).toEqual({ status: 200, body: { queue: 'mon-bulk', removed: 2 } });
        expect(await Promise.all(doomed.map((id) => app.runtime.client.getTask(id)))).toEqual([null, null]);
        expect(idsOf(await list('queue=mon-bulk&state=FAILURE'))).toEqual([]);
        expect(await lastLog()).toMatchObject({ username: 'cleaner', action: 'delete', objectId: null, objectRepr: 'failed tasks of queue mon-bulk' });
        expect((await call('cleaner', 'POST', '/api/v1/monitor/queues/no-such-queue/clean-failed')).status).toBe(404);
      } finally {
        await worker.close();
      }
      expect(await state(failed[0]!)).toBe('SUCCESS');
    });
  });

  describe('live events', () => {
    type Message = { id?: string; event?: string; data: any };
    /** Reads an SSE response; `until` reads on until the messages so far satisfy it (or 15 s pass). */
    function sse(res: Response) {
      const reader = res.body!.getReader();
      const messages: Message[] = [];
      let text = '';
      return async (until: (messages: Message[]) => boolean): Promise<Message[]> => {
        const deadline = Date.now() + 15_000;
        while (!until(messages) && Date.now() < deadline) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
          const blocks = text.split('\n\n');
          text = blocks.pop()!;
          for (const block of blocks) {
            const fields = Object.fromEntries(block.split('\n').filter((l) => /^(id|event|data): /.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
            if (fields.data) messages.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
          }
        }
        return messages;
      };
    }

    it('streams task events to a viewer over SSE, and refuses anonymous clients', async () => {
      expect((await call(null, 'GET', '/api/v1/monitor/events')).status).toBe(401);
      const controller = new AbortController();
      const res = await fetch(`${app.baseUrl}/api/v1/monitor/events?name=demo.fail`, { headers: { authorization: `Bearer ${tokens.viewer}` }, signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const id = await enqueue('demo.fail', ['live failure']);
      await enqueue('demo.add', [1, 2]); // filtered out by name
      const all = await sse(res)((m) => m.some((x) => x.data?.type === 'failed'));
      controller.abort();
      const messages = all.filter((m) => m.event === 'task');
      expect(messages.map((m) => m.data.type)).toEqual(['sent', 'started', 'failed']);
      expect(messages.every((m) => /^\d+-\d+(\/default)?$/.test(m.id ?? '') && m.data.taskId === id && m.data.name === 'demo.fail')).toBe(true);
      expect(messages[2]!.data).toMatchObject({ state: 'FAILURE', queue: 'default', data: { message: 'live failure', attempt: 1 } });
    });

    it('replays what a reconnecting viewer missed, from BullMQ’s stream and seler’s, after its Last-Event-ID', async () => {
      const id = await enqueue('demo.fail', ['missed while away']);
      await settled(id);
      // The failure is seler's own event; its 'started' came from BullMQ's stream of the queue.
      const events = await waitFor(async () => {
        const mine = (await app.runtime.client.readEvents('0-0', 100_000)).filter((e) => e.taskId === id);
        return mine.some((e) => e.type === 'failed') ? mine : undefined;
      });
      expect(events.map((e) => e.type)).toEqual(['sent', 'started', 'failed']);
      const sentId = `${events[0]!.streamId}/default`;
      const controller = new AbortController();
      const res = await fetch(`${app.baseUrl}/api/v1/monitor/events?taskId=${id}`, {
        headers: { authorization: `Bearer ${tokens.viewer}`, 'last-event-id': sentId },
        signal: controller.signal,
      });
      const replayed = (await sse(res)((m) => m.some((x) => x.data?.type === 'failed'))).filter((m) => m.event === 'task');
      controller.abort();
      expect(replayed.map((m) => m.data.type)).toEqual(['started', 'failed']);
      expect(replayed[0]).toMatchObject({ id: `${events[1]!.streamId}/default`, data: { name: 'demo.fail', data: { worker: app.worker!.name, attempt: 1 } } });
      expect(replayed[1]!.id).toBe(events[2]!.streamId);

      const bad = await get(`/api/v1/monitor/events?lastEventId=${encodeURIComponent('12-x/default')}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBeTruthy();
    });

    it('tells viewers when a worker comes and when it goes', async () => {
      const controller = new AbortController();
      const res = await fetch(`${app.baseUrl}/api/v1/monitor/events`, { headers: { authorization: `Bearer ${tokens.viewer}` }, signal: controller.signal });
      const read = sse(res);
      const extra = await startWorkerRole(app.runtime, { queues: ['monitor-extra'], concurrency: 1 });
      const arrived = await read((m) => m.some((x) => x.event === 'worker' && x.data.online.includes(extra.name)));
      expect(arrived.find((x) => x.event === 'worker')?.data.online).toContain(extra.name);
      await extra.close();
      const left = await read((m) => m.some((x) => x.event === 'worker' && x.data.gone.includes(extra.name)));
      controller.abort();
      expect(left.find((x) => x.event === 'worker' && x.data.gone.includes(extra.name))?.data.online).not.toContain(extra.name);
    });
  });
});
