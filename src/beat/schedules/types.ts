// The schedule shapes (the `schedule` of a periodic task in the admin API). Pure types and `as const`
// lists: the admin console imports this file too, so it imports nothing.
export const INTERVAL_PERIODS = ['seconds', 'minutes', 'hours', 'days'] as const;
export type IntervalPeriod = (typeof INTERVAL_PERIODS)[number];

/** django-celery-beat's solar event names. */
export const SOLAR_EVENTS = [
  'sunrise',
  'sunset',
  'dawn_astronomical',
  'dawn_nautical',
  'dawn_civil',
  'dusk_astronomical',
  'dusk_nautical',
  'dusk_civil',
  'solar_noon',
] as const;
export type SolarEvent = (typeof SOLAR_EVENTS)[number];

export interface IntervalSpec {
  every: number;
  period: IntervalPeriod;
}

export interface CrontabSpec {
  minute: string;
  hour: string;
  dayOfWeek: string;
  dayOfMonth: string;
  monthOfYear: string;
  timezone: string;
}

export interface SolarSpec {
  event: SolarEvent;
  latitude: number;
  longitude: number;
}

export interface ClockedSpec {
  /** ISO 8601 instant. */
  at: string;
}

export type Schedule =
  | { interval: IntervalSpec }
  | { crontab: CrontabSpec }
  | { solar: SolarSpec }
  | { clocked: ClockedSpec };

export const SCHEDULE_KINDS = ['interval', 'crontab', 'solar', 'clocked'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];
