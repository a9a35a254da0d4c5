import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { AppError } from '../platform/errors.js';
import { beatTaskId, planClaim } from './scheduler.js';
import { BeatStore } from './store.js';

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

describe.each(DIALECTS)('beat store on %s', (dialect) => {
  let t: TestDatabase;
  let store: BeatStore;
  let changes = 0;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    store = new BeatStore(t.db, { timezone: 'Europe/Warsaw', onChange: () => changes++ });
  });
  afterAll(async () => t?.drop());

  it('creates a task with defaults, a next run and a JSON view', async () => {
    const before = Date.now();
    const task = await store.create({ name: 'add every 10 s', task: 'demo.add', schedule: every(10), args: [1, 2] });
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
    expect(await store.get(task.id)).toEqual(task);
    await expect.poll(() => changes).toBeGreaterThan(0);
  });

  it('fills a crontab zone from the installation and keeps all fields', async () => {
    const task = await store.create({
      name: 'full', task: 'reports.send', schedule: { crontab: { minute: '5', hour: '15' } }, args: '["a"]', kwargs: '{"k": 1}',
      queue: 'reports', priority: 5, expireSeconds: 30, oneOff: true, startTime: '2030-01-01T00:00:00+01:00', enabled: false,
      description: 'd', missedRunPolicy: 'all', overlapPolicy: 'skip',
    });
    expect(task.schedule).toEqual({ crontab: { minute: '5', hour: '15', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'Europe/Warsaw' } });
    expect(task).toMatchObject({ args: ['a'], kwargs: { k: 1 }, queue: 'reports', priority: 5, expireSeconds: 30, oneOff: true, startTime: '2029-12-31T23:00:00.000Z', enabled: false, nextRunAt: null, missedRunPolicy: 'all', overlapPolicy: 'skip' });
  });

  it('rejects bad input with a 400 naming each field', async () => {
    const base = { name: 'bad', task: 'demo.add', schedule: every(1) };
    expect(await badInput(store.create({ ...base, args: { a: 1 } }))).toMatchObject({ args: 'args must be a JSON array' });
    expect(await badInput(store.create({ ...base, args: 'not json' }))).toMatchObject({ args: 'args must be a JSON array' });
    expect(await badInput(store.create({ ...base, kwargs: [1] }))).toMatchObject({ kwargs: 'kwargs must be a JSON object' });
    expect(await badInput(store.create({ ...base, schedule: { ...every(1), crontab: { minute: '1' } } }))).toMatchObject({ schedule: 'choose exactly one schedule kind' });
    expect(await badInput(store.create({ ...base, schedule: {} }))).toMatchObject({ schedule: 'choose exactly one schedule kind' });
    expect(await badInput(store.create({ name: 'x', task: 'demo.add' }))).toMatchObject({ schedule: expect.any(String) });
    expect(await badInput(store.create({ ...base, schedule: every(0) }))).toMatchObject({ 'schedule.interval.every': 'every must be greater than 0' });
    expect(Object.keys(await badInput(store.create({ ...base, schedule: { crontab: { minute: '61' } } })))).toEqual(['schedule.crontab.minute']);
    expect(await badInput(store.create({ ...base, schedule: { crontab: { timezone: 'Mars/Base' } } }))).toMatchObject({ 'schedule.crontab.timezone': expect.stringContaining('Unknown time zone') });
    expect(await badInput(store.create({ ...base, task: 'has spaces' }))).toMatchObject({ task: expect.stringContaining('task name') });
    expect(await badInput(store.create({ ...base, task: '' }))).toHaveProperty('task');
    expect(await badInput(store.create({ ...base, expires: '2030-01-01T00:00:00Z', expireSeconds: 5 }))).toMatchObject({ expireSeconds: 'set expires or expireSeconds, not both' });
    expect(await badInput(store.create({ ...base, expires: 'tomorrow' }))).toHaveProperty('expires');
    expect(await badInput(store.create({ ...base, priority: -1, queue: 'a b' }))).toMatchObject({ priority: expect.any(String), queue: expect.any(String) });
    expect(await badInput(store.create({ ...base, missedRunPolicy: 'never', colour: 'red' }))).toMatchObject({ missedRunPolicy: expect.any(String), colour: 'unknown field "colour"' });
    expect(await badInput(store.create({ ...base, name: '' }))).toMatchObject({ name: 'name is required' });
    expect(await badInput(store.create([]))).toHaveProperty('_');
    await store.create({ ...base, name: 'unique' });
    expect(await badInput(store.create({ ...base, name: 'unique' }))).toMatchObject({ name: 'a periodic task named "unique" already exists' });
    expect((await store.list({ search: 'bad' })).total).toBe(0);
  });

  it('accepts a custom (unregistered) task name and flags it', async () => {
    const task = await store.create({ name: 'custom', task: 'summary', schedule: every(1, 'hours') });
    expect(task.taskRegistered).toBe(false);
  });

  it('updates partially; a schedule change moves the cursor, other changes do not', async () => {
    const task = await store.create({ name: 'upd', task: 'demo.add', schedule: every(1, 'days') });
    const updated = await store.update(task.id, { args: [5, 6], description: 'x' });
    expect(updated).toMatchObject({ args: [5, 6], description: 'x', nextRunAt: task.nextRunAt, schedule: task.schedule });
    expect(Date.parse(updated.dateChanged)).toBeGreaterThanOrEqual(Date.parse(task.dateChanged));
    const moved = await store.update(task.id, { schedule: every(7) });
    expect(Date.parse(moved.nextRunAt!) % 7000).toBe(0);
    expect(Date.parse(moved.nextRunAt!) - Date.now()).toBeLessThanOrEqual(7000);
    expect(await badInput(store.update(task.id, { schedule: { interval: { every: -1, period: 'seconds' } } }))).toHaveProperty('schedule.interval.every');
    expect(await badInput(store.update(task.id, { name: 'unique' }))).toHaveProperty('name');
    expect((await store.update(task.id, { name: 'renamed' })).name).toBe('renamed');
    await expect(store.update(999_999, { args: [] })).rejects.toMatchObject({ status: 404 });
  });

  it('re-enabling never fires at once: the next run is computed from now', async () => {
    const task = await store.create({ name: 'reenable', task: 'demo.add', schedule: every(1, 'hours') });
    await t.db.db.updateTable('beat_periodic_task').set({ next_run_at: Date.now() - 10 * 3_600_000 }).where('id', '=', task.id).execute();
    expect(await store.setEnabled([task.id], false)).toBe(1);
    expect((await store.get(task.id))!).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await store.setEnabled([task.id, 424242], true)).toBe(1);
    const again = (await store.get(task.id))!;
    expect(again.enabled).toBe(true);
    expect(Date.parse(again.nextRunAt!)).toBeGreaterThan(Date.now());
    expect(await store.setEnabled([task.id], true)).toBe(0);
  });

  it('lists with search, filters, sorting and pagination', async () => {
    for (const n of ['list-b', 'list-a', 'list-c']) await store.create({ name: n, task: `list.${n.at(-1)}`, schedule: every(1, 'hours'), description: 'Listed' });
    await store.setEnabled([(await store.getByName('list-c'))!.id], false);
    const page1 = await store.list({ search: 'LIST', sort: 'name', pageSize: 2 });
    expect(page1).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(page1.items.map((i) => i.name)).toEqual(['list-a', 'list-b']);
    expect((await store.list({ search: 'list', sort: 'name', pageSize: 2, page: 2 })).items.map((i) => i.name)).toEqual(['list-c']);
    expect((await store.list({ search: 'list', sort: 'name', order: 'desc' })).items.map((i) => i.name)).toEqual(['list-c', 'list-b', 'list-a']);
    expect((await store.list({ search: 'list', enabled: false })).items.map((i) => i.name)).toEqual(['list-c']);
    expect((await store.list({ task: 'list.a' })).items.map((i) => i.name)).toEqual(['list-a']);
    expect((await store.list({ search: 'listed', scheduleKind: 'interval', source: 'admin' })).total).toBe(3);
    expect((await store.list({ search: '100%_' })).total).toBe(0);
    const byNext = await store.list({ search: 'list', sort: 'nextRunAt' });
    expect(byNext.items.at(-1)!.name).toBe('list-c'); // no next run: last either way
  });

  it('deletes an operator task with its runs', async () => {
    const task = await store.create({ name: 'doomed', task: 'demo.add', schedule: every(1) });
    const record = (await store.getRecord(task.id))!;
    expect(await store.claim(record, planClaim(record, record.nextRunAt!, await store.runIdKey()))).not.toBeNull();
    expect((await store.runs(task.id)).total).toBe(1);
    expect(await store.delete(task.id)).toBe(true);
    expect(await store.get(task.id)).toBeNull();
    expect((await store.runs(task.id)).total).toBe(0);
    expect(await store.delete(task.id)).toBe(false);
  });

  it('claims a tick once: a second claim from the same read loses (compare-and-set)', async () => {
    const task = await store.create({ name: 'cas', task: 'demo.add', schedule: every(1) });
    const a = (await store.getRecord(task.id))!;
    const b = (await store.getRecord(task.id))!;
    const now = a.nextRunAt!;
    const key = await store.runIdKey();
    const results = await Promise.all([store.claim(a, planClaim(a, now, key)), store.claim(b, planClaim(b, now, key))]);
    expect(results.filter((r) => r !== null)).toEqual([new Set([beatTaskId(key, task.id, now)])]);
    const after = (await store.getRecord(task.id))!;
    expect(after.nextRunAt).toBe(now + 1000);
    expect(after.totalRunCount).toBe(1);
    expect(after.lastTaskId).toBe(beatTaskId(key, task.id, now));
    const runs = await store.runs(task.id);
    expect(runs.items).toMatchObject([{ taskId: beatTaskId(key, task.id, now), trigger: 'schedule', status: 'claimed', scheduledFor: new Date(now).toISOString() }]);
    // An edit between read and claim also makes the claim lose.
    await store.update(task.id, { args: [1, 1] });
    expect(await store.claim(after, planClaim(after, after.nextRunAt!, await store.runIdKey()))).toBeNull();
    // The cursor put back on a tick already claimed (an edit just before it): the claim records nothing new.
    await t.db.db.updateTable('beat_periodic_task').set({ next_run_at: now }).where('id', '=', task.id).execute();
    const back = (await store.getRecord(task.id))!;
    expect(await store.claim(back, planClaim(back, now, await store.runIdKey()))).toEqual(new Set());
  });

  it('finds claims never marked enqueued, and lets one beat retake each', async () => {
    const task = await store.create({ name: 'stale', task: 'demo.add', schedule: every(1) });
    const r = (await store.getRecord(task.id))!;
    await store.claim(r, planClaim(r, r.nextRunAt!, await store.runIdKey()));
    const later = r.nextRunAt! + 1;
    const stale = await store.staleClaims(later);
    const mine = stale.find((s) => s.task.id === task.id)!;
    expect(mine.run.status).toBe('claimed');
    const [x, y] = await Promise.all([store.retakeClaim(mine.run.taskId!, mine.claimedAt, Date.now()), store.retakeClaim(mine.run.taskId!, mine.claimedAt, Date.now())]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    await store.markEnqueued([mine.run.taskId!], Date.now());
    expect((await store.staleClaims(later)).find((s) => s.task.id === task.id)).toBeUndefined();
    expect((await store.runs(task.id)).items[0]!.status).toBe('enqueued');
  });
});
