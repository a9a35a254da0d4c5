// What cron-parser 5 does natively with `tz` — pinned so an upgrade that changes it is noticed.
// crontab.ts documents why only the fall-back half of this matches our rules.
import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';

const native = (expr: string, tz: string, from: string, n: number) =>
  CronExpressionParser.parse(expr, { tz, currentDate: new Date(from) })
    .take(n)
    .map((d) => d.toISOString());

describe('cron-parser with tz (native behaviour)', () => {
  it('spring forward: shifts a skipped time by the gap (02:30 → 03:30, not 03:00)', () => {
    expect(native('30 2 * * *', 'Europe/Warsaw', '2026-03-28T12:00:00Z', 1)).toEqual(['2026-03-29T01:30:00.000Z']);
    expect(native('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 1)).toEqual(['2026-03-08T07:30:00.000Z']);
  });

  it('spring forward: every skipped time of a named hour runs, shifted (four runs instead of one)', () => {
    expect(native('*/15 2 * * *', 'Europe/Warsaw', '2026-03-28T23:00:00Z', 5)).toEqual([
      '2026-03-29T01:00:00.000Z', '2026-03-29T01:15:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-29T01:45:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]);
  });

  it('spring forward with a 30-minute gap (Lord_Howe): the day is skipped entirely', () => {
    expect(native('15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T12:00:00Z', 2)).toEqual([
      '2026-10-02T15:45:00.000Z', '2026-10-04T15:15:00.000Z',
    ]);
  });

  it('fall back: a named time runs at its first occurrence only (as we want)', () => {
    expect(native('30 2 * * *', 'Europe/Warsaw', '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    expect(native('30 2 * * *', 'Europe/Warsaw', '2026-10-25T00:31:00Z', 1)).toEqual(['2026-10-26T01:30:00.000Z']);
  });

  it('fall back: an hour wildcard runs in both real hours (as we want)', () => {
    expect(native('30 * * * *', 'Europe/Warsaw', '2026-10-25T00:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
  });

  it('day of month and day of week both restricted: OR (classic cron), where Celery ANDs', () => {
    expect(native('0 0 13 * 5', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-02T00:00:00.000Z', '2026-01-09T00:00:00.000Z', '2026-01-13T00:00:00.000Z',
    ]);
  });
});
