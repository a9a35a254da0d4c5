import { describe, expect, it } from 'vitest';
import { FIELD_DEFAULTS, type PeriodicTaskRecord } from './model.js';
import { beatTaskId, planClaim } from './scheduler.js';

const KEY = 'a-test-key-of-the-database-0123456789abcdef';

const T0 = Date.parse('2026-03-01T12:00:00Z');

function task(over: Partial<PeriodicTaskRecord> = {}): PeriodicTaskRecord {
  return {
    ...FIELD_DEFAULTS,
    id: 7, name: 'p', task: 'demo.add', schedule: { interval: { every: 1, period: 'seconds' } }, scheduleKind: 'interval',
    source: 'admin', declared: null, overridden: [], lastRunAt: null, totalRunCount: 0, lastTaskId: null,
    nextRunAt: T0, dateCreated: T0 - 60_000, dateChanged: T0 - 60_000, ...over,
  };
}

describe('planClaim', () => {
  it('runs the due tick on time and moves the cursor to the next one', () => {
    const plan = planClaim(task(), T0 + 3, KEY);
    expect(plan).toMatchObject({ next: T0 + 1000, disable: false, runs: [{ taskId: beatTaskId(KEY, 7, T0), scheduledFor: T0, trigger: 'schedule' }] });
  });

  it('runs every tick a briefly late beat owes (within the grace period)', () => {
    const plan = planClaim(task(), T0 + 2500, KEY);
    expect(plan.runs.map((r) => [r.scheduledFor - T0, r.trigger, r.status])).toEqual([[0, 'schedule', undefined], [1000, 'schedule', undefined], [2000, 'schedule', undefined]]);
    expect(plan.next).toBe(T0 + 3000);
  });

  it('missed runs: once (default) collapses them into one catch-up run', () => {
    const plan = planClaim(task(), T0 + 60_500, KEY);
    expect(plan.runs).toEqual([{ taskId: beatTaskId(KEY, 7, T0), scheduledFor: T0, trigger: 'catch-up', note: expect.stringContaining('one run for 61 missed') }]);
    expect(plan.next).toBe(T0 + 61_000);
    expect(plan.warning).toBeUndefined();
  });

  it('missed runs: skip records one skipped run and warns', () => {
    const plan = planClaim(task({ missedRunPolicy: 'skip' }), T0 + 60_500, KEY);
    expect(plan.runs).toEqual([{ taskId: beatTaskId(KEY, 7, T0), scheduledFor: T0, trigger: 'catch-up', status: 'skipped', note: expect.stringContaining('61 run(s) missed') }]);
    expect(plan.warning).toMatch(/skipped 61 missed run/);
    expect(plan.next).toBe(T0 + 61_000);
  });

  it('missed runs: all runs each, capped', () => {
    const some = planClaim(task({ missedRunPolicy: 'all' }), T0 + 9_500, KEY, { graceMs: 5000, catchUpCap: 100 });
    expect(some.runs.map((r) => r.scheduledFor - T0)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    expect(some.runs.every((r) => r.trigger === 'catch-up' && !r.status)).toBe(true);
    const capped = planClaim(task({ missedRunPolicy: 'all' }), T0 + 500_000, KEY, { graceMs: 5000, catchUpCap: 100 });
    expect(capped.runs.filter((r) => !r.status)).toHaveLength(100);
    expect(capped.runs.at(-1)).toMatchObject({ scheduledFor: T0 + 100_000, status: 'skipped', note: expect.stringContaining('more than 100') });
    expect(capped.warning).toMatch(/more than 100/);
    expect(capped.next).toBe(T0 + 501_000);
  });

  it('a one-off task runs once and disables itself', () => {
    expect(planClaim(task({ oneOff: true }), T0 + 2500, KEY)).toMatchObject({ next: null, disable: true, runs: [{ scheduledFor: T0, trigger: 'schedule' }] });
  });

  it('an expired task is not run and is disabled', () => {
    const plan = planClaim(task({ expires: new Date(T0 + 500).toISOString() }), T0 + 600, KEY);
    expect(plan).toMatchObject({ next: null, disable: true, runs: [{ scheduledFor: T0, status: 'expired' }] });
    const last = planClaim(task({ expires: new Date(T0 + 1500).toISOString() }), T0 + 5, KEY);
    expect(last).toMatchObject({ next: T0 + 1000, disable: false, runs: [{ scheduledFor: T0 }] });
    const final = planClaim(task({ nextRunAt: T0 + 1000, expires: new Date(T0 + 1500).toISOString() }), T0 + 1005, KEY);
    expect(final).toMatchObject({ next: null, disable: true, runs: [{ scheduledFor: T0 + 1000 }] });
    expect(final.runs[0]!.status).toBeUndefined();
  });

  it('overlap skip: while the previous run is active, the tick is recorded as skipped', () => {
    const t = task({ overlapPolicy: 'skip', lastTaskId: 'beat-7-1' });
    expect(planClaim(t, T0 + 5, KEY, undefined, 'STARTED').runs).toEqual([
      { taskId: beatTaskId(KEY, 7, T0), scheduledFor: T0, trigger: 'schedule', status: 'skipped', note: 'the previous run beat-7-1 is still STARTED (overlapPolicy skip)' },
    ]);
    expect(planClaim(task({ lastTaskId: 'beat-7-1' }), T0 + 5, KEY, undefined, 'STARTED').runs[0]!.status).toBeUndefined();
  });

  it('nothing is due before the start time; intervals are anchored at it', () => {
    const start = T0 + 10_250;
    const plan = planClaim(task({ startTime: new Date(start).toISOString() }), T0 + 5, KEY);
    expect(plan.next).toBe(start);
  });

  it('a clocked schedule has no next run after it fired', () => {
    const at = new Date(T0).toISOString();
    expect(planClaim(task({ schedule: { clocked: { at } }, scheduleKind: 'clocked' }), T0 + 5, KEY)).toMatchObject({ next: null, runs: [{ scheduledFor: T0 }] });
  });
});
