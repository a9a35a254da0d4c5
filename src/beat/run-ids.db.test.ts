// Periodic-run ids: the same in every beat on one database (exactly once), not derivable from
// (periodic task id, tick) without that database's key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { isValidTaskId } from '../tasks/index.js';
import { beatTaskId, loadRunIdKey } from './run-ids.js';
import { planClaim } from './scheduler.js';
import { RunClaims } from './claims.js';
import { PeriodicTasks } from './periodic-tasks.js';

describe.each(DIALECTS)('beat run ids (%s)', (dialect) => {
  let a: TestDatabase;
  let b: TestDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(dialect), createTestDatabase(dialect)]);
  });
  afterAll(async () => Promise.all([a?.drop(), b?.drop()]));

  it('every beat on one database names a tick alike; another database (or a guess) does not', async () => {
    const tick = Date.UTC(2026, 11, 3, 12, 0, 0);
    const [k1, k2, other] = await Promise.all([new RunClaims(a.open()).runIdKey(), new RunClaims(a.open()).runIdKey(), new RunClaims(b.db).runIdKey()]);
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
    expect(k2).toBe(k1);
    expect(other).not.toBe(k1);
    const id = beatTaskId(k1, 7, tick);
    expect(beatTaskId(k2, 7, tick)).toBe(id);
    expect(beatTaskId(other, 7, tick)).not.toBe(id);
    // What an intruder would try: the old form, the tick in any base, a hash of the pair without the key.
    expect(id).toMatch(/^beat-7-[0-9a-f]{32}$/);
    expect(id).not.toBe(`beat-7-${tick}`);
    for (const leak of [String(tick), tick.toString(16), tick.toString(36), String(tick / 1000)]) expect(id).not.toContain(leak);
    expect(isValidTaskId(id)).toBe(true);
    // Neighbouring ticks and tasks share nothing that would let one id predict the next.
    const ids = new Set([0, 1, 2].flatMap((task) => [0, 1000, 2000].map((d) => beatTaskId(k1, task, tick + d))));
    expect(ids.size).toBe(9);
    expect(() => beatTaskId('', 7, tick)).toThrow(/key/);
  });

  it('the key is made once per database, even when many beats race to create it', async () => {
    const t = await createTestDatabase(dialect);
    try {
      // A database that lacks it (as if 0004 had not run): ten beats at once insert-if-absent and agree.
      await t.db.db.deleteFrom('seler_instance').where('key', '=', 'beat_run_key').execute();
      const keys = await Promise.all(Array.from({ length: 10 }, () => loadRunIdKey(t.open())));
      expect(new Set(keys).size).toBe(1);
      const rows = await t.db.db.selectFrom('seler_instance').selectAll().where('key', '=', 'beat_run_key').execute();
      expect(rows).toEqual([{ key: 'beat_run_key', value: keys[0] }]);
    } finally {
      await t.drop();
    }
  });

  it('planClaim names its runs with the database key, never with the bare tick', async () => {
    const tasks = new PeriodicTasks(a.db);
    const claims = new RunClaims(a.db);
    const task = await tasks.create({ name: 'ids', task: 'demo.noop', schedule: { interval: { every: 1, period: 'seconds' } } });
    const record = (await tasks.getRecord(task.id))!;
    const key = await claims.runIdKey();
    const plan = planClaim(record, record.nextRunAt! + 2500, key);
    expect(plan.runs.length).toBeGreaterThanOrEqual(3);
    for (const run of plan.runs) {
      expect(run.taskId).toBe(beatTaskId(key, task.id, run.scheduledFor));
      expect(run.taskId).not.toContain(String(run.scheduledFor));
    }
  });
});
