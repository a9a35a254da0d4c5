import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { RunClaims } from './claims.js';
import { PeriodicTasks } from './periodic-tasks.js';
import { beatTaskId, planClaim } from './scheduler.js';

const every = (n: number, period = 'seconds') => ({ interval: { every: n, period } });

describe.each(DIALECTS)('run claims on %s', (dialect) => {
  let t: TestDatabase;
  let tasks: PeriodicTasks;
  let claims: RunClaims;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    tasks = new PeriodicTasks(t.db, { timezone: 'Europe/Warsaw' });
    claims = new RunClaims(t.db);
  });
  afterAll(async () => t?.drop());

  it('claims a tick once: a second claim from the same read loses (compare-and-set)', async () => {
    const task = await tasks.create({ name: 'cas', task: 'demo.add', schedule: every(1) });
    const a = (await tasks.getRecord(task.id))!;
    const b = (await tasks.getRecord(task.id))!;
    const now = a.nextRunAt!;
    const key = await claims.runIdKey();
    const results = await Promise.all([claims.claim(a, planClaim(a, now, key)), claims.claim(b, planClaim(b, now, key))]);
    expect(results.filter((r) => r !== null)).toEqual([new Set([beatTaskId(key, task.id, now)])]);
    const after = (await tasks.getRecord(task.id))!;
    expect(after.nextRunAt).toBe(now + 1000);
    expect(after.totalRunCount).toBe(1);
    expect(after.lastTaskId).toBe(beatTaskId(key, task.id, now));
    const runs = await tasks.runs(task.id);
    expect(runs.items).toMatchObject([{ taskId: beatTaskId(key, task.id, now), trigger: 'schedule', status: 'claimed', scheduledFor: new Date(now).toISOString() }]);
    // An edit between read and claim also makes the claim lose.
    await tasks.update(task.id, { args: [1, 1] });
    expect(await claims.claim(after, planClaim(after, after.nextRunAt!, await claims.runIdKey()))).toBeNull();
    // The cursor put back on a tick already claimed (an edit just before it): the claim records nothing new.
    await t.db.db.updateTable('beat_periodic_task').set({ next_run_at: now }).where('id', '=', task.id).execute();
    const back = (await tasks.getRecord(task.id))!;
    expect(await claims.claim(back, planClaim(back, now, await claims.runIdKey()))).toEqual(new Set());
  });

  it('finds claims never marked enqueued, and lets one beat retake each', async () => {
    const task = await tasks.create({ name: 'stale', task: 'demo.add', schedule: every(1) });
    const r = (await tasks.getRecord(task.id))!;
    await claims.claim(r, planClaim(r, r.nextRunAt!, await claims.runIdKey()));
    const later = r.nextRunAt! + 1;
    const stale = await claims.staleClaims(later);
    const mine = stale.find((s) => s.task.id === task.id)!;
    expect(mine.run.status).toBe('claimed');
    const [x, y] = await Promise.all([claims.retakeClaim(mine.run.taskId!, mine.claimedAt, Date.now()), claims.retakeClaim(mine.run.taskId!, mine.claimedAt, Date.now())]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    await claims.markEnqueued([mine.run.taskId!], Date.now());
    expect((await claims.staleClaims(later)).find((s) => s.task.id === task.id)).toBeUndefined();
    expect((await tasks.runs(task.id)).items[0]!.status).toBe('enqueued');
  });
});
