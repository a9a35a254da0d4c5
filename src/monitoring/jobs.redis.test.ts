// The job browser and its bulk actions over HTTP against a real worker on the run's Redis: each state
// lists the right jobs, pages, bad input, guessed and foreign ids, permissions and the history, and
// two operators acting on the same ids at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerApi, startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createToken, createUser, listLog } from '../admin/index.js';
import { startWorkerRole } from '../app.js';
import { defineTask, type RunningWorker } from '../tasks/index.js';

const RUN = 'jobs-run';
let broken = true;
let holding = true;
defineTask('test.jobs.fragile', { queue: RUN, description: 'fails while broken' }, ([label]: [string]) => {
  if (broken) throw new Error(`broken on purpose (${label})`);
  return `fixed ${label}`;
});
defineTask('test.jobs.hold', { queue: RUN, description: 'runs until released' }, async (_args, _kw, ctx) => {
  while (holding && !ctx.signal.aborted) await sleep(20);
  return 'released';
});

describe('the job browser', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};
  const extraWorkers: RunningWorker[] = [];

  const call = bearerApi(() => app, tokens, '/api/v1/monitor');
  const jobs = async (queue: string, query: string, who = 'viewer') => {
    const res = await call(who, 'GET', `/queues/${queue}/jobs?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { total: number; paused: boolean; counts: Record<string, number>; items: { id: string; state: string; status: string; [k: string]: unknown }[] };
  };
  const idsIn = async (queue: string, state: string) => (await jobs(queue, `state=${state}&limit=100`)).items.map((j) => j.id).sort();
  const enqueue = async (name: string, args: unknown[], options: { queue?: string; countdown?: number; priority?: number } = {}) =>
    (await app.runtime.client.enqueue(name as never, { args, ...options } as never)).id;
  const statusOf = async (id: string) => (await app.runtime.client.getTask(id))?.status;
  const settled = (ids: string[], status: string) => waitFor(async () => (await Promise.all(ids.map(statusOf))).every((s) => s === status));
  const logCount = async () => (await listLog(app.runtime.db!, { pageSize: 1 })).total;
  const lastLog = async () => (await listLog(app.runtime.db!, { pageSize: 1 })).items[0];

  beforeAll(async () => {
    app = await startTestApp({ worker: { concurrency: 4, queues: ['default', RUN] } });
    const users: Record<string, string[]> = {
      viewer: ['view_task'],
      operator: ['view_task', 'change_task'],
      cleaner: ['view_task', 'delete_task'],
      admin: ['view_task', 'change_task', 'delete_task'],
    };
    for (const [username, permissions] of Object.entries(users)) {
      const user = await createUser(app.runtime.db!, { username, password: null, isStaff: true, permissions });
      tokens[username] = (await createToken(app.runtime.db!, user.id, 'test')).token;
    }
  });
  afterAll(async () => {
    holding = false;
    for (const w of extraWorkers) await w.close();
    await app?.close();
  });

  it('lists each state of a queue with the right jobs and their data', async () => {
    const queue = 'jobs-browse';
    // A worker of its own runs the finished ones, then leaves: what follows stays where it is put.
    const worker = await startWorkerRole(app.runtime, { queues: [queue], concurrency: 2 });
    const completed = [await enqueue('demo.add', [1, 2], { queue }), await enqueue('demo.add', [3, 4], { queue })];
    const failed = [await enqueue('demo.fail', ['browse failure'], { queue })];
    await settled(completed, 'SUCCESS');
    await settled(failed, 'FAILURE');
    await worker.close();
    const waiting = [await enqueue('demo.add', [5, 6], { queue }), await enqueue('demo.add', [7, 8], { queue }), await enqueue('demo.add', [9, 10], { queue })];
    const prioritized = [await enqueue('demo.add', [1, 1], { queue, priority: 1 }), await enqueue('demo.add', [2, 2], { queue, priority: 3 })];
    const delayed = [await enqueue('demo.add', [3, 3], { queue, countdown: 600 }), await enqueue('demo.add', [4, 4], { queue, countdown: 900 })];

    expect(await idsIn(queue, 'waiting')).toEqual([...waiting].sort());
    expect(await idsIn(queue, 'prioritized')).toEqual([...prioritized].sort());
    expect(await idsIn(queue, 'delayed')).toEqual([...delayed].sort());
    expect(await idsIn(queue, 'completed')).toEqual([...completed].sort());
    expect(await idsIn(queue, 'failed')).toEqual(failed);
    expect(await idsIn(queue, 'active')).toEqual([]);
    const page = await jobs(queue, 'state=failed');
    expect(page.counts).toEqual({ waiting: 3, prioritized: 2, delayed: 2, active: 0, 'waiting-children': 0, completed: 2, failed: 1 });
    expect(page.total).toBe(1);
    expect(page.paused).toBe(false);
    expect(page.items[0]).toMatchObject({ id: failed[0], name: 'demo.fail', state: 'failed', status: 'FAILURE', argsPreview: '["browse failure"]', kwargsPreview: '{}', failedReason: 'browse failure', attempts: 1 });
    expect(page.items[0]!.finishedAt).toEqual(expect.any(String));
    const due = (await jobs(queue, 'state=delayed&order=asc')).items;
    expect(due.map((j) => j.id)).toEqual(delayed); // soonest due first
    expect(Date.parse(due[0]!.dueAt as string) - Date.now()).toBeGreaterThan(500_000);
    expect((await jobs(queue, 'state=prioritized')).items.find((j) => j.id === prioritized[1])).toMatchObject({ priority: 3, status: 'PENDING' });
    // Revoked while it waits (no worker has discarded it yet): REVOKED, as the task's own API says.
    await app.runtime.client.revoke(waiting[0]!, { reason: 'not wanted' });
    const rows = (await jobs(queue, 'state=waiting')).items;
    expect(rows.find((j) => j.id === waiting[0])?.status).toBe('REVOKED');
    expect(rows.find((j) => j.id === waiting[1])?.status).toBe('PENDING');
    // Nothing of the job's owner or other payload fields reaches the row.
    expect(Object.keys(page.items[0]!).sort()).toEqual(
      ['argsPreview', 'attempts', 'createdAt', 'dueAt', 'failedReason', 'finishedAt', 'id', 'kwargsPreview', 'name', 'priority', 'startedAt', 'state', 'status'].sort(),
    );

    // A running task is active.
    holding = true;
    const running = await enqueue('test.jobs.hold', []);
    await waitFor(async () => (await statusOf(running)) === 'STARTED');
    expect(await idsIn(RUN, 'active')).toEqual([running]);
    holding = false;
    await settled([running], 'SUCCESS');
  });

  it('pages through a state without gaps or repeats, newest first or oldest first', async () => {
    const queue = 'jobs-page';
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await enqueue('demo.add', [i, i], { queue }));
      await sleep(2);
    }
    const pages = [1, 2, 3].map((p) => jobs(queue, `state=waiting&limit=3&page=${p}`));
    const [a, b, c] = await Promise.all(pages);
    expect([a!.items.length, b!.items.length, c!.items.length]).toEqual([3, 3, 1]);
    expect(a!.total).toBe(7);
    expect([...a!.items, ...b!.items, ...c!.items].map((j) => j.id)).toEqual([...ids].reverse());
    expect((await jobs(queue, 'state=waiting&limit=3&page=1&order=asc')).items.map((j) => j.id)).toEqual(ids.slice(0, 3));
    expect((await jobs(queue, 'state=waiting&limit=3&page=4')).items).toEqual([]);
    // A paused queue's waiting jobs are still listed as waiting, and the page says it is paused.
    await app.runtime.client.queue(queue).pause();
    const paused = await jobs(queue, 'state=waiting&limit=100');
    expect(paused.paused).toBe(true);
    expect(paused.items).toHaveLength(7);
  });

  it('refuses a bad state, page or limit with 400, an unknown queue with 404, strangers with 401/403', async () => {
    const bad: [string, string][] = [
      ['state=bogus', 'invalid_state'],
      ['state=wait', 'invalid_state'],
      ['state=', 'invalid_state'],
      ['page=0', 'invalid_page'],
      ['page=-1', 'invalid_page'],
      ['page=1.5', 'invalid_page'],
      ['page=abc', 'invalid_page'],
      ['page=99999999999', 'invalid_page'],
      ['limit=0', 'invalid_limit'],
      ['limit=101', 'invalid_limit'],
      ['order=up', 'invalid_order'],
      ['state=waiting&state=failed', 'invalid_state'],
      ['colour=red', 'invalid_request'],
    ];
    for (const [query, code] of bad) {
      const res = await call('viewer', 'GET', `/queues/default/jobs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe(code);
    }
    for (const queue of ['no-such-queue', 'a%3Ab', 'x'.repeat(100)]) {
      const res = await call('viewer', 'GET', `/queues/${queue}/jobs?state=waiting`);
      expect(res.status, queue).toBe(404);
      expect(res.body.error.code).toBe('queue_not_found');
    }
    expect((await call(null, 'GET', '/queues/default/jobs?state=bogus')).status).toBe(401);
    const nobody = await createUser(app.runtime.db!, { username: 'nobody', password: null, isStaff: true, permissions: [] });
    tokens.nobody = (await createToken(app.runtime.db!, nobody.id, 'test')).token;
    expect((await call('nobody', 'GET', '/queues/default/jobs')).status).toBe(403);
  });

  it('retries, promotes and removes a selection, id by id: guessed and foreign ids touch nothing', async () => {
    broken = true;
    const failed = [await enqueue('test.jobs.fragile', ['a']), await enqueue('test.jobs.fragile', ['b']), await enqueue('test.jobs.fragile', ['c'])];
    const done = await enqueue('demo.add', [1, 1], { queue: RUN });
    await settled(failed, 'FAILURE');
    await settled([done], 'SUCCESS');
    const foreign = (await idsIn('jobs-browse', 'failed'))[0]!;
    const guessed = ['0f0f0f0f-0000-4000-8000-000000000000', 'wait', 'meta', 'a:b', '../x', '', 'x'.repeat(201)];

    // Without the permission: 403 before the body is even read, and nothing is recorded.
    const before = await logCount();
    for (const action of ['retry', 'promote', 'remove']) {
      expect((await call('viewer', 'POST', `/queues/${RUN}/jobs/${action}`, { ids: failed })).status, action).toBe(403);
      expect((await call('viewer', 'POST', `/queues/${RUN}/jobs/${action}`, { bogus: 1 })).status, action).toBe(403);
      expect((await call(null, 'POST', `/queues/${RUN}/jobs/${action}`, { ids: failed })).status, action).toBe(401);
    }
    expect((await call('operator', 'POST', `/queues/${RUN}/jobs/remove`, { ids: failed })).status).toBe(403);
    expect((await call('cleaner', 'POST', `/queues/${RUN}/jobs/retry`, { ids: failed })).status).toBe(403);
    expect(await logCount()).toBe(before);
    expect(await idsIn(RUN, 'failed')).toEqual(expect.arrayContaining(failed));

    for (const body of [{}, { ids: [] }, { ids: 'x' }, { ids: [1, 2] }, { ids: [null] }, { ids: Array.from({ length: 1001 }, (_, i) => `id-${i}`) }, null, [failed[0]]]) {
      const res = await call('operator', 'POST', `/queues/${RUN}/jobs/retry`, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error.code).toBe('invalid_ids');
    }
    expect((await call('operator', 'POST', '/queues/no-such-queue/jobs/retry', { ids: failed })).status).toBe(404);

    broken = false;
    const retried = await call('operator', 'POST', `/queues/${RUN}/jobs/retry`, { ids: [failed[0], failed[1], failed[0], done, foreign, ...guessed] });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ queue: RUN, action: 'retry', done: 2, notFound: guessed.length + 1, wrongState: 1 });
    const outcome = (id: string) => retried.body.results.find((r: { id: string }) => r.id === id);
    expect(outcome(failed[0]!)).toEqual({ id: failed[0], outcome: 'done' });
    expect(outcome(done)).toEqual({ id: done, outcome: 'wrong_state', state: 'completed' });
    expect(outcome(foreign)).toEqual({ id: foreign, outcome: 'not_found' });
    for (const id of guessed) expect(outcome(id)).toEqual({ id, outcome: 'not_found' });
    expect(retried.body.results).toHaveLength(3 + 1 + guessed.length); // the duplicate once
    await settled([failed[0]!, failed[1]!], 'SUCCESS');
    expect(await statusOf(failed[2]!)).toBe('FAILURE'); // not asked for
    expect(await statusOf(foreign)).toBe('FAILURE'); // another queue's, left alone
    expect(await lastLog()).toMatchObject({ username: 'operator', action: 'change', objectType: 'task', objectRepr: `2 task(s) of queue ${RUN}` });
    expect(String((await lastLog())!.changeMessage)).toMatch(new RegExp(`^Retried: (${failed[0]}, ${failed[1]}|${failed[1]}, ${failed[0]})$`));

    const later = [await enqueue('demo.add', [2, 2], { queue: RUN, countdown: 600 }), await enqueue('demo.add', [3, 3], { queue: RUN, countdown: 600 })];
    const promoted = await call('operator', 'POST', `/queues/${RUN}/jobs/promote`, { ids: [later[0], failed[2], 'guess-1'] });
    expect(promoted.body).toMatchObject({ done: 1, notFound: 1, wrongState: 1 });
    await settled([later[0]!], 'SUCCESS');
    expect(await idsIn(RUN, 'delayed')).toEqual([later[1]]);

    const entries = await logCount();
    const nothing = await call('admin', 'POST', `/queues/${RUN}/jobs/remove`, { ids: guessed.filter(Boolean) });
    expect(nothing.body).toMatchObject({ done: 0, notFound: guessed.length - 1 });
    expect(await logCount()).toBe(entries); // nothing happened, nothing recorded

    const removed = await call('cleaner', 'POST', `/queues/${RUN}/jobs/remove`, { ids: [later[1], failed[2], foreign] });
    expect(removed.body).toMatchObject({ done: 2, notFound: 1, wrongState: 0 });
    expect(await statusOf(later[1]!)).toBeUndefined();
    expect(await statusOf(failed[2]!)).toBeUndefined();
    expect(await statusOf(foreign)).toBe('FAILURE');
    expect(await lastLog()).toMatchObject({ username: 'cleaner', action: 'delete', objectRepr: `2 task(s) of queue ${RUN}` });
    const detail = await call('viewer', 'GET', `/tasks/${failed[2]}`);
    expect(detail.status).toBe(404);

    // A running task is not removed.
    holding = true;
    const running = await enqueue('test.jobs.hold', []);
    await waitFor(async () => (await statusOf(running)) === 'STARTED');
    const busy = await call('cleaner', 'POST', `/queues/${RUN}/jobs/remove`, { ids: [running] });
    expect(busy.body.results).toEqual([{ id: running, outcome: 'wrong_state', state: 'active' }]);
    holding = false;
    await settled([running], 'SUCCESS');
  });

  it('answers intruders with 401/403 before looking at their input, and odd input with the browser’s own 400s, never a 500', async () => {
    const raw = async (who: string | null, method: string, path: string, payload?: string) => {
      const headers: Record<string, string> = who ? { authorization: `Bearer ${tokens[who]}` } : {};
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${app.baseUrl}/api/v1/monitor${path}`, { method, headers, body: payload });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    };
    const badQueries: [string, string][] = [
      ['colour=red&state=bogus', 'invalid_request'],
      ['__proto__=1', 'invalid_request'],
      ['constructor=x', 'invalid_request'],
      ['a[b]=1', 'invalid_request'],
      ['state=__proto__', 'invalid_state'],
      ['state=WAITING', 'invalid_state'],
      ['page=Infinity', 'invalid_page'],
      ['page=1e400', 'invalid_page'],
      ['page=NaN', 'invalid_page'],
      ['page=1&page=2', 'invalid_page'],
      ['page=1000001', 'invalid_page'],
      ['limit=99999999999999999999999', 'invalid_limit'],
      ['limit=-0', 'invalid_limit'],
      ['limit=' + '9'.repeat(5000), 'invalid_limit'],
      ['order=ASC', 'invalid_order'],
      ['order=asc&order=desc', 'invalid_order'],
    ];
    for (const [query, code] of badQueries) {
      expect((await raw(null, 'GET', `/queues/default/jobs?${query}`)).status, query).toBe(401);
      const res = await raw('viewer', 'GET', `/queues/default/jobs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error!.code, query).toBe(code);
    }
    const badBodies = [
      JSON.stringify({ ids: Array.from({ length: 50_000 }, (_, i) => String(i)) }),
      JSON.stringify({ ids: [{}] }),
      JSON.stringify({ ids: [['nested']] }),
      JSON.stringify({ ids: [true] }),
      JSON.stringify({ ids: [1.5] }),
      JSON.stringify({ ids: { 0: 'a', length: 1 } }),
      JSON.stringify({ ids: null }),
      JSON.stringify({ __proto__: { ids: ['a'] } }),
      '{"ids":[1e400]}',
      '"ids"',
      '0',
    ];
    for (const payload of badBodies) {
      const what = payload.slice(0, 60);
      expect((await raw(null, 'POST', `/queues/${RUN}/jobs/retry`, payload)).status, what).toBe(401);
      expect((await raw('viewer', 'POST', `/queues/${RUN}/jobs/remove`, payload)).status, what).toBe(403);
      const res = await raw('admin', 'POST', `/queues/${RUN}/jobs/remove`, payload);
      expect(res.status, what).toBe(400);
      expect(res.body.error!.code, what).toBe('invalid_ids');
    }
    // A long queue name is refused by the route's shape (like pause and retry-failed), still no 500.
    const long = await raw('admin', 'POST', `/queues/${'q'.repeat(101)}/jobs/retry`, JSON.stringify({ ids: ['a'] }));
    expect(long.status).toBe(400);
    expect(long.body.error!.code).toBe('invalid_request');
    expect((await raw(null, 'POST', `/queues/${'q'.repeat(101)}/jobs/retry`, '{}')).status).toBe(401);
  });

  it('answers every id when two operators retry and remove the same ids at once', async () => {
    broken = true;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await enqueue('test.jobs.fragile', [`race ${i}`]));
    await settled(ids, 'FAILURE');
    broken = false;
    const calls = [
      call('admin', 'POST', `/queues/${RUN}/jobs/remove`, { ids }),
      call('admin', 'POST', `/queues/${RUN}/jobs/retry`, { ids }),
      call('operator', 'POST', `/queues/${RUN}/jobs/retry`, { ids: [...ids].reverse() }),
      call('cleaner', 'POST', `/queues/${RUN}/jobs/remove`, { ids: [...ids].reverse() }),
    ];
    const answers = await Promise.all(calls);
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.results).toHaveLength(30);
      expect(answer.body.done + answer.body.notFound + answer.body.wrongState).toBe(30);
    }
    // Each id was retried at most once, and ends removed or run again.
    const retriedTwice = ids.filter((id) => answers[1]!.body.results.find((r: { id: string }) => r.id === id).outcome === 'done' && answers[2]!.body.results.find((r: { id: string }) => r.id === id).outcome === 'done');
    expect(retriedTwice).toEqual([]);
    await waitFor(async () => (await Promise.all(ids.map(statusOf))).every((s) => s === undefined || s === 'SUCCESS'));
  });
});
