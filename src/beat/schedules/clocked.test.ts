import { describe, expect, it } from 'vitest';
import { dueTimesBetween, nextRun, upcomingRuns } from './index.js';

const once = { clocked: { at: '2026-12-01T10:00:00.000Z' } };

describe('clocked', () => {
  it('fires once, at `at`', () => {
    expect(nextRun(once, new Date('2026-11-30T00:00:00Z'))?.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(upcomingRuns(once, new Date('2026-11-30T00:00:00Z'), 5)).toHaveLength(1);
  });

  it('in the past (or exactly now) never fires again', () => {
    expect(nextRun(once, new Date('2026-12-01T10:00:00Z'))).toBeNull();
    expect(nextRun(once, new Date('2027-01-01T00:00:00Z'))).toBeNull();
    expect(upcomingRuns(once, new Date('2027-01-01T00:00:00Z'), 5)).toEqual([]);
  });

  it('is due in (from, to] when `at` falls inside', () => {
    expect(dueTimesBetween(once, new Date('2026-12-01T09:00:00Z'), new Date('2026-12-01T10:00:00Z'), 10)).toHaveLength(1);
    expect(dueTimesBetween(once, new Date('2026-12-01T10:00:00Z'), new Date('2026-12-01T11:00:00Z'), 10)).toHaveLength(0);
  });
});
