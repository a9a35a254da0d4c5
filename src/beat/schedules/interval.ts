import type { IntervalPeriod, IntervalSpec } from './types.js';

const PERIOD_MS: Record<IntervalPeriod, number> = {
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

/** Length of one interval in milliseconds. `days` are 24 real hours, not calendar days (use a crontab for "same clock time daily"). */
export function intervalMs(interval: IntervalSpec): number {
  return interval.every * PERIOD_MS[interval.period];
}

/**
 * Interval runs are anchor + k·every for k ≥ 0, so they never drift with late ticks. Without an
 * anchor the grid is aligned to the Unix epoch (every 10 seconds → :00, :10, …).
 */
export function nextInterval(interval: IntervalSpec, after: Date, anchor?: Date): Date {
  const every = intervalMs(interval);
  const a = anchor?.getTime() ?? 0;
  const t = after.getTime();
  if (t < a) return new Date(a);
  return new Date(a + (Math.floor((t - a) / every) + 1) * every);
}
