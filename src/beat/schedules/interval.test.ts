import { describe, expect, it } from 'vitest';
import { intervalMs, nextRun, upcomingRuns } from './index.js';

const at = (s: string) => new Date(s);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('intervalMs', () => {
  it('converts each period', () => {
    expect(intervalMs({ every: 10, period: 'seconds' })).toBe(10_000);
    expect(intervalMs({ every: 5, period: 'minutes' })).toBe(300_000);
    expect(intervalMs({ every: 2, period: 'hours' })).toBe(7_200_000);
    expect(intervalMs({ every: 1, period: 'days' })).toBe(86_400_000);
  });
});

describe('interval nextRun', () => {
  const every10s = { interval: { every: 10, period: 'seconds' as const } };
  const anchor = at('2026-01-01T00:00:07Z');

  it('is anchored: anchor + k·every, not after + every', () => {
    expect(iso(nextRun(every10s, at('2026-01-01T00:01:00Z'), anchor))).toBe('2026-01-01T00:01:07.000Z');
    // A tick that runs late does not shift later runs.
    expect(iso(nextRun(every10s, at('2026-01-01T00:01:10.300Z'), anchor))).toBe('2026-01-01T00:01:17.000Z');
  });

  it('is strictly after `after`', () => {
    expect(iso(nextRun(every10s, at('2026-01-01T00:01:07Z'), anchor))).toBe('2026-01-01T00:01:17.000Z');
  });

  it('first run is the anchor itself when the anchor is still ahead (a future start time)', () => {
    expect(iso(nextRun(every10s, at('2025-12-31T00:00:00Z'), anchor))).toBe('2026-01-01T00:00:07.000Z');
  });

  it('created now → first run one interval later', () => {
    const created = at('2026-05-05T10:11:12.345Z');
    expect(iso(nextRun({ interval: { every: 1, period: 'hours' } }, created, created))).toBe('2026-05-05T11:11:12.345Z');
  });

  it('without an anchor is aligned to the Unix epoch', () => {
    expect(iso(nextRun(every10s, at('2026-01-01T00:00:03Z')))).toBe('2026-01-01T00:00:10.000Z');
    expect(iso(nextRun({ interval: { every: 1, period: 'days' } }, at('2026-01-01T15:00:00Z')))).toBe('2026-01-02T00:00:00.000Z');
  });

  it('upcoming runs are evenly spaced, also across a DST change (days are 24 real hours)', () => {
    const runs = upcomingRuns({ interval: { every: 1, period: 'days' } }, at('2026-03-27T00:00:00Z'), 4, at('2026-03-01T13:05:00Z'));
    expect(runs.map(iso)).toEqual([
      '2026-03-27T13:05:00.000Z',
      '2026-03-28T13:05:00.000Z',
      '2026-03-29T13:05:00.000Z',
      '2026-03-30T13:05:00.000Z',
    ]);
  });
});
