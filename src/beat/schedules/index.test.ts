import { describe, expect, it } from 'vitest';
import { dueTimesBetween, nextRun, upcomingRuns, type Schedule } from './index.js';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const after = new Date('2026-06-01T00:00:00Z');

describe('upcomingRuns', () => {
  it('gives the next five for each kind, in order', () => {
    const schedules: Schedule[] = [
      { interval: { every: 10, period: 'minutes' } },
      { crontab: { minute: '5', hour: '15', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'Europe/Warsaw' } },
      { solar: { event: 'sunrise', latitude: 52.23, longitude: 21.01 } },
    ];
    for (const s of schedules) {
      const runs = upcomingRuns(s, after, 5);
      expect(runs).toHaveLength(5);
      expect(runs[0]!.getTime()).toBe(nextRun(s, after)!.getTime());
      expect(runs.every((d, i) => d > (i ? runs[i - 1]! : after))).toBe(true);
    }
    expect(iso(upcomingRuns(schedules[0]!, after, 5))).toEqual([
      '2026-06-01T00:10:00.000Z', '2026-06-01T00:20:00.000Z', '2026-06-01T00:30:00.000Z', '2026-06-01T00:40:00.000Z', '2026-06-01T00:50:00.000Z',
    ]);
    expect(iso(upcomingRuns(schedules[1]!, after, 5))).toEqual([
      '2026-06-01T13:05:00.000Z', '2026-06-02T13:05:00.000Z', '2026-06-03T13:05:00.000Z', '2026-06-04T13:05:00.000Z', '2026-06-05T13:05:00.000Z',
    ]);
    expect(upcomingRuns(schedules[0]!, after, 0)).toEqual([]);
  });
});

describe('dueTimesBetween', () => {
  const hourly: Schedule = { interval: { every: 1, period: 'hours' } };

  it('is (from, to]: excludes from, includes to', () => {
    expect(iso(dueTimesBetween(hourly, new Date('2026-06-01T01:00:00Z'), new Date('2026-06-01T03:00:00Z'), 10))).toEqual([
      '2026-06-01T02:00:00.000Z', '2026-06-01T03:00:00.000Z',
    ]);
  });

  it('caps at limit, keeping the earliest', () => {
    expect(iso(dueTimesBetween(hourly, after, new Date('2026-06-02T00:00:00Z'), 3))).toEqual([
      '2026-06-01T01:00:00.000Z', '2026-06-01T02:00:00.000Z', '2026-06-01T03:00:00.000Z',
    ]);
    expect(dueTimesBetween(hourly, after, new Date('2026-06-02T00:00:00Z'), 0)).toEqual([]);
  });

  it('is empty for an empty window and uses the anchor for intervals', () => {
    expect(dueTimesBetween(hourly, after, after, 10)).toEqual([]);
    const anchored = dueTimesBetween(hourly, after, new Date('2026-06-01T02:00:00Z'), 10, new Date('2026-05-01T00:20:00Z'));
    expect(iso(anchored)).toEqual(['2026-06-01T00:20:00.000Z', '2026-06-01T01:20:00.000Z']);
  });

  it('crontab over a day', () => {
    const s: Schedule = { crontab: { minute: '0', hour: '*/6', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'UTC' } };
    expect(dueTimesBetween(s, after, new Date('2026-06-02T00:00:00Z'), 100)).toHaveLength(4);
  });
});
