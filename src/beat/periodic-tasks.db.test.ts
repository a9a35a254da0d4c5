import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { AppError } from '../platform/errors.js';
import { RunClaims } from './claims.js';
import { PeriodicTasks } from './periodic-tasks.js';
import { planClaim } from './scheduler.js';

const every = (n: number, period = 'seconds') => ({ interval: { every: n, period } });

async function badInput(p: Promise<unknown>): Promise<Record<string, string>> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).status).toBe(400);
  expect((err as AppError).code).toBe('invalid_periodic_task');
  return (err as AppError).details!.fields as Record<string, string>;
}

describe.each(DIALECTS)('periodic-task repository on %s', (dialect) => {
  let t: TestDatabase;
  let tasks: PeriodicTasks;
  let claims: RunClaims;
  let changes = 0;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    tasks = new PeriodicTasks(t.db, { timezone: 'Europe/Warsaw', onChange: () => changes++ });
    claims = new RunClaims(t.db);
  });
  afterAll(async () => t?.drop());

  it('creates a task with defaults, a next run and a JSON view', async () => {
    const before = Date.now();
    const task = await tasks.create({ name: 'add every 10 s', task: 'demo.add', schedule: every(10), args: [1, 2] });
    expect(task).toMatchObject({
      name: 'add every 10 s', task: 'demo.add', args: [1, 2], kwargs: {}, enabled: true, oneOff: false, queue: null, priority: null,
      expires: null, expireSeconds: null, startTime: null, description: '', source: 'admin', fieldSources: null, declared: null,
      missedRunPolicy: 'once', overlapPolicy: 'allow', scheduleKind: 'interval', totalRunCount: 0, lastRunAt: null, taskRegistered: false,
    });
    expect(typeof task.id).toBe('number');
    const next = Date.parse(task.nextRunAt!);
    expect(next).toBeGreaterThan(before);
    expect(next % 10_000).toBe(0);
    expect(next - before).toBeLessThanOrEqual(10_000);
    expect(await tasks.get(task.id)).toEqual(task);
    await expect.poll(() => changes).toBeGreaterThan(0);
  });

  it('fills a crontab zone from the installation and keeps all fields', async () => {
    const task = await tasks.create({
      name: 'full', task: 'reports.send', schedule: { crontab: { minute: '5', hour: '15' } }, args: '["a"]', kwargs: '{"k": 1}',
      queue: 'reports', priority: 5, expireSeconds: 30, oneOff: true, startTime: '2030-01-01T00:00:00+01:00', enabled: false,
      description: 'd', missedRunPolicy: 'all', overlapPolicy: 'skip',
    });
    expect(task.schedule).toEqual({ crontab: { minute: '5', hour: '15', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'Europe/Warsaw' } });
    expect(task).toMatchObject({ args: ['a'], kwargs: { k: 1 }, queue: 'reports', priority: 5, expireSeconds: 30, oneOff: true, startTime: '2029-12-31T23:00:00.000Z', enabled: false, nextRunAt: null, missedRunPolicy: 'all', overlapPolicy: 'skip' });
  });

  it('rejects bad input with a 400 naming each field', async () => {
    const base = { name: 'bad', task: 'demo.add', schedule: every(1) };
    expect(await badInput(tasks.create({ ...base, args: { a: 1 } }))).toMatchObject({ args: 'args must be a JSON array' });
    expect(await badInput(tasks.create({ ...base, args: 'not json' }))).toMatchObject({ args: 'args must be a JSON array' });
    expect(await badInput(tasks.create({ ...base, kwargs: [1] }))).toMatchObject({ kwargs: 'kwargs must be a JSON object' });
    expect(await badInput(tasks.create({ ...base, schedule: { ...every(1), crontab: { minute: '1' } } }))).toMatchObject({ schedule: 'choose exactly one schedule kind' });
    expect(await badInput(tasks.create({ ...base, schedule: {} }))).toMatchObject({ schedule: 'choose exactly one schedule kind' });
    expect(await badInput(tasks.create({ name: 'x', task: 'demo.add' }))).toMatchObject({ schedule: expect.any(String) });
    expect(await badInput(tasks.create({ ...base, schedule: every(0) }))).toMatchObject({ 'schedule.interval.every': 'every must be greater than 0' });
    expect(Object.keys(await badInput(tasks.create({ ...base, schedule: { crontab: { minute: '61' } } })))).toEqual(['schedule.crontab.minute']);
    expect(await badInput(tasks.create({ ...base, schedule: { crontab: { timezone: 'Mars/Base' } } }))).toMatchObject({ 'schedule.crontab.timezone': expect.stringContaining('Unknown time zone') });
    expect(await badInput(tasks.create({ ...base, task: 'has spaces' }))).toMatchObject({ task: expect.stringContaining('task name') });
    expect(await badInput(tasks.create({ ...base, task: '' }))).toHaveProperty('task');
    expect(await badInput(tasks.create({ ...base, expires: '2030-01-01T00:00:00Z', expireSeconds: 5 }))).toMatchObject({ expireSeconds: 'set expires or expireSeconds, not both' });
    expect(await badInput(tasks.create({ ...base, expires: 'tomorrow' }))).toHaveProperty('expires');
    expect(await badInput(tasks.create({ ...base, priority: -1, queue: 'a b' }))).toMatchObject({ priority: expect.any(String), queue: expect.any(String) });
    expect(await badInput(tasks.create({ ...base, missedRunPolicy: 'never', colour: 'red' }))).toMatchObject({ missedRunPolicy: expect.any(String), colour: 'unknown field "colour"' });
    expect(await badInput(tasks.create({ ...base, name: '' }))).toMatchObject({ name: 'name is required' });
    expect(await badInput(tasks.create([]))).toHaveProperty('_');
    await tasks.create({ ...base, name: 'unique' });
    expect(await badInput(tasks.create({ ...base, name: 'unique' }))).toMatchObject({ name: 'a periodic task named "unique" already exists' });
    expect((await tasks.list({ search: 'bad' })).total).toBe(0);
  });

  it('accepts a custom (unregistered) task name and flags it', async () => {
    const task = await tasks.create({ name: 'custom', task: 'summary', schedule: every(1, 'hours') });
    expect(task.taskRegistered).toBe(false);
  });

  it('updates partially; a schedule change moves the cursor, other changes do not', async () => {
    const task = await tasks.create({ name: 'upd', task: 'demo.add', schedule: every(1, 'days') });
    const updated = await tasks.update(task.id, { args: [5, 6], description: 'x' });
    expect(updated).toMatchObject({ args: [5, 6], description: 'x', nextRunAt: task.nextRunAt, schedule: task.schedule });
    expect(Date.parse(updated.dateChanged)).toBeGreaterThanOrEqual(Date.parse(task.dateChanged));
    const moved = await tasks.update(task.id, { schedule: every(7) });
    expect(Date.parse(moved.nextRunAt!) % 7000).toBe(0);
    expect(Date.parse(moved.nextRunAt!) - Date.now()).toBeLessThanOrEqual(7000);
    expect(await badInput(tasks.update(task.id, { schedule: { interval: { every: -1, period: 'seconds' } } }))).toHaveProperty('schedule.interval.every');
    expect(await badInput(tasks.update(task.id, { name: 'unique' }))).toHaveProperty('name');
    expect((await tasks.update(task.id, { name: 'renamed' })).name).toBe('renamed');
    await expect(tasks.update(999_999, { args: [] })).rejects.toMatchObject({ status: 404 });
  });

  it('re-enabling never fires at once: the next run is computed from now', async () => {
    const task = await tasks.create({ name: 'reenable', task: 'demo.add', schedule: every(1, 'hours') });
    await t.db.db.updateTable('beat_periodic_task').set({ next_run_at: Date.now() - 10 * 3_600_000 }).where('id', '=', task.id).execute();
    expect(await tasks.setEnabled([task.id], false)).toBe(1);
    expect((await tasks.get(task.id))!).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await tasks.setEnabled([task.id, 424242], true)).toBe(1);
    const again = (await tasks.get(task.id))!;
    expect(again.enabled).toBe(true);
    expect(Date.parse(again.nextRunAt!)).toBeGreaterThan(Date.now());
    expect(await tasks.setEnabled([task.id], true)).toBe(0);
  });

  it('lists with search, filters, sorting and pagination', async () => {
    for (const n of ['list-b', 'list-a', 'list-c']) await tasks.create({ name: n, task: `list.${n.at(-1)}`, schedule: every(1, 'hours'), description: 'Listed' });
    await tasks.setEnabled([(await tasks.getByName('list-c'))!.id], false);
    const page1 = await tasks.list({ search: 'LIST', sort: 'name', pageSize: 2 });
    expect(page1).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(page1.items.map((i) => i.name)).toEqual(['list-a', 'list-b']);
    expect((await tasks.list({ search: 'list', sort: 'name', pageSize: 2, page: 2 })).items.map((i) => i.name)).toEqual(['list-c']);
    expect((await tasks.list({ search: 'list', sort: 'name', order: 'desc' })).items.map((i) => i.name)).toEqual(['list-c', 'list-b', 'list-a']);
    expect((await tasks.list({ search: 'list', enabled: false })).items.map((i) => i.name)).toEqual(['list-c']);
    expect((await tasks.list({ task: 'list.a' })).items.map((i) => i.name)).toEqual(['list-a']);
    expect((await tasks.list({ search: 'listed', scheduleKind: 'interval', source: 'admin' })).total).toBe(3);
    expect((await tasks.list({ search: '100%_' })).total).toBe(0);
    const byNext = await tasks.list({ search: 'list', sort: 'nextRunAt' });
    expect(byNext.items.at(-1)!.name).toBe('list-c'); // no next run: last either way
  });

  it('deletes an operator task with its runs', async () => {
    const task = await tasks.create({ name: 'doomed', task: 'demo.add', schedule: every(1) });
    const record = (await tasks.getRecord(task.id))!;
    expect(await claims.claim(record, planClaim(record, record.nextRunAt!, await claims.runIdKey()))).not.toBeNull();
    expect((await tasks.runs(task.id)).total).toBe(1);
    expect(await tasks.delete(task.id)).toBe(true);
    expect(await tasks.get(task.id)).toBeNull();
    expect((await tasks.runs(task.id)).total).toBe(0);
    expect(await tasks.delete(task.id)).toBe(false);
  });
});
