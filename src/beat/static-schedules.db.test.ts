import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { ConfigError } from '../platform/errors.js';
import { upcomingRuns } from './schedules/index.js';
import { ConfigSync, syncStaticSchedules } from './config-sync.js';
import { PeriodicTasks } from './periodic-tasks.js';

/** The lab's CELERY_BEAT_SCHEDULE, as it is written in seler.config.json. */
const LAB = {
  summary: { task: 'summary', schedule: { interval: { every: 10, period: 'seconds' } } },
  test: { task: 'test', schedule: { crontab: { minute: '5', hour: '15', timezone: 'Europe/Warsaw' } }, args: [] },
};

describe.each(DIALECTS)('config sync on %s', (dialect) => {
  let t: TestDatabase;
  let tasks: PeriodicTasks;
  let configSync: ConfigSync;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    tasks = new PeriodicTasks(t.db, { timezone: 'UTC' });
    configSync = new ConfigSync(t.db);
  });
  afterAll(async () => t?.drop());

  it("creates the lab's schedules and the builtin cleanup", async () => {
    const result = await syncStaticSchedules(configSync, LAB, 'UTC');
    expect(result).toEqual({ created: ['thumbnails.cleanup', 'summary', 'test'], updated: [], deleted: [] });
    const summary = (await tasks.getByName('summary'))!;
    expect(summary).toMatchObject({ task: 'summary', source: 'config', enabled: true, schedule: { interval: { every: 10, period: 'seconds' } }, overridden: [] });
    const test = (await tasks.get((await tasks.getByName('test'))!.id))!;
    expect(test.fieldSources).toMatchObject({ task: 'config', schedule: 'config', enabled: 'config' });
    const [next] = upcomingRuns(test.schedule, new Date('2026-07-01T00:00:00Z'), 1);
    expect(next!.toISOString()).toBe('2026-07-01T13:05:00.000Z'); // 15:05 CEST
    expect(Date.parse(test.nextRunAt!)).toBeGreaterThan(Date.now());
    const cleanup = (await tasks.getByName('thumbnails.cleanup'))!;
    expect(cleanup).toMatchObject({ source: 'builtin', enabled: true, task: 'thumbnails.cleanup', schedule: { interval: { every: 1, period: 'hours' } } });
    expect(await syncStaticSchedules(configSync, LAB, 'UTC')).toEqual({ created: [], updated: [], deleted: [] });
  });

  it("keeps an operator's disable and changes across a re-sync, and applies the rest of the config", async () => {
    const summary = (await tasks.getByName('summary'))!;
    await tasks.setEnabled([summary.id], false);
    await tasks.update(summary.id, { args: [42], description: 'tuned by ops' });
    const cursorBefore = (await tasks.getRecord((await tasks.getByName('test'))!.id))!.nextRunAt;

    const changed = { ...LAB, summary: { ...LAB.summary, schedule: { interval: { every: 20, period: 'seconds' } }, args: [1], kwargs: { a: 1 } } };
    expect(await syncStaticSchedules(configSync, changed, 'UTC')).toEqual({ created: [], updated: ['summary'], deleted: [] });
    const after = (await tasks.get(summary.id))!;
    expect(after).toMatchObject({ enabled: false, args: [42], description: 'tuned by ops', kwargs: { a: 1 }, schedule: { interval: { every: 20, period: 'seconds' } }, nextRunAt: null });
    expect(after.fieldSources).toMatchObject({ enabled: 'admin', args: 'admin', description: 'admin', kwargs: 'config', schedule: 'config' });
    expect(after.declared).toMatchObject({ enabled: true, args: [1], description: '' });
    // An unchanged entry keeps its cursor (so missed-run policies see the downtime).
    expect((await tasks.getRecord((await tasks.getByName('test'))!.id))!.nextRunAt).toBe(cursorBefore);

    // Set back to the declared value, a field follows the config again.
    await tasks.update(summary.id, { args: [1] });
    expect((await tasks.get(summary.id))!.fieldSources!.args).toBe('config');
    // A config change that matches the operator's value ends that override too.
    await syncStaticSchedules(configSync, { ...changed, summary: { ...changed.summary, description: 'tuned by ops' } }, 'UTC');
    expect((await tasks.get(summary.id))!.fieldSources!.description).toBe('config');
    // Reset: the rest follows the declaration again.
    const reset = await tasks.resetToDeclared(summary.id);
    expect(reset).toMatchObject({ enabled: true, fieldSources: { enabled: 'config' } });
    expect(Date.parse(reset.nextRunAt!)).toBeGreaterThan(Date.now());
  });

  it('refuses to rename or delete a declared task', async () => {
    const summary = (await tasks.getByName('summary'))!;
    await expect(tasks.update(summary.id, { name: 'other' })).rejects.toMatchObject({ status: 400, details: { fields: { name: expect.stringContaining('configuration') } } });
    await expect(tasks.delete(summary.id)).rejects.toMatchObject({ status: 400 });
  });

  it('deletes config entries that are no longer declared, never operator tasks', async () => {
    await tasks.create({ name: 'ops-task', task: 'demo.add', schedule: { interval: { every: 1, period: 'hours' } } });
    const result = await syncStaticSchedules(configSync, { test: LAB.test }, 'UTC');
    expect(result.deleted).toEqual(['summary']);
    expect(await tasks.getByName('summary')).toBeNull();
    expect(await tasks.getByName('ops-task')).not.toBeNull();
    expect(await tasks.getByName('thumbnails.cleanup')).not.toBeNull();
  });

  it('lets the config replace a builtin, and brings the builtin back when the entry goes', async () => {
    await syncStaticSchedules(configSync, { ...LAB, 'thumbnails.cleanup': { task: 'thumbnails.cleanup', schedule: { interval: { every: 6, period: 'hours' } } } }, 'UTC');
    expect(await tasks.getByName('thumbnails.cleanup')).toMatchObject({ source: 'config', schedule: { interval: { every: 6 } } });
    await syncStaticSchedules(configSync, LAB, 'UTC');
    expect(await tasks.getByName('thumbnails.cleanup')).toMatchObject({ source: 'builtin', schedule: { interval: { every: 1, period: 'hours' } } });
  });

  it("accepts Celery's spellings and gives a crontab without a zone the configured one", async () => {
    await syncStaticSchedules(configSync, {
      celery: { task: 'demo.add', schedule: 30, args: [1, 2], options: { queue: 'low', priority: 3, expires: 15 } },
      zoned: { task: 'demo.add', schedule: { crontab: { minute: '0', hour: '9' } } },
    }, 'America/New_York');
    expect(await tasks.getByName('celery')).toMatchObject({ schedule: { interval: { every: 30, period: 'seconds' } }, queue: 'low', priority: 3, expireSeconds: 15 });
    expect((await tasks.getByName('zoned'))!.schedule).toMatchObject({ crontab: { timezone: 'America/New_York' } });
  });

  it('a bad entry fails the sync with an error naming the entry and field, writing nothing', async () => {
    const before = (await tasks.list({ pageSize: 200 })).total;
    const sync = (entry: unknown) => syncStaticSchedules(configSync, { good: LAB.summary, broken: entry }, 'UTC');
    await expect(sync({ task: 'demo.add', schedule: { interval: { every: 0, period: 'seconds' } } })).rejects.toThrow(
      new ConfigError('beatSchedule.broken: schedule.interval.every: every must be greater than 0'),
    );
    await expect(sync({ task: 'demo.add', schedule: { interval: { every: 1, period: 'seconds' } }, args: 'x' })).rejects.toThrow(/beatSchedule\.broken: args: args must be a JSON array/);
    await expect(sync({ task: 'demo.add', schedule: { interval: { every: 1, period: 'seconds' }, clocked: { at: '2030-01-01T00:00:00Z' } } })).rejects.toThrow(/beatSchedule\.broken: schedule: choose exactly one schedule kind/);
    await expect(sync({ schedule: { interval: { every: 1, period: 'seconds' } } })).rejects.toThrow(/beatSchedule\.broken: task: task is required/);
    await expect(sync({ task: 'demo.add', schedule: { crontab: { hour: '25' } }, colour: 1 })).rejects.toThrow(/beatSchedule\.broken: .*hour.*colour: unknown field/);
    await expect(sync('every minute')).rejects.toThrow(/beatSchedule\.broken: must be an object/);
    expect((await tasks.list({ pageSize: 200 })).total).toBe(before);
    expect(await tasks.getByName('good')).toBeNull();
  });

  it('several beats syncing at once end with one row per entry', async () => {
    const syncs = [configSync, new ConfigSync(t.open()), new ConfigSync(t.open())];
    const entries = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`race-${i}`, { task: 'demo.add', schedule: { interval: { every: i + 1, period: 'minutes' } } }]));
    await Promise.all(syncs.map((s) => syncStaticSchedules(s, entries, 'UTC')));
    const { items } = await tasks.list({ search: 'race-', pageSize: 50 });
    expect(items.map((i) => i.name).sort()).toEqual(Object.keys(entries).sort());
  });
});
