// The periodic-task and schedule API against a real database (both dialects) and a real Redis.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor } from '../../test/helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { auditLog, createToken, staffGuard } from '../admin/index.js';
import { ConfigSync, PeriodicTasks, RunClaims, beatChangesChannel, parseDeclaredEntry, registerBeatRoutes, syncStaticSchedules } from './index.js';
import '../demo/tasks.js';
import { keyspace, type Redis } from '../platform/redis.js';
import { TaskClient, startWorker, type RunningWorker } from '../tasks/index.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestClient, type AdminTestServer } from '../admin/test-server.js';

const BASE = '/api/v1/admin/periodic-tasks';
const every = (n: number, period = 'seconds') => ({ interval: { every: n, period } });
const logger = pino({ level: 'silent' });

interface TaskJson {
  id: number;
  name: string;
  enabled: boolean;
  nextRunAt: string | null;
  [key: string]: unknown;
}
interface PageJson<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

describe.each(DIALECTS)('periodic task API on %s', (dialect) => {
  let t: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let client: TaskClient;
  let tasks: PeriodicTasks;
  let server: AdminTestServer;
  let root: AdminTestClient;
  let worker: RunningWorker | undefined;
  let notified = 0;
  const queue = `pt-api-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    redis = await testRedis();
    prefix = uniquePrefix('ptapi');
    client = new TaskClient({ redis, redisTarget: testRedisUrl(), keys: keyspace(prefix), retention: { successSeconds: 3600, failureSeconds: 3600 }, eventsMaxLen: 10_000, logger });
    tasks = new PeriodicTasks(t.db, { timezone: 'Europe/Warsaw' });
    server = await startAdminTestServer(t.db, {
      routes: (app) => registerBeatRoutes(app, { tasks, claims: new RunClaims(t.db), client, logger, timezone: 'Europe/Warsaw', notify: () => void notified++, guard: staffGuard, audit: auditLog(t.db) }),
    });
    await makeUser(t.db, 'root', { isSuperuser: true });
    root = server.client();
    expect((await root.login('root', TEST_PASSWORD)).statusCode).toBe(303);
  });
  afterAll(async () => {
    await worker?.close();
    await server?.close();
    await client?.close();
    if (redis) {
      await deleteKeys(redis, `{${prefix}}*`);
      await redis.quit();
    }
    await t?.drop();
  });

  async function loggedIn(username: string, permissions: string[] = []): Promise<AdminTestClient> {
    await makeUser(t.db, username, { permissions: permissions as never });
    const c = server.client();
    expect((await c.login(username, TEST_PASSWORD)).statusCode).toBe(303);
    return c;
  }
  async function lastLog() {
    const page = (await root.call('GET', '/api/v1/admin/log?objectType=periodictask&pageSize=1')).json<PageJson<Record<string, unknown>>>();
    return page.items[0];
  }
  async function create(body: Record<string, unknown>): Promise<TaskJson> {
    const res = await root.call('POST', BASE, { task: 'demo.noop', schedule: every(10), ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<TaskJson>();
  }
  const ids = (res: { json<T>(): T }) => res.json<PageJson<TaskJson>>().items.map((i) => i.id);

  it('creates, reads, changes and deletes a periodic task in the contract’s JSON, audited, waking the beats each time', async () => {
    const before = notified;
    const created = await root.call('POST', BASE, {
      name: 'weekday report', task: 'demo.add', args: [1, 2], schedule: { crontab: { minute: '30', hour: '7', dayOfWeek: 'mon-fri' } }, priority: 3, description: 'adds',
    });
    expect(created.statusCode).toBe(201);
    const task = created.json<TaskJson>();
    expect(task).toEqual({
      id: expect.any(Number), name: 'weekday report', task: 'demo.add', taskRegistered: true, args: [1, 2], kwargs: {}, enabled: true,
      schedule: { crontab: { minute: '30', hour: '7', dayOfWeek: 'mon-fri', dayOfMonth: '*', monthOfYear: '*', timezone: 'Europe/Warsaw' } },
      scheduleKind: 'crontab', scheduleDescription: expect.stringContaining('07:30'), queue: null, priority: 3, oneOff: false, startTime: null,
      expires: null, expireSeconds: null, description: 'adds', missedRunPolicy: 'once', overlapPolicy: 'allow', source: 'admin', fieldSources: null,
      declared: null, lastRunAt: null, totalRunCount: 0, lastTaskId: null, nextRunAt: expect.any(String), dateCreated: expect.any(String), dateChanged: expect.any(String),
    });
    expect(task.scheduleDescription).toContain('Europe/Warsaw');
    expect(notified).toBe(before + 1);
    expect(await lastLog()).toMatchObject({ username: 'root', action: 'add', objectId: String(task.id), objectRepr: 'weekday report', changeMessage: [{ added: {} }] });

    const read = await root.call('GET', `${BASE}/${task.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(task);

    const patched = await root.call('PATCH', `${BASE}/${task.id}`, { schedule: every(5, 'minutes'), args: '[4, 5]', description: 'adds' });
    expect(patched.statusCode).toBe(200);
    const after = patched.json<TaskJson>();
    expect(after).toMatchObject({ id: task.id, schedule: { interval: { every: 5, period: 'minutes' } }, scheduleKind: 'interval', scheduleDescription: 'Every 5 minutes', args: [4, 5] });
    expect(Date.parse(after.nextRunAt!) % 300_000).toBe(0);
    expect(notified).toBe(before + 2);
    expect(await lastLog()).toMatchObject({ action: 'change', changeMessage: [{ changed: { fields: ['schedule', 'args'] } }] });
    // Nothing changed: nothing logged, nobody woken.
    expect((await root.call('PATCH', `${BASE}/${task.id}`, { args: [4, 5] })).statusCode).toBe(200);
    expect(notified).toBe(before + 2);
    const renamed = await root.call('PATCH', `${BASE}/${task.id}`, { name: 'renamed report', enabled: false });
    expect(renamed.json()).toMatchObject({ name: 'renamed report', enabled: false, nextRunAt: null });
    expect(await lastLog()).toMatchObject({ objectRepr: 'renamed report', changeMessage: [{ changed: { fields: ['name', 'enabled'] } }] });

    const removed = await root.call('DELETE', `${BASE}/${task.id}`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ id: task.id, name: 'renamed report', source: 'admin', deleted: true, restoredOnBeatStart: false, message: null });
    expect(notified).toBe(before + 4);
    expect(await lastLog()).toMatchObject({ action: 'delete', objectRepr: 'renamed report', changeMessage: [{ deleted: {} }] });
    for (const [method, url] of [['GET', `${BASE}/${task.id}`], ['PATCH', `${BASE}/${task.id}`], ['DELETE', `${BASE}/${task.id}`], ['POST', `${BASE}/${task.id}/run`], ['GET', `${BASE}/${task.id}/runs`], ['POST', `${BASE}/${task.id}/reset`], ['PATCH', `${BASE}/99999999`]] as const) {
      const res = await root.call(method, url, method === 'PATCH' ? { enabled: true } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json(), `${method} ${url}`).toMatchObject({ error: { code: 'periodic_task_not_found' } });
    }
    // An id that is not one: 400, on reads and writes alike.
    for (const [method, url] of [['GET', `${BASE}/abc`], ['PATCH', `${BASE}/abc`], ['DELETE', `${BASE}/0`], ['POST', `${BASE}/1.5/run`]] as const)
      expect((await root.call(method, url, method === 'PATCH' ? {} : undefined)).json(), `${method} ${url}`).toMatchObject({ error: { code: 'invalid_request' } });
    expect(notified).toBe(before + 4);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const base = { name: 'bad input', task: 'demo.noop', schedule: every(10) };
    const cases: [string, Record<string, unknown>, string][] = [
      ['bad cron', { schedule: { crontab: { minute: '61' } } }, 'schedule.crontab.minute'],
      ['bad cron text', { schedule: { crontab: { hour: 'noon' } } }, 'schedule.crontab.hour'],
      ['args as text that is not JSON', { args: 'not json' }, 'args'],
      ['args as the text of an object', { args: '{"a": 1}' }, 'args'],
      ['args as a JSON object', { args: { a: 1 } }, 'args'],
      ['kwargs as a JSON array', { kwargs: [1] }, 'kwargs'],
      ['args that do not fit the task', { task: 'demo.add', args: ['one', 2] }, 'args'],
      ['unknown task', { task: 'nowhere.defined' }, 'task'],
      ['customTask not a boolean', { task: 'nowhere.defined', customTask: 'yes' }, 'customTask'],
      ['zero schedule kinds', { schedule: {} }, 'schedule'],
      ['two schedule kinds', { schedule: { ...every(1), crontab: { minute: '1' } } }, 'schedule'],
      ['no schedule', { schedule: undefined }, 'schedule'],
      ['unknown time zone', { schedule: { crontab: { minute: '0', timezone: 'Mars/Olympus_Mons' } } }, 'schedule.crontab.timezone'],
      ['interval 0', { schedule: every(0) }, 'schedule.interval.every'],
      ['negative interval', { schedule: every(-5) }, 'schedule.interval.every'],
      ['expires and expireSeconds', { expires: '2099-01-01T00:00:00Z', expireSeconds: 30 }, 'expireSeconds'],
      ['no name', { name: undefined }, 'name'],
      ['an unknown field', { colour: 'red' }, 'colour'],
    ];
    const before = notified;
    for (const [label, change, field] of cases) {
      const res = await root.call('POST', BASE, { ...base, ...change });
      expect(res.statusCode, label).toBe(400);
      const body = res.json<{ error: { code: string; message: string; fields: Record<string, string> } }>();
      expect(body.error.code, label).toBe('invalid_periodic_task');
      expect(Object.keys(body.error.fields), label).toContain(field);
      expect(body.error.message, label).toContain(body.error.fields[field]);
    }
    expect((await root.call('GET', `${BASE}?search=bad%20input`)).json()).toMatchObject({ total: 0 });
    // The same checks guard a change.
    const task = await create({ name: 'good input' });
    for (const [label, change, field] of cases.filter(([, c]) => Object.values(c).every((v) => v !== undefined))) {
      const res = await root.call('PATCH', `${BASE}/${task.id}`, change);
      expect(res.statusCode, label).toBe(400);
      expect(Object.keys(res.json<{ error: { fields: Record<string, string> } }>().error.fields), label).toContain(field);
    }
    expect((await root.call('GET', `${BASE}/${task.id}`)).json()).toMatchObject({ task: 'demo.noop', schedule: every(10), args: [] });
    expect(notified).toBe(before + 1);
    // A task only some workers define is accepted when marked custom, and shows as not registered here.
    const custom = await root.call('POST', BASE, { ...base, name: 'custom', task: 'nowhere.defined', customTask: true });
    expect(custom.statusCode).toBe(201);
    expect(custom.json()).toMatchObject({ task: 'nowhere.defined', taskRegistered: false });
    // Changing its other fields does not need the flag again.
    expect((await root.call('PATCH', `${BASE}/${custom.json<TaskJson>().id}`, { description: 'x' })).statusCode).toBe(200);
    // Form fields arrive as text.
    expect((await create({ name: 'text args', task: 'demo.add', args: '[1, 2]' })).args).toEqual([1, 2]);
  });

  it('lists with search, filters, sort and pages, on the server', async () => {
    const alpha = await create({ name: 'lst-alpha', task: 'demo.add', args: [1, 1], queue: 'q1', description: 'the NIGHTLY numbers' });
    const beta = await create({ name: 'lst-beta', schedule: { crontab: { minute: '0' } }, enabled: false });
    const gamma = await create({ name: 'lst-gamma', schedule: { clocked: { at: '2099-01-01T00:00:00Z' } }, queue: 'q1' });
    const delta = await create({ name: 'lst-delta', task: 'demo.sleep', args: [1], schedule: { solar: { event: 'sunrise', latitude: 52.23, longitude: 21.01 } } });
    const q = (query: string) => root.call('GET', `${BASE}?search=lst-&${query}`);
    expect(ids(await q(''))).toEqual([alpha.id, beta.id, delta.id, gamma.id]);
    expect((await q('')).json()).toMatchObject({ total: 4, page: 1, pageSize: 50 });
    expect(ids(await root.call('GET', `${BASE}?search=nightly`))).toEqual([alpha.id]);
    const byTask = ids(await root.call('GET', `${BASE}?search=DEMO.SLE`));
    expect(byTask).toContain(delta.id);
    expect(byTask).not.toContain(alpha.id);
    expect(ids(await q('enabled=false'))).toEqual([beta.id]);
    expect(ids(await q('enabled=true'))).toEqual([alpha.id, delta.id, gamma.id]);
    expect(ids(await q('scheduleKind=crontab'))).toEqual([beta.id]);
    expect(ids(await q('scheduleKind=solar'))).toEqual([delta.id]);
    expect(ids(await q('task=demo.noop'))).toEqual([beta.id, gamma.id]);
    expect(ids(await q('queue=q1'))).toEqual([alpha.id, gamma.id]);
    expect(ids(await q('source=admin'))).toHaveLength(4);
    expect(ids(await q('source=config'))).toEqual([]);
    expect(ids(await q('sort=-name'))).toEqual([gamma.id, delta.id, beta.id, alpha.id]);
    // Every 10 s, then the next sunrise, then 2099; disabled (no next run) last either way.
    expect(ids(await q('sort=nextRunAt'))).toEqual([alpha.id, delta.id, gamma.id, beta.id]);
    expect(ids(await q('sort=-nextRunAt'))).toEqual([gamma.id, delta.id, alpha.id, beta.id]);
    await root.call('PATCH', `${BASE}/${beta.id}`, { description: 'touched' });
    expect(ids(await q('sort=-dateChanged'))[0]).toBe(beta.id);
    const page2 = await q('sort=name&pageSize=3&page=2');
    expect(ids(page2)).toEqual([gamma.id]);
    expect(page2.json()).toMatchObject({ total: 4, page: 2, pageSize: 3 });
    expect((await q('pageSize=201')).statusCode).toBe(400);
    expect((await q('sort=colour')).statusCode).toBe(400);
    expect((await q('scheduleKind=weekly')).statusCode).toBe(400);
  });

  it('enables, disables and deletes in bulk, reporting each id, audited', async () => {
    const a = await create({ name: 'bulk-a' });
    const b = await create({ name: 'bulk-b' });
    const c = await create({ name: 'bulk-c', enabled: false });
    const before = notified;
    const disabled = await root.call('POST', `${BASE}/bulk`, { ids: [a.id, b.id, c.id, 999_999], action: 'disable' });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toEqual({ action: 'disable', changed: [a.id, b.id], unchanged: [c.id], notFound: [999_999], refused: [], restoredOnBeatStart: [] });
    expect(ids(await root.call('GET', `${BASE}?search=bulk-&enabled=false`))).toEqual([a.id, b.id, c.id]);
    expect((await root.call('GET', `${BASE}/${a.id}`)).json()).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await lastLog()).toMatchObject({ action: 'change', objectRepr: 'bulk-b', changeMessage: [{ changed: { fields: ['enabled'] } }] });
    expect(notified).toBe(before + 1);

    const enabled = await root.call('POST', `${BASE}/bulk`, { ids: [a.id, c.id], action: 'enable' });
    expect(enabled.json()).toMatchObject({ changed: [a.id, c.id], unchanged: [] });
    expect(ids(await root.call('GET', `${BASE}?search=bulk-&enabled=true`))).toEqual([a.id, c.id]);
    expect((await root.call('GET', `${BASE}/${c.id}`)).json<TaskJson>().nextRunAt).not.toBeNull();

    const nothing = await root.call('POST', `${BASE}/bulk`, { ids: [a.id], action: 'enable' });
    expect(nothing.json()).toMatchObject({ changed: [], unchanged: [a.id] });
    expect(notified).toBe(before + 2);

    const removed = await root.call('POST', `${BASE}/bulk`, { ids: [a.id, c.id], action: 'delete' });
    expect(removed.json()).toMatchObject({ action: 'delete', changed: [a.id, c.id] });
    expect(ids(await root.call('GET', `${BASE}?search=bulk-`))).toEqual([b.id]);
    expect(await lastLog()).toMatchObject({ action: 'delete', objectRepr: 'bulk-c' });
    expect(notified).toBe(before + 3);

    for (const [body, field] of [[{ ids: [a.id], action: 'explode' }, 'action'], [{ ids: 'all', action: 'enable' }, 'ids'], [{ ids: [], action: 'enable' }, 'ids'], [{ ids: [-1], action: 'enable' }, 'ids']] as const) {
      const res = await root.call('POST', `${BASE}/bulk`, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_bulk_action', fields: { [field]: expect.any(String) } } });
    }
    // Changing needs change_periodictask, deleting delete_periodictask.
    const changer = await loggedIn('bulk-changer', ['view_periodictask', 'change_periodictask']);
    expect((await changer.call('POST', `${BASE}/bulk`, { ids: [b.id], action: 'enable' })).json()).toMatchObject({ changed: [b.id] });
    expect((await changer.call('POST', `${BASE}/bulk`, { ids: [b.id], action: 'delete' })).statusCode).toBe(403);
    expect(notified).toBe(before + 4);
  });

  it('lets a config task be overridden, reset to its declaration, and deleted until the next beat start; never a builtin', async () => {
    const entry = { task: 'demo.add', args: [1, 2], schedule: every(30), description: 'from the file' };
    await new ConfigSync(t.db).upsertDeclared('cfg-report', 'config', parseDeclaredEntry('cfg-report', entry, 'Europe/Warsaw'));
    await new ConfigSync(t.db).upsertDeclared('cfg-builtin', 'builtin', parseDeclaredEntry('cfg-builtin', { task: 'demo.noop', schedule: every(1, 'hours') }, 'Europe/Warsaw'));
    const [cfg, builtin] = (await root.call('GET', `${BASE}?search=cfg-&sort=-name`)).json<PageJson<TaskJson>>().items;
    expect(cfg).toMatchObject({ name: 'cfg-report', source: 'config', fieldSources: { args: 'config', enabled: 'config' }, declared: { args: [1, 2] } });
    expect(builtin).toMatchObject({ name: 'cfg-builtin', source: 'builtin' });
    expect(ids(await root.call('GET', `${BASE}?search=cfg-&source=builtin`))).toEqual([builtin!.id]);

    const overridden = await root.call('PATCH', `${BASE}/${cfg!.id}`, { args: [5, 5], enabled: false });
    expect(overridden.json()).toMatchObject({ args: [5, 5], enabled: false, fieldSources: { args: 'admin', enabled: 'admin', schedule: 'config' } });
    expect((await root.call('PATCH', `${BASE}/${cfg!.id}`, { name: 'other' })).json()).toMatchObject({ error: { code: 'invalid_periodic_task', fields: { name: expect.any(String) } } });

    const before = notified;
    const partly = await root.call('POST', `${BASE}/${cfg!.id}/reset`, { fields: ['enabled'] });
    expect(partly.json()).toMatchObject({ args: [5, 5], enabled: true, fieldSources: { args: 'admin', enabled: 'config' } });
    expect(await lastLog()).toMatchObject({ action: 'change', changeMessage: [{ changed: { fields: ['enabled'] } }] });
    const reset = await root.call('POST', `${BASE}/${cfg!.id}/reset`);
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ args: [1, 2], enabled: true, fieldSources: { args: 'config' } });
    expect(notified).toBe(before + 2);
    expect((await root.call('POST', `${BASE}/${cfg!.id}/reset`, { fields: ['colour'] })).json()).toMatchObject({ error: { fields: { fields: expect.any(String) } } });
    const adminTask = await create({ name: 'cfg-not-declared' });
    expect((await root.call('POST', `${BASE}/${adminTask.id}/reset`)).json()).toMatchObject({ error: { code: 'invalid_periodic_task', fields: { source: expect.any(String) } } });

    const builtinDelete = await root.call('DELETE', `${BASE}/${builtin!.id}`);
    expect(builtinDelete.statusCode).toBe(400);
    expect(builtinDelete.json()).toMatchObject({ error: { fields: { source: expect.any(String) } } });
    expect((await root.call('POST', `${BASE}/bulk`, { ids: [builtin!.id], action: 'delete' })).json()).toMatchObject({ changed: [], refused: [{ id: builtin!.id }] });
    expect((await root.call('GET', `${BASE}/${builtin!.id}`)).statusCode).toBe(200);

    const deleted = await root.call('DELETE', `${BASE}/${cfg!.id}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ deleted: true, source: 'config', restoredOnBeatStart: true, message: expect.stringContaining('next beat start') });
    expect((await root.call('GET', `${BASE}/${cfg!.id}`)).statusCode).toBe(404);
    // What a beat start does: the declaration comes back.
    await syncStaticSchedules(new ConfigSync(t.db), { 'cfg-report': entry }, 'Europe/Warsaw', { builtins: {} });
    expect(ids(await root.call('GET', `${BASE}?search=cfg-report`))).toHaveLength(1);
  });

  it('runs a task now on the real broker, and shows it in the run history with its outcome', async () => {
    worker = await startWorker({ redisTarget: testRedisUrl(), client, queues: [queue], concurrency: 1, logger, shutdownTimeoutMs: 2000 });
    const task = await create({ name: 'run me', task: 'demo.add', args: [2, 3], queue, enabled: false });
    const before = notified;
    const ran = await root.call('POST', `${BASE}/${task.id}/run`);
    expect(ran.statusCode).toBe(202);
    const { taskId, url } = ran.json<{ taskId: string; url: string }>();
    expect(url).toBe(`/api/v1/tasks/${taskId}`);
    expect(notified).toBe(before);
    expect(await lastLog()).toMatchObject({ action: 'other', objectRepr: 'run me', changeMessage: `Ran now as task ${taskId}.` });
    const done = await waitFor(async () => {
      const v = await client.getTask(taskId);
      return v?.status === 'SUCCESS' ? v : undefined;
    }, 10_000);
    expect(done).toMatchObject({ name: 'demo.add', queue, result: 5 });
    const runs = await root.call('GET', `${BASE}/${task.id}/runs`);
    expect(runs.statusCode).toBe(200);
    const page = runs.json<PageJson<Record<string, unknown>>>();
    expect(page).toMatchObject({ total: 1, page: 1, pageSize: 50 });
    expect(page.items[0]).toMatchObject({ taskId, trigger: 'manual', status: 'SUCCESS', startedAt: expect.any(String), finishedAt: expect.any(String), url, periodicTaskId: task.id });
    const run = page.items[0] as { duration: number; startedAt: string; finishedAt: string; scheduledFor: string };
    expect(run.duration).toBe((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
    expect(run.duration).toBeGreaterThanOrEqual(0);
    expect(Date.parse(run.scheduledFor)).toBeLessThanOrEqual(Date.parse(run.startedAt));
    expect((await root.call('GET', `${BASE}/${task.id}`)).json()).toMatchObject({ lastTaskId: taskId, enabled: false });
    // Arguments the task refuses (stored before the task declared its schema) fail the run with a 400.
    const stale = await tasks.create({ name: 'stale args', task: 'demo.add', args: ['x'], queue, schedule: every(10) });
    const failed = await root.call('POST', `${BASE}/${stale.id}/run`);
    expect(failed.statusCode).toBe(400);
    expect(failed.json()).toMatchObject({ error: { code: 'run_failed' } });
    expect((await root.call('GET', `${BASE}/${stale.id}/runs`)).json()).toMatchObject({ total: 1, items: [{ status: 'failed', trigger: 'manual' }] });
  });

  it('previews a schedule: its words and next five instants, in UTC and local time', async () => {
    const res = await root.call('POST', '/api/v1/admin/schedules/preview', { schedule: { crontab: { minute: '30', hour: '7', dayOfWeek: 'mon-fri' } } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ description: string; timezone: string; kind: string; schedule: unknown; next: { at: string; local: string; timezone: string }[] }>();
    expect(body).toMatchObject({ kind: 'crontab', timezone: 'Europe/Warsaw', schedule: { crontab: { timezone: 'Europe/Warsaw' } } });
    expect(body.description).toBe('At 07:30, Monday through Friday (Europe/Warsaw)');
    expect(body.next).toHaveLength(5);
    const instants = body.next.map((n) => Date.parse(n.at));
    for (let i = 1; i < 5; i++) expect(instants[i]).toBeGreaterThan(instants[i - 1]!);
    expect(instants[0]).toBeGreaterThan(Date.now());
    for (const n of body.next) {
      expect(n.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(n.local).toMatch(/^\d{4}-\d\d-\d\dT07:30:00\.000\+0[12]:00$/);
      expect(Date.parse(n.local)).toBe(Date.parse(n.at));
      expect(n.timezone).toBe('Europe/Warsaw');
      expect([1, 2, 3, 4, 5]).toContain(new Date(n.local.slice(0, 10)).getUTCDay());
    }
    // An interval from a start time: anchored on it; the installation's zone for the local times.
    const startTime = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000).toISOString();
    const interval = (await root.call('POST', '/api/v1/admin/schedules/preview', { schedule: every(90, 'minutes'), startTime })).json<typeof body>();
    expect(interval.description).toBe('Every 90 minutes');
    expect(interval.next.map((n) => Date.parse(n.at) - Date.parse(startTime))).toEqual([0, 1, 2, 3, 4].map((k) => k * 5_400_000));
    expect(interval.next[0]!.timezone).toBe('Europe/Warsaw');
    const clocked = (await root.call('POST', '/api/v1/admin/schedules/preview', { schedule: { clocked: { at: '2099-05-01T10:00:00+02:00' } } })).json<typeof body>();
    expect(clocked.next).toEqual([{ at: '2099-05-01T08:00:00.000Z', local: '2099-05-01T10:00:00.000+02:00', timezone: 'Europe/Warsaw' }]);

    const cases: [unknown, string][] = [
      [{ schedule: { crontab: { minute: '*/0' } } }, 'schedule.crontab.minute'],
      [{ schedule: { crontab: { timezone: 'Nowhere/Special' } } }, 'schedule.crontab.timezone'],
      [{ schedule: every(0) }, 'schedule.interval.every'],
      [{ schedule: every(-1) }, 'schedule.interval.every'],
      [{ schedule: {} }, 'schedule'],
      [{ schedule: { ...every(1), clocked: { at: '2099-01-01T00:00:00Z' } } }, 'schedule'],
      [{}, 'schedule'],
      [{ schedule: every(1), startTime: 'soon' }, 'startTime'],
    ];
    for (const [request, field] of cases) {
      const bad = await root.call('POST', '/api/v1/admin/schedules/preview', request);
      expect(bad.statusCode, JSON.stringify(request)).toBe(400);
      expect(bad.json(), JSON.stringify(request)).toMatchObject({ error: { code: 'invalid_schedule', fields: { [field]: expect.any(String) } } });
      // A form previewing as the user types asks for the verdict as an answer (no failed request in the console).
      const inline = await root.call('POST', '/api/v1/admin/schedules/preview?errors=inline', request);
      expect(inline.statusCode, JSON.stringify(request)).toBe(200);
      expect(inline.json()).toEqual({ invalid: bad.json().error });
    }
    const good = await root.call('POST', '/api/v1/admin/schedules/preview?errors=inline', { schedule: every(1) });
    expect(good.json()).toMatchObject({ kind: 'interval', next: expect.any(Array) });
    expect(good.json().invalid).toBeUndefined();
    const unknown = await root.call('POST', '/api/v1/admin/schedules/preview?errors=loud', { schedule: every(1) });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: { code: 'invalid_query', message: 'errors: errors must be "inline" when given', fields: { errors: 'errors must be "inline" when given' } } });
  });

  it('lists the distinct schedules of a kind with the tasks using each, by permission', async () => {
    const s1 = await create({ name: 'sch-one', schedule: every(17, 'minutes') });
    const s2 = await create({ name: 'sch-two', schedule: every(17, 'minutes'), enabled: false });
    const s3 = await create({ name: 'sch-three', schedule: every(3, 'days') });
    await create({ name: 'sch-cron', schedule: { crontab: { minute: '17', hour: '3' } } });
    const res = await root.call('GET', '/api/v1/admin/schedules?kind=interval&search=sch-');
    expect(res.statusCode).toBe(200);
    const page = res.json<PageJson<{ key: string }>>();
    expect(page).toMatchObject({
      total: 2,
      items: [
        { kind: 'interval', schedule: every(17, 'minutes'), description: 'Every 17 minutes', taskCount: 2, tasks: [{ id: s1.id, name: 'sch-one', enabled: true }, { id: s2.id, name: 'sch-two', enabled: false }] },
        { schedule: every(3, 'days'), description: 'Every 3 days', taskCount: 1, tasks: [{ id: s3.id }] },
      ],
    });
    expect(page.items[0]!.key).toMatch(/^[0-9a-f]{16}$/);
    expect(page.items[0]!.key).not.toBe(page.items[1]!.key);
    expect((await root.call('GET', '/api/v1/admin/schedules?kind=interval&search=17%20minutes')).json()).toMatchObject({ total: 1, items: [{ taskCount: 2 }] });
    expect((await root.call('GET', '/api/v1/admin/schedules?kind=interval&search=sch-&pageSize=1&page=2')).json()).toMatchObject({ total: 2, page: 2, pageSize: 1, items: [{ taskCount: 1 }] });
    expect((await root.call('GET', '/api/v1/admin/schedules?kind=crontab&search=sch-')).json()).toMatchObject({ total: 1, items: [{ description: 'At 03:17, every day (Europe/Warsaw)' }] });
    expect((await root.call('GET', '/api/v1/admin/schedules')).statusCode).toBe(400);
    // Sorted by how many tasks use each, and filtered by whether an enabled task uses it.
    const descriptions = async (query: string) =>
      (await root.call('GET', `/api/v1/admin/schedules?kind=interval&search=sch-&${query}`)).json<PageJson<{ description: string }>>().items.map((i) => i.description);
    expect(await descriptions('sort=taskCount')).toEqual(['Every 3 days', 'Every 17 minutes']);
    expect(await descriptions('sort=-taskCount')).toEqual(['Every 17 minutes', 'Every 3 days']);
    expect(await descriptions('sort=-schedule')).toEqual(['Every 3 days', 'Every 17 minutes']);
    await root.call('PATCH', `/api/v1/admin/periodic-tasks/${s1.id}`, { enabled: false });
    expect(await descriptions('enabled=false')).toEqual(['Every 17 minutes']);
    expect(await descriptions('enabled=true')).toEqual(['Every 3 days']);
    expect((await root.call('GET', '/api/v1/admin/schedules?kind=interval&sort=name')).statusCode).toBe(400);

    const viewer = await loggedIn('interval-viewer', ['view_intervalschedule']);
    expect((await viewer.call('GET', '/api/v1/admin/schedules?kind=interval&search=sch-')).statusCode).toBe(200);
    const denied = await viewer.call('GET', '/api/v1/admin/schedules?kind=crontab');
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'permission_denied', message: expect.stringContaining('view_crontabschedule') } });
  });

  it('describes the registered tasks with their argument schemas as JSON Schema', async () => {
    const res = await root.call('GET', '/api/v1/admin/registered-tasks');
    expect(res.statusCode).toBe(200);
    const tasks = res.json<{ name: string; argsSchema: unknown }[]>();
    expect(tasks.map((x) => x.name)).toEqual([...tasks.map((x) => x.name)].sort((a, b) => a.localeCompare(b)));
    expect(tasks.find((x) => x.name === 'demo.add')).toEqual({
      name: 'demo.add', queue: 'default', description: 'Adds two numbers.', maxAttempts: 1,
      argsSchema: expect.objectContaining({ type: 'array', prefixItems: [{ type: 'number', title: 'a' }, { type: 'number', title: 'b' }], minItems: 2 }),
      kwargsSchema: null,
    });
    expect(tasks.find((x) => x.name === 'demo.noop')).toMatchObject({ argsSchema: null });
    expect((await server.client().request({ method: 'GET', url: '/api/v1/admin/registered-tasks' })).statusCode).toBe(401);
  });

  it('needs a session with CSRF or a bearer token, and the periodictask permissions', async () => {
    const task = await create({ name: 'guarded' });
    const anonymous = server.client();
    for (const [method, url] of [['GET', BASE], ['GET', `${BASE}/${task.id}`], ['POST', BASE], ['PATCH', `${BASE}/${task.id}`], ['DELETE', `${BASE}/${task.id}`], ['POST', `${BASE}/${task.id}/run`], ['POST', `${BASE}/bulk`], ['POST', '/api/v1/admin/schedules/preview'], ['GET', '/api/v1/admin/schedules?kind=interval']] as const) {
      const res = await anonymous.request({ method, url, payload: method === 'GET' ? undefined : {} });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
    const nobody = await loggedIn('pt-nobody');
    const before = notified;
    const forbidden: [string, string, unknown?][] = [
      ['GET', BASE], ['GET', `${BASE}/${task.id}`], ['GET', `${BASE}/${task.id}/runs`], ['POST', BASE, { name: 'x', task: 'demo.noop', schedule: every(1) }],
      ['PATCH', `${BASE}/${task.id}`, { enabled: false }], ['DELETE', `${BASE}/${task.id}`], ['POST', `${BASE}/${task.id}/run`], ['POST', `${BASE}/${task.id}/reset`],
      ['POST', `${BASE}/bulk`, { ids: [task.id], action: 'disable' }], ['GET', '/api/v1/admin/schedules?kind=interval'],
    ];
    for (const [method, url, body] of forbidden) {
      const res = await nobody.call(method as 'GET', url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'permission_denied' } });
    }
    const viewer = await loggedIn('pt-viewer', ['view_periodictask']);
    expect((await viewer.call('GET', `${BASE}/${task.id}`)).statusCode).toBe(200);
    expect((await viewer.call('PATCH', `${BASE}/${task.id}`, { enabled: false })).statusCode).toBe(403);
    expect((await viewer.call('POST', '/api/v1/admin/schedules/preview', { schedule: every(1) })).statusCode).toBe(200);
    expect((await root.call('GET', `${BASE}/${task.id}`)).json()).toMatchObject({ enabled: true });

    // A cookie session without the CSRF token is refused before anything is written.
    for (const [method, url, payload] of [['POST', BASE, { name: 'no csrf', task: 'demo.noop', schedule: every(1) }], ['PATCH', `${BASE}/${task.id}`, { enabled: false }], ['DELETE', `${BASE}/${task.id}`, undefined], ['POST', `${BASE}/bulk`, { ids: [task.id], action: 'delete' }]] as const) {
      const res = await root.request({ method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'csrf_failed' } });
    }
    expect((await root.call('GET', `${BASE}/${task.id}`)).json()).toMatchObject({ enabled: true });
    expect((await root.call('GET', `${BASE}?search=no%20csrf`)).json()).toMatchObject({ total: 0 });
    expect(notified).toBe(before);

    // A bearer token needs no CSRF token; the change is logged under its user.
    const bot = await makeUser(t.db, 'pt-bot', { permissions: ['add_periodictask', 'view_periodictask'] });
    const scripted = server.client();
    scripted.bearer = (await createToken(t.db, bot.id, 'ci')).token;
    const made = await scripted.request({ method: 'POST', url: BASE, payload: { name: 'by a script', task: 'demo.noop', schedule: every(1, 'hours') } });
    expect(made.statusCode).toBe(201);
    expect(await lastLog()).toMatchObject({ username: 'pt-bot', action: 'add', objectRepr: 'by a script' });
    expect(notified).toBe(before + 1);
    expect((await scripted.request({ method: 'DELETE', url: `${BASE}/${made.json<TaskJson>().id}` })).statusCode).toBe(403);
  });

  it('checks the caller before the input, and answers any bad input with beat’s field errors, never a 500', async () => {
    const task = await create({ name: 'intruded' });
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const raw = (c: AdminTestClient, method: 'POST' | 'PATCH' | 'GET' | 'DELETE', url: string, payload?: string, csrf?: string) =>
      c.request({ method, url, headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}) }, payload });
    const badBodies = ['[]', '[{"name":"x"}]', '"text"', '1e400', 'null', '{"name":{"a":1},"schedule":[1]}', `{"args":${deep(60)},"colour":1}`];
    const writes: ['POST' | 'PATCH', string][] = [['POST', BASE], ['PATCH', `${BASE}/${task.id}`], ['POST', `${BASE}/${task.id}/reset`], ['POST', `${BASE}/bulk`], ['POST', '/api/v1/admin/schedules/preview']];

    // Nobody signed in: 401 whatever the body, the id or the query.
    const anonymous = server.client();
    for (const [method, url] of writes) for (const body of badBodies) expect((await raw(anonymous, method, url, body)).statusCode, `${method} ${url} ${body.slice(0, 30)}`).toBe(401);
    for (const url of [`${BASE}/abc`, `${BASE}/0/runs?page=-1`, `${BASE}?pageSize=1e9&sort=colour`, '/api/v1/admin/schedules?kind=weekly'])
      expect((await raw(anonymous, 'GET', url)).statusCode, url).toBe(401);

    // Staff without the permission: 403 whatever the body or id; the CSRF check comes first too.
    const intruder = await loggedIn('pt-intruder');
    const csrf = await intruder.csrf();
    for (const [method, url] of writes.slice(0, 3)) {
      for (const body of badBodies) {
        const res = await raw(intruder, method, url, body, csrf);
        expect(res.statusCode, `${method} ${url} ${body.slice(0, 30)}`).toBe(403);
        expect(res.json()).toMatchObject({ error: { code: 'permission_denied' } });
      }
      expect((await raw(intruder, method, url, '{"enabled":"maybe"}')).json(), `${method} ${url} without CSRF`).toMatchObject({ error: { code: 'csrf_failed' } });
    }
    for (const [method, url] of [['GET', `${BASE}/abc`], ['DELETE', `${BASE}/-1`], ['POST', `${BASE}/1.5/run`], ['GET', `${BASE}?sort=colour`]] as const)
      expect((await raw(intruder, method, url, undefined, csrf)).statusCode, `${method} ${url}`).toBe(403);
    // Which permission bulk and the schedule list need depends on the input: any staff user gets as far as checking it.
    expect((await raw(intruder, 'POST', `${BASE}/bulk`, '{"ids":"all"}', csrf)).json()).toMatchObject({ error: { code: 'invalid_bulk_action' } });
    expect((await raw(intruder, 'POST', `${BASE}/bulk`, `{"ids":[${task.id}],"action":"delete"}`, csrf)).statusCode).toBe(403);
    expect((await raw(intruder, 'GET', '/api/v1/admin/schedules?kind=weekly')).json()).toMatchObject({ error: { code: 'invalid_query', fields: { kind: expect.any(String) } } });

    // The superuser: every bad input a 400 naming the field, in beat's codes.
    const sudo = server.client();
    sudo.bearer = (await createToken(t.db, (await makeUser(t.db, 'pt-sudo', { isSuperuser: true })).id, 'intruder test')).token;
    const expectFields = async (res: Promise<{ statusCode: number; body: string; json<T>(): T }>, code: string, field: string, label: string) => {
      const r = await res;
      expect(r.statusCode, `${label}: ${r.body.slice(0, 300)}`).toBe(400);
      const { error } = r.json<{ error: { code: string; message: string; fields: Record<string, string> } }>();
      expect(error.code, label).toBe(code);
      expect(Object.keys(error.fields), label).toContain(field);
      expect(typeof error.message, label).toBe('string');
    };
    const good = { name: 'never made', task: 'demo.noop', schedule: every(1) };
    const bodies: [string, string, string][] = [
      ['an array for the task', '[]', '_'],
      ['a string for the task', '"text"', '_'],
      ['null for the task', 'null', '_'],
      ['an overflowing number for the task', '1e400', '_'],
      ['a huge name', JSON.stringify({ ...good, name: 'x'.repeat(500_000) }), 'name'],
      ['an object for the name', JSON.stringify({ ...good, name: { a: 1 } }), 'name'],
      ['an array for the schedule', JSON.stringify({ ...good, schedule: [every(1)] }), 'schedule'],
      ['an array for the crontab', JSON.stringify({ ...good, schedule: { crontab: ['0'] } }), 'schedule.crontab'],
      ['a fraction for every', JSON.stringify({ ...good, schedule: every(1.5) }), 'schedule.interval.every'],
      ['args 3,000 deep as text', JSON.stringify({ ...good, args: deep(3000) }), 'args'],
      ['an array for kwargs', JSON.stringify({ ...good, kwargs: [1] }), 'kwargs'],
      ['a string for priority', JSON.stringify({ ...good, priority: '1' }), 'priority'],
      ['a key of every object', JSON.stringify({ ...good, toString: 'x', hasOwnProperty: 1 }), 'toString'],
    ];
    for (const [label, body, field] of bodies) {
      await expectFields(raw(sudo, 'POST', BASE, body), 'invalid_periodic_task', field, `POST ${label}`);
      await expectFields(raw(sudo, 'PATCH', `${BASE}/${task.id}`, body), 'invalid_periodic_task', field, `PATCH ${label}`);
    }
    await expectFields(raw(sudo, 'POST', `${BASE}/${task.id}/reset`, '{"fields":"all"}'), 'invalid_periodic_task', 'fields', 'reset with a string');
    await expectFields(raw(sudo, 'POST', `${BASE}/${task.id}/reset`, '[]'), 'invalid_periodic_task', '_', 'reset with an array');
    await expectFields(raw(sudo, 'POST', `${BASE}/bulk`, JSON.stringify({ ids: Array(2000).fill(task.id), action: 'enable' })), 'invalid_bulk_action', 'ids', 'bulk with 2000 ids');
    await expectFields(raw(sudo, 'POST', `${BASE}/bulk`, JSON.stringify({ ids: [task.id, 'x', 2 ** 40], action: 'enable' })), 'invalid_bulk_action', 'ids', 'bulk with bad ids');
    await expectFields(raw(sudo, 'POST', `${BASE}/bulk`, '{"ids":{"0":1},"action":["enable"]}'), 'invalid_bulk_action', 'action', 'bulk with an array for the action');
    await expectFields(raw(sudo, 'POST', '/api/v1/admin/schedules/preview', '[]'), 'invalid_schedule', '_', 'preview of an array');
    await expectFields(raw(sudo, 'POST', '/api/v1/admin/schedules/preview', '{"schedule":{"solar":{"event":"sunrise","latitude":"52"}}}'), 'invalid_schedule', 'schedule.solar.latitude', 'preview of a text latitude');
    for (const [method, url] of [['GET', `${BASE}/abc`], ['GET', `${BASE}/0`], ['DELETE', `${BASE}/-1`], ['POST', `${BASE}/1.5/run`], ['GET', `${BASE}/99999999999/runs`], ['POST', `${BASE}/x1/reset`], ['PATCH', `${BASE}/%20`]] as const)
      await expectFields(raw(sudo, method, url, method === 'PATCH' ? '{}' : undefined), 'invalid_request', 'id', `${method} ${url}`);
    for (const [query, field] of [['page=0', 'page'], ['pageSize=1e9', 'pageSize'], ['page=1&page=2', 'page'], ['enabled=yes', 'enabled'], ['sort=colour', 'sort'], ['scheduleKind=weekly', 'scheduleKind'], [`search=${'x'.repeat(3000)}`, 'search'], ['source=admin&source=config', 'source']] as const)
      await expectFields(raw(sudo, 'GET', `${BASE}?${query}`), 'invalid_query', field, `GET ?${query}`);
    await expectFields(raw(sudo, 'GET', `${BASE}/${task.id}/runs?pageSize=0`), 'invalid_query', 'pageSize', 'runs ?pageSize=0');
    await expectFields(raw(sudo, 'GET', '/api/v1/admin/schedules?kind=interval&sort=name'), 'invalid_query', 'sort', 'schedules ?sort=name');
    // JSON that does not parse, or nests deeper than any handler reads, never reaches the guard or the schema: the parser's 400.
    expect((await raw(anonymous, 'POST', BASE, '{"name":')).json()).toMatchObject({ error: { code: 'ctp_invalid_json_body' } });
    const tooDeep = await raw(anonymous, 'POST', BASE, `{"args":${deep(3000)}}`);
    expect(tooDeep.statusCode).toBe(400);
    expect(tooDeep.json()).toMatchObject({ error: { code: expect.any(String), message: expect.stringMatching(/nest/i) } });
    expect((await root.call('GET', `${BASE}?search=never%20made`)).json()).toMatchObject({ total: 0 });
    expect((await root.call('GET', `${BASE}/${task.id}`)).json()).toMatchObject({ name: 'intruded', enabled: true, schedule: every(10) });
  });

  it('documents every route in the OpenAPI description under its tag', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
    const expected: [string, string, string][] = [
      ['/api/v1/admin/periodic-tasks', 'get', 'periodic tasks'], ['/api/v1/admin/periodic-tasks', 'post', 'periodic tasks'],
      ['/api/v1/admin/periodic-tasks/{id}', 'get', 'periodic tasks'], ['/api/v1/admin/periodic-tasks/{id}', 'patch', 'periodic tasks'],
      ['/api/v1/admin/periodic-tasks/{id}', 'delete', 'periodic tasks'], ['/api/v1/admin/periodic-tasks/{id}/run', 'post', 'periodic tasks'],
      ['/api/v1/admin/periodic-tasks/{id}/runs', 'get', 'periodic tasks'], ['/api/v1/admin/periodic-tasks/{id}/reset', 'post', 'periodic tasks'],
      ['/api/v1/admin/periodic-tasks/bulk', 'post', 'periodic tasks'], ['/api/v1/admin/registered-tasks', 'get', 'periodic tasks'],
      ['/api/v1/admin/schedules/preview', 'post', 'schedules'], ['/api/v1/admin/schedules', 'get', 'schedules'],
    ];
    for (const [path, method, tag] of expected) expect(spec.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual([tag]);
  });
});

describe('periodic task API in the web role', () => {
  it('is wired in startWeb, and a change is published to the beats', async () => {
    const app = await startTestApp({ worker: false });
    const subscriber = app.runtime.redis.duplicate();
    try {
      const messages: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(message));
      await subscriber.subscribe(beatChangesChannel(app.runtime.client.keys));
      const db = app.runtime.db!;
      const user = await makeUser(db, 'wired', { isSuperuser: true });
      const { token } = await createToken(db, user.id, 'test');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const res = await fetch(`${app.baseUrl}${BASE}`, { method: 'POST', headers, body: JSON.stringify({ name: 'wired', task: 'demo.noop', schedule: every(1, 'hours') }) });
      expect(res.status).toBe(201);
      await waitFor(async () => messages.length === 1, 5000, 20);
      const listed = (await (await fetch(`${app.baseUrl}${BASE}?search=wired`, { headers })).json()) as PageJson<TaskJson>;
      expect(listed.items.map((i) => i.name)).toEqual(['wired']);
    } finally {
      await subscriber.quit();
      await app.close();
    }
  });
});
