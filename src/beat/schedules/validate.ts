import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { CRON_FIELDS, cronField } from './crontab.js';
import { LABELS, normalizeField, type FieldName } from './fields.js';
import { intervalMs } from './interval.js';
import { canonicalTimeZone } from './tz.js';
import { INTERVAL_PERIODS, SCHEDULE_KINDS, SOLAR_EVENTS, type Schedule } from './types.js';

const MAX_INTERVAL_MS = 100 * 366 * 86_400_000;

const intervalSchema = z
  .object({
    every: z
      .number({ error: 'every must be a number' })
      .int('every must be a whole number')
      .positive('every must be greater than 0'),
    period: z.enum(INTERVAL_PERIODS, { error: `period must be one of ${INTERVAL_PERIODS.join(', ')}` }),
  })
  .strict()
  .refine((v) => intervalMs(v) <= MAX_INTERVAL_MS, { error: 'every is too large (at most 100 years)', path: ['every'] });

const cronFieldSchema = (name: FieldName) =>
  z
    .string({ error: `${LABELS[name]} must be a string` })
    .default('*')
    .superRefine((raw, ctx) => {
      const r = cronField(name, raw);
      if (typeof r !== 'string') ctx.addIssue({ code: 'custom', message: `Invalid ${LABELS[name]} "${raw}": ${r.error}` });
    })
    .transform(normalizeField);

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const crontabSchema = z
  .object({
    minute: cronFieldSchema('minute'),
    hour: cronFieldSchema('hour'),
    dayOfWeek: cronFieldSchema('dayOfWeek'),
    dayOfMonth: cronFieldSchema('dayOfMonth'),
    monthOfYear: cronFieldSchema('monthOfYear'),
    timezone: z
      .string({ error: 'timezone must be a string' })
      .trim()
      .default('UTC')
      .transform((tz, ctx) => {
        const canonical = canonicalTimeZone(tz);
        if (!canonical) {
          ctx.addIssue({ code: 'custom', message: `Unknown time zone "${tz}" (use an IANA name such as Europe/Warsaw)` });
          return z.NEVER;
        }
        return canonical;
      }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Fields that are each fine can still never meet: day 31 with only April and June.
    const parts = CRON_FIELDS.map((n) => cronField(n, c[n]));
    if (parts.some((p) => typeof p !== 'string')) return;
    let never: boolean;
    try {
      const { fields } = CronExpressionParser.parse(parts.join(' '), { tz: 'UTC' });
      const longest = Math.max(...fields.month.values.map((m) => DAYS_IN_MONTH[Number(m) - 1]!));
      never = !fields.dayOfMonth.values.some((d) => Number(d) <= longest);
    } catch {
      never = true; // cron-parser refuses some of these itself ("Invalid explicit day of month definition")
    }
    if (never) {
      ctx.addIssue({ code: 'custom', path: ['dayOfMonth'], message: `Day of month "${c.dayOfMonth}" never occurs in the chosen months` });
    }
  });

const solarSchema = z
  .object({
    event: z.enum(SOLAR_EVENTS, { error: `event must be one of ${SOLAR_EVENTS.join(', ')}` }),
    latitude: z
      .number({ error: 'latitude must be a number' })
      .min(-90, 'latitude must be between -90 and 90')
      .max(90, 'latitude must be between -90 and 90'),
    longitude: z
      .number({ error: 'longitude must be a number' })
      .min(-180, 'longitude must be between -180 and 180')
      .max(180, 'longitude must be between -180 and 180'),
  })
  .strict();

const clockedSchema = z
  .object({
    at: z
      .string({ error: 'at must be a date and time' })
      .pipe(z.iso.datetime({ offset: true, error: 'at must be an ISO 8601 date and time with a zone, e.g. 2026-12-01T10:00:00Z' }))
      .transform((s) => new Date(s).toISOString()),
  })
  .strict();

const byKind = z
  .object({ interval: intervalSchema, crontab: crontabSchema, solar: solarSchema, clocked: clockedSchema })
  .partial()
  .strict();

/** Validates and normalizes a schedule (cron fields lower-cased, zone spelled canonically, `at` in UTC, crontab defaults `*` and UTC). */
export const scheduleSchema: z.ZodType<Schedule> = z
  .looseObject({}, { error: (issue) => (issue.input === undefined ? 'choose exactly one schedule kind' : 'schedule must be an object') })
  // Forms may send the unused kinds as null.
  .transform((v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined)))
  .superRefine((v, ctx) => {
    if (SCHEDULE_KINDS.filter((k) => k in v).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'choose exactly one schedule kind' });
    }
  })
  .pipe(byKind)
  .transform((v): Schedule => {
    if (v.interval) return { interval: v.interval };
    if (v.crontab) return { crontab: v.crontab };
    if (v.solar) return { solar: v.solar };
    return { clocked: v.clocked! };
  });

export type ParseScheduleResult =
  | { ok: true; schedule: Schedule }
  | { ok: false; errors: { path: string; message: string }[] };

/** Form-friendly validation: each error names its field as a dotted path ("crontab.minute"; "" for the whole schedule). */
export function parseSchedule(input: unknown): ParseScheduleResult {
  const r = scheduleSchema.safeParse(input);
  if (r.success) return { ok: true, schedule: r.data };
  return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}
