// The schedule model: what a periodic task's `schedule` may be, and when it is due. Pure: no I/O.
import { nextClocked } from './clocked.js';
import { crontabRuns } from './crontab.js';
import { nextInterval } from './interval.js';
import { nextSolar } from './solar.js';
import type { Schedule, ScheduleKind } from './types.js';

export { describeCrontab, describeSchedule } from './describe.js';
export { intervalMs } from './interval.js';
export { offsetAt } from './tz.js';
export { parseSchedule, scheduleSchema, type ParseScheduleResult } from './validate.js';
export {
  INTERVAL_PERIODS,
  SCHEDULE_KINDS,
  SOLAR_EVENTS,
  type ClockedSpec,
  type CrontabSpec,
  type IntervalPeriod,
  type IntervalSpec,
  type Schedule,
  type ScheduleKind,
  type SolarEvent,
  type SolarSpec,
} from './types.js';

export function scheduleKind(schedule: Schedule): ScheduleKind {
  if ('interval' in schedule) return 'interval';
  if ('crontab' in schedule) return 'crontab';
  if ('solar' in schedule) return 'solar';
  return 'clocked';
}

/** Due times strictly after `after`, in order. `anchor` is used by intervals only (the task's start or creation time). */
export function* runsAfter(schedule: Schedule, after: Date, anchor?: Date): Generator<Date> {
  if ('crontab' in schedule) {
    yield* crontabRuns(schedule.crontab, after);
    return;
  }
  if ('clocked' in schedule) {
    const at = nextClocked(schedule.clocked, after);
    if (at) yield at;
    return;
  }
  for (let t: Date | null = after; ; ) {
    t = 'interval' in schedule ? nextInterval(schedule.interval, t, anchor) : nextSolar(schedule.solar, t);
    if (!t) return;
    yield t;
  }
}

/**
 * The first due time strictly after `after`, or null when the schedule will never fire again
 * (clocked in the past; a solar event that does not happen within a year). Expects a schedule that
 * passed scheduleSchema (an invalid crontab field or zone throws).
 * Intervals are anchored: anchor + k·every (k ≥ 0); without an anchor, aligned to the Unix epoch.
 */
export function nextRun(schedule: Schedule, after: Date, anchor?: Date): Date | null {
  const r = runsAfter(schedule, after, anchor).next();
  return r.done ? null : r.value;
}

/** The next n due times after `after`. */
export function upcomingRuns(schedule: Schedule, after: Date, n: number, anchor?: Date): Date[] {
  const out: Date[] = [];
  if (n <= 0) return out;
  for (const t of runsAfter(schedule, after, anchor)) {
    out.push(t);
    if (out.length >= n) break;
  }
  return out;
}

/** Due times in (from, to], the earliest `limit` of them (for the missed-run policies). */
export function dueTimesBetween(schedule: Schedule, from: Date, to: Date, limit: number, anchor?: Date): Date[] {
  const out: Date[] = [];
  if (limit <= 0) return out;
  for (const t of runsAfter(schedule, from, anchor)) {
    if (t.getTime() > to.getTime()) break;
    out.push(t);
    if (out.length >= limit) break;
  }
  return out;
}
