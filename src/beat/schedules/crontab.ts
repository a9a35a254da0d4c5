/**
 * Crontab schedules (django-celery-beat's fields), evaluated on the local clock of `timezone`.
 *
 * Matching. A local date matches when its month, day of month AND day of week all match — Celery's
 * rule. (Classic cron and cron-parser OR the two day fields when both are restricted, so
 * `dayOfMonth=1-7 dayOfWeek=mon` would mean "the 1st-7th and every Monday"; here it means "the
 * first Monday". We evaluate such schedules with the day of week left out and filter by it.)
 *
 * Daylight saving time. The fields name local clock readings; each reading maps to real instants:
 * - A schedule that names specific hours (any hour field other than every hour) runs once per local
 *   day for each named time:
 *   - a time that does not exist that day (spring forward: 02:30 on 2026-03-29 in Europe/Warsaw)
 *     runs at the first valid minute after the gap (03:00 local), once — several skipped times in
 *     the same gap (02:00, 02:15, …) run together at that one instant;
 *   - a time that happens twice (fall back: 02:30 on 2026-10-25 in Europe/Warsaw) runs at its first
 *     occurrence only.
 * - A schedule whose hour field covers every hour (`*`, `0-23`) runs every real hour: it fires
 *   at each instant whose local clock reading matches, so a repeated hour fires twice (02:30 CEST and
 *   02:30 CET) and a skipped hour does not fire (its real hour is covered by the next reading).
 *
 * What cron-parser 5 does with `tz` (pinned in crontab.cron-parser.test.ts) differs for spring
 * forward: it shifts a skipped time by the gap (02:30 → 03:30, 02:59 → 03:59, minutes 0,15,30,45 of
 * hour 2 → 03:00, 03:15, 03:30, 03:45) and with Australia/Lord_Howe's 30-minute gap it skips the day
 * entirely. Fall back it already handles as above. So cron-parser evaluates the fields on the wall
 * clock (in UTC, where no reading is skipped or repeated) and the mapping to instants is ours (tz.ts).
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { fieldToCron, normalizeField, parseField, type FieldName } from './fields.js';
import { endOfGap, instantsAt, offsetAt } from './tz.js';
import type { CrontabSpec } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Wider than any clock change (Antarctica/Troll shifts 2 h); assumes at most one change per window.
const SHIFT = 3 * HOUR;
const HORIZON = 100 * 366 * DAY;

export const CRON_FIELDS: FieldName[] = ['minute', 'hour', 'dayOfMonth', 'monthOfYear', 'dayOfWeek'];

export interface CompiledCrontab {
  /** Five-field expression for cron-parser, day of week left `*` when it is applied as a filter. */
  expression: string;
  /** Days of week (0 = Sunday) a matching date must also fall on, or null. */
  weekdays: Set<number> | null;
  everyHour: boolean;
  timezone: string;
}

/** Parses one field into cron-parser syntax, or returns an error sentence. */
export function cronField(field: FieldName, raw: string): string | { error: string } {
  const parts = parseField(field, normalizeField(raw));
  return typeof parts === 'string' ? { error: parts } : fieldToCron(field, parts);
}

const compiled = new Map<string, CompiledCrontab>();

/** Throws on invalid fields; validate.ts turns the same checks into form errors. */
export function compileCrontab(spec: CrontabSpec): CompiledCrontab {
  const key = [spec.minute, spec.hour, spec.dayOfMonth, spec.monthOfYear, spec.dayOfWeek, spec.timezone].join(' ');
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(key, (c = compile(spec)));
  }
  return c;
}

function compile(spec: CrontabSpec): CompiledCrontab {
  const f = {} as Record<FieldName, string>;
  for (const name of CRON_FIELDS) {
    const r = cronField(name, spec[name]);
    if (typeof r !== 'string') throw new Error(`${name}: ${r.error}`);
    f[name] = r;
  }
  const full = CronExpressionParser.parse(`${f.minute} ${f.hour} ${f.dayOfMonth} ${f.monthOfYear} ${f.dayOfWeek}`, { tz: 'UTC' });
  const both = f.dayOfMonth !== '*' && f.dayOfWeek !== '*';
  return {
    expression: `${f.minute} ${f.hour} ${f.dayOfMonth} ${f.monthOfYear} ${both ? '*' : f.dayOfWeek}`,
    weekdays: both ? new Set(full.fields.dayOfWeek.values.map((d) => Number(d) % 7)) : null,
    everyHour: new Set(full.fields.hour.values).size === 24,
    timezone: spec.timezone,
  };
}

function safeNext(it: CronExpression): number | null {
  try {
    return it.next().getTime();
  } catch {
    return null; // cron-parser's loop limit: the fields never match (e.g. 31 in April and June only)
  }
}

/** The instants a wall-clock match fires at, per the DST rules above. */
function firesAt(wall: number, c: CompiledCrontab): number[] {
  const instants = instantsAt(wall, c.timezone);
  if (c.everyHour) return instants;
  return instants.length ? [instants[0]!] : [endOfGap(wall, c.timezone)];
}

/** Due instants strictly after `after`, in order, without duplicates. */
export function* crontabRuns(spec: CrontabSpec, after: Date): Generator<Date> {
  const c = compileCrontab(spec);
  const tz = c.timezone;
  const afterMs = after.getTime();
  // The lowest clock reading at or after `after`: lower than its own when the clocks go back soon after.
  const start = afterMs + Math.min(offsetAt(afterMs, tz), offsetAt(afterMs + SHIFT, tz));
  const it = CronExpressionParser.parse(c.expression, { tz: 'UTC', currentDate: new Date(start - 1) });
  // A repeated hour yields instants out of wall order: hold each until no later wall time can map before it.
  const settled = (instant: number, wall: number) =>
    wall - Math.max(offsetAt(instant - SHIFT, tz), offsetAt(instant, tz), offsetAt(instant + SHIFT, tz)) > instant;
  const pending: number[] = [];
  let last = -Infinity;
  for (;;) {
    const wall = safeNext(it);
    if (wall === null || wall > start + HORIZON) break;
    if (c.weekdays && !c.weekdays.has(new Date(wall).getUTCDay())) {
      it.reset(new Date(Math.floor(wall / DAY) * DAY + DAY - 1));
      continue;
    }
    for (const i of firesAt(wall, c)) if (i > afterMs) pending.push(i);
    pending.sort((a, b) => a - b);
    while (pending.length && settled(pending[0]!, wall)) {
      const i = pending.shift()!;
      if (i !== last) yield new Date((last = i));
    }
  }
  for (const i of pending) if (i !== last) yield new Date((last = i));
}
