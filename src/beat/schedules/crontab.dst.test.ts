// Cross-check crontabRuns against a brute-force minute-by-minute scan of the DST rules in crontab.ts.
import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { dueTimesBetween } from './index.js';
import { wallClock } from './tz.js';

const MIN = 60_000;

function bruteForce(expr: string, timeZone: string, from: number, to: number): string[] {
  const cron = CronExpressionParser.parse(expr, { tz: 'UTC' });
  const matches = (wall: number) => cron.includesDate(new Date(wall));
  const everyHour = new Set(cron.fields.hour.values).size === 24;
  const seen = new Set<number>();
  const out: string[] = [];
  let prev = wallClock(from - 4 * 60 * MIN, timeZone);
  for (let i = from - 4 * 60 * MIN + MIN; i <= to; i += MIN) {
    const wall = wallClock(i, timeZone);
    let fire = matches(wall) && (everyHour || !seen.has(wall));
    if (!everyHour && wall - prev > MIN) {
      // The clocks jumped: fire if any skipped reading matches.
      for (let w = prev + MIN; w < wall && !fire; w += MIN) fire = matches(w);
    }
    seen.add(wall);
    prev = wall;
    if (fire && i > from) out.push(new Date(i).toISOString());
  }
  return out;
}

const cases: [string, string, string][] = [
  ['Europe/Warsaw', '2026-03-28T12:00:00Z', '2026-03-30T00:00:00Z'],
  ['Europe/Warsaw', '2026-10-24T12:00:00Z', '2026-10-26T00:00:00Z'],
  ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-09T00:00:00Z'],
  ['America/New_York', '2026-10-31T12:00:00Z', '2026-11-02T00:00:00Z'],
  ['Australia/Lord_Howe', '2026-04-04T00:00:00Z', '2026-04-05T12:00:00Z'],
  ['Australia/Lord_Howe', '2026-10-03T00:00:00Z', '2026-10-04T12:00:00Z'],
  ['America/Santiago', '2026-09-05T00:00:00Z', '2026-09-07T00:00:00Z'],
  ['Asia/Kolkata', '2026-03-28T12:00:00Z', '2026-03-30T00:00:00Z'],
];
const expressions = ['30 2 * * *', '*/15 * * * *', '0,30 * * * *', '*/20 1-3 * * *', '0 0,1,2,3 * * *', '45 1 * * *', '0 0 * * *', '* 2 * * *'];

describe('crontab DST rules agree with a brute-force scan', () => {
  for (const [tz, from, to] of cases) {
    it(`${tz} ${from.slice(0, 10)}`, () => {
      for (const expr of expressions) {
        const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expr.split(' ') as [string, string, string, string, string];
        const schedule = { crontab: { minute, hour, dayOfMonth, monthOfYear, dayOfWeek, timezone: tz } };
        const ours = dueTimesBetween(schedule, new Date(from), new Date(to), 10_000).map((d) => d.toISOString());
        expect(ours, expr).toEqual(bruteForce(expr, tz, Date.parse(from), Date.parse(to)));
      }
    });
  }
});
