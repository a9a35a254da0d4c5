import { describe, expect, it } from 'vitest';
import { dueTimesBetween, nextRun, upcomingRuns } from './index.js';

const cron = (minute: string, hour: string, timezone = 'UTC', dayOfMonth = '*', monthOfYear = '*', dayOfWeek = '*') => ({
  crontab: { minute, hour, dayOfMonth, monthOfYear, dayOfWeek, timezone },
});
const iso = (d: Date | null) => d?.toISOString() ?? null;
const runs = (schedule: ReturnType<typeof cron>, after: string, n: number) => upcomingRuns(schedule, new Date(after), n).map(iso);
const between = (schedule: ReturnType<typeof cron>, from: string, to: string) =>
  dueTimesBetween(schedule, new Date(from), new Date(to), 1000).map(iso);

describe('crontab: plain zones', () => {
  it('UTC', () => {
    expect(runs(cron('5', '15'), '2026-01-10T15:05:00Z', 2)).toEqual(['2026-01-11T15:05:00.000Z', '2026-01-12T15:05:00.000Z']);
    expect(runs(cron('*/15', '*'), '2026-01-10T10:07:00Z', 3)).toEqual([
      '2026-01-10T10:15:00.000Z', '2026-01-10T10:30:00.000Z', '2026-01-10T10:45:00.000Z',
    ]);
  });

  it("15:05 Europe/Warsaw every day (the lab's schedule): 14:05 UTC in winter, 13:05 UTC in summer", () => {
    const lab = cron('5', '15', 'Europe/Warsaw');
    expect(iso(nextRun(lab, new Date('2026-01-15T00:00:00Z')))).toBe('2026-01-15T14:05:00.000Z');
    expect(iso(nextRun(lab, new Date('2026-07-15T00:00:00Z')))).toBe('2026-07-15T13:05:00.000Z');
    expect(runs(lab, '2026-03-28T00:00:00Z', 2)).toEqual(['2026-03-28T14:05:00.000Z', '2026-03-29T13:05:00.000Z']);
    expect(runs(lab, '2026-10-24T00:00:00Z', 2)).toEqual(['2026-10-24T13:05:00.000Z', '2026-10-25T14:05:00.000Z']);
  });

  it('America/New_York: 09:00 is 14:00 UTC in winter, 13:00 UTC in summer', () => {
    expect(iso(nextRun(cron('0', '9', 'America/New_York'), new Date('2026-01-15T00:00:00Z')))).toBe('2026-01-15T14:00:00.000Z');
    expect(iso(nextRun(cron('0', '9', 'America/New_York'), new Date('2026-07-15T00:00:00Z')))).toBe('2026-07-15T13:00:00.000Z');
  });

  it('Asia/Kolkata (+05:30, no DST)', () => {
    expect(runs(cron('30', '9', 'Asia/Kolkata'), '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-01T04:00:00.000Z', '2026-01-02T04:00:00.000Z']);
    expect(runs(cron('0', '*', 'Asia/Kolkata'), '2026-06-01T00:00:00Z', 2)).toEqual(['2026-06-01T00:30:00.000Z', '2026-06-01T01:30:00.000Z']);
  });
});

describe('crontab: spring forward (a local time that does not exist runs once, at the first valid minute after the gap)', () => {
  it('Europe/Warsaw 02:30 on 2026-03-29 runs at 03:00 CEST', () => {
    expect(runs(cron('30', '2', 'Europe/Warsaw'), '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('every skipped time of the gap collapses into that one run', () => {
    expect(between(cron('*/15', '2', 'Europe/Warsaw'), '2026-03-28T22:00:00Z', '2026-03-29T22:00:00Z')).toEqual(['2026-03-29T01:00:00.000Z']);
    expect(between(cron('0', '2,3', 'Europe/Warsaw'), '2026-03-28T22:00:00Z', '2026-03-29T22:00:00Z')).toEqual(['2026-03-29T01:00:00.000Z']);
  });

  it('America/New_York 02:30 on 2026-03-08 runs at 03:00 EDT', () => {
    expect(runs(cron('30', '2', 'America/New_York'), '2026-03-07T12:00:00Z', 2)).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('Australia/Lord_Howe (30-minute shift): 02:15 on 2026-10-04 runs at 02:30 (+11)', () => {
    expect(runs(cron('15', '2', 'Australia/Lord_Howe'), '2026-10-02T12:00:00Z', 3)).toEqual([
      '2026-10-02T15:45:00.000Z', // 10-03 02:15 +10:30
      '2026-10-03T15:30:00.000Z', // 10-04 02:30 +11, the end of the gap
      '2026-10-04T15:15:00.000Z', // 10-05 02:15 +11
    ]);
  });

  it('America/Santiago skips midnight: 00:00 on 2026-09-06 runs at 01:00', () => {
    expect(runs(cron('0', '0', 'America/Santiago'), '2026-09-04T12:00:00Z', 3)).toEqual([
      '2026-09-05T04:00:00.000Z',
      '2026-09-06T04:00:00.000Z', // 01:00 -03
      '2026-09-07T03:00:00.000Z',
    ]);
  });
});

describe('crontab: fall back (a local time that happens twice runs once, at its first occurrence)', () => {
  it('Europe/Warsaw 02:30 on 2026-10-25 runs at 02:30 CEST only', () => {
    expect(runs(cron('30', '2', 'Europe/Warsaw'), '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    // Asked between the two occurrences, the next run is the next day.
    expect(iso(nextRun(cron('30', '2', 'Europe/Warsaw'), new Date('2026-10-25T00:45:00Z')))).toBe('2026-10-26T01:30:00.000Z');
  });

  it('every minute of a named repeated hour runs once', () => {
    expect(between(cron('*/15', '2', 'Europe/Warsaw'), '2026-10-24T22:00:00Z', '2026-10-25T22:00:00Z')).toEqual([
      '2026-10-25T00:00:00.000Z', '2026-10-25T00:15:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T00:45:00.000Z',
    ]);
  });

  it('America/New_York 01:30 on 2026-11-01 runs at 01:30 EDT only', () => {
    expect(runs(cron('30', '1', 'America/New_York'), '2026-10-31T12:00:00Z', 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('Australia/Lord_Howe 01:45 on 2026-04-05 runs at 01:45 (+11) only', () => {
    expect(runs(cron('45', '1', 'Australia/Lord_Howe'), '2026-04-03T12:00:00Z', 3)).toEqual([
      '2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z',
    ]);
  });
});

describe('crontab: an hour wildcard runs every real hour', () => {
  it('minute=30 hour=* fires in both real 02:30s on fall back', () => {
    expect(between(cron('30', '*', 'Europe/Warsaw'), '2026-10-24T23:00:00Z', '2026-10-25T03:00:00Z')).toEqual([
      '2026-10-24T23:30:00.000Z', // 01:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:30:00.000Z', // 03:30 CET
    ]);
  });

  it('minute=30 hour=* on spring forward stays one per real hour (no extra 03:00)', () => {
    expect(between(cron('30', '*', 'Europe/Warsaw'), '2026-03-28T23:00:00Z', '2026-03-29T03:00:00Z')).toEqual([
      '2026-03-28T23:30:00.000Z', // 00:30 CET
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-29T02:30:00.000Z', // 04:30 CEST
    ]);
  });

  it('*/15 stays evenly spaced in real time across both transitions', () => {
    const spacing = (xs: (string | null)[]) => xs.slice(1).map((x, i) => Date.parse(x!) - Date.parse(xs[i]!));
    const fall = between(cron('*/15', '*', 'Europe/Warsaw'), '2026-10-24T23:50:00Z', '2026-10-25T02:10:00Z');
    const spring = between(cron('*/15', '0-23', 'Europe/Warsaw'), '2026-03-28T23:50:00Z', '2026-03-29T02:10:00Z');
    expect(fall).toHaveLength(9);
    expect(spring).toHaveLength(9);
    expect(new Set([...spacing(fall), ...spacing(spring)])).toEqual(new Set([15 * 60_000]));
  });

  it('Lord_Howe half-hourly across its 30-minute fall back: 01:30 twice', () => {
    expect(between(cron('0,30', '*', 'Australia/Lord_Howe'), '2026-04-04T13:50:00Z', '2026-04-04T16:00:00Z')).toEqual([
      '2026-04-04T14:00:00.000Z', // 01:00 +11
      '2026-04-04T14:30:00.000Z', // 01:30 +11
      '2026-04-04T15:00:00.000Z', // 01:30 +10:30
      '2026-04-04T15:30:00.000Z', // 02:00 +10:30
      '2026-04-04T16:00:00.000Z',
    ]);
  });
});

describe('crontab: day fields', () => {
  it('day of month AND day of week (Celery), not cron’s OR: the first Monday of each month', () => {
    expect(runs(cron('0', '0', 'UTC', '1-7', '*', 'mon'), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-05T00:00:00.000Z', '2026-02-02T00:00:00.000Z', '2026-03-02T00:00:00.000Z',
    ]);
    expect(runs(cron('0', '0', 'UTC', '13', '*', 'fri'), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z',
    ]);
  });

  it('Feb 29 runs in leap years only', () => {
    expect(runs(cron('0', '0', 'UTC', '29', '2'), '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
  });

  it('names, full names and wrap-around ranges', () => {
    const weekdays = runs(cron('0', '9', 'UTC', '*', '*', 'mon-fri'), '2026-06-05T12:00:00Z', 2); // Friday
    expect(weekdays).toEqual(['2026-06-08T09:00:00.000Z', '2026-06-09T09:00:00.000Z']);
    expect(runs(cron('0', '9', 'UTC', '*', '*', 'Friday-Monday'), '2026-06-01T12:00:00Z', 4)).toEqual([
      '2026-06-05T09:00:00.000Z', '2026-06-06T09:00:00.000Z', '2026-06-07T09:00:00.000Z', '2026-06-08T09:00:00.000Z',
    ]);
    expect(runs(cron('0', '0', 'UTC', '1', 'JAN'), '2026-06-01T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(runs(cron('0', '23-1'), '2026-06-01T12:00:00Z', 3)).toEqual([
      '2026-06-01T23:00:00.000Z', '2026-06-02T00:00:00.000Z', '2026-06-02T01:00:00.000Z',
    ]);
    expect(runs(cron('0', '0', 'UTC', '*', '*', '7'), '2026-06-01T00:00:00Z', 1)).toEqual(['2026-06-07T00:00:00.000Z']); // 7 = Sunday
  });

  it('day fields are read on the local calendar', () => {
    // Monday 00:30 in Kolkata is still Sunday in UTC.
    expect(iso(nextRun(cron('30', '0', 'Asia/Kolkata', '*', '*', 'mon'), new Date('2026-06-01T00:00:00Z')))).toBe('2026-06-07T19:00:00.000Z');
  });
});

describe('crontab: ordering', () => {
  it('runs are strictly increasing and strictly after `after`', () => {
    const after = '2026-10-25T00:10:00Z';
    const xs = runs(cron('*/10', '*', 'Europe/Warsaw'), after, 30);
    expect(xs).toHaveLength(30);
    expect(xs.every((x, i) => Date.parse(x!) > (i ? Date.parse(xs[i - 1]!) : Date.parse(after)))).toBe(true);
  });

  it('nextRun at exactly a due time returns the following one', () => {
    expect(iso(nextRun(cron('5', '15', 'Europe/Warsaw'), new Date('2026-01-15T14:05:00Z')))).toBe('2026-01-16T14:05:00.000Z');
  });
});
