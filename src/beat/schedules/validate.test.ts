import { describe, expect, it } from 'vitest';
import { parseSchedule, scheduleSchema } from './index.js';

const crontab = (fields: Record<string, unknown>) => ({
  crontab: { minute: '0', hour: '0', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'UTC', ...fields },
});

function errors(input: unknown) {
  const r = parseSchedule(input);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

describe('parseSchedule: accepted', () => {
  it('each kind', () => {
    for (const s of [
      { interval: { every: 10, period: 'seconds' } },
      crontab({ minute: '*/15', hour: '9-17', dayOfWeek: 'mon-fri', monthOfYear: 'jan,jul', timezone: 'Europe/Warsaw' }),
      { solar: { event: 'sunset', latitude: 52.23, longitude: 21.01 } },
      { clocked: { at: '2026-12-01T10:00:00.000Z' } },
    ]) {
      expect(parseSchedule(s)).toEqual({ ok: true, schedule: s });
    }
  });

  it('normalizes: crontab defaults (* and UTC), lower-case fields, canonical zone, `at` in UTC, null kinds ignored', () => {
    expect(parseSchedule({ crontab: { minute: '5', hour: '15', dayOfWeek: 'MON-Fri ' } })).toEqual({
      ok: true,
      schedule: { crontab: { minute: '5', hour: '15', dayOfWeek: 'mon-fri', dayOfMonth: '*', monthOfYear: '*', timezone: 'UTC' } },
    });
    const r = parseSchedule({ crontab: crontab({ timezone: 'europe/warsaw' }).crontab, interval: null });
    expect(r.ok && 'crontab' in r.schedule && r.schedule.crontab.timezone).toBe('Europe/Warsaw');
    expect(parseSchedule({ clocked: { at: '2026-12-01T11:00:00+01:00' } })).toEqual({ ok: true, schedule: { clocked: { at: '2026-12-01T10:00:00.000Z' } } });
  });

  it('scheduleSchema is a zod schema', () => {
    expect(scheduleSchema.safeParse({ interval: { every: 1, period: 'days' } }).success).toBe(true);
  });
});

describe('parseSchedule: rejected, each error naming its field', () => {
  it('no kind, or two kinds', () => {
    expect(errors({})).toEqual([{ path: '', message: 'choose exactly one schedule kind' }]);
    expect(errors({ interval: { every: 1, period: 'days' }, clocked: { at: '2026-12-01T10:00:00Z' } })).toEqual([
      { path: '', message: 'choose exactly one schedule kind' },
    ]);
    expect(errors(null)).toEqual([{ path: '', message: 'schedule must be an object' }]);
    expect(errors({ weekly: {} })).toEqual([{ path: '', message: 'choose exactly one schedule kind' }]);
  });

  it.each([
    [0, 'every must be greater than 0'],
    [-1, 'every must be greater than 0'],
    [1.5, 'every must be a whole number'],
    ['10', 'every must be a number'],
  ])('interval every=%j', (every, message) => {
    expect(errors({ interval: { every, period: 'minutes' } })).toEqual([{ path: 'interval.every', message }]);
  });

  it('interval period', () => {
    expect(errors({ interval: { every: 1, period: 'weeks' } })).toEqual([
      { path: 'interval.period', message: 'period must be one of seconds, minutes, hours, days' },
    ]);
  });

  it.each([
    ['minute', '61', 'Invalid minute "61": 61 is outside 0-59'],
    ['minute', '*/0', 'Invalid minute "*/0": a step must be at least 1'],
    ['minute', 'mon', 'Invalid minute "mon": "mon" is not a valid minute'],
    ['hour', '24', 'Invalid hour "24": 24 is outside 0-23'],
    ['hour', '1,,2', 'Invalid hour "1,,2": "" is not a value, range (1-5) or step (*/15)'],
    ['dayOfMonth', '0', 'Invalid day of month "0": 0 is outside 1-31'],
    ['dayOfMonth', 'L', 'Invalid day of month "L": "l" is not a valid day of month'],
    ['monthOfYear', '13', 'Invalid month "13": 13 is outside 1-12'],
    ['dayOfWeek', 'funday', 'Invalid day of week "funday": "funday" is not a valid day of week'],
    ['dayOfWeek', '1#2', 'Invalid day of week "1#2": "1#2" is not a value, range (1-5) or step (*/15)'],
  ])('crontab %s=%j', (field, value, message) => {
    expect(errors(crontab({ [field]: value }))).toEqual([{ path: `crontab.${field}`, message }]);
  });

  it('crontab day that never occurs in the chosen months', () => {
    for (const [dayOfMonth, monthOfYear] of [['31', 'apr,jun'], ['30', 'feb']]) {
      expect(errors(crontab({ dayOfMonth, monthOfYear }))).toEqual([
        { path: 'crontab.dayOfMonth', message: `Day of month "${dayOfMonth}" never occurs in the chosen months` },
      ]);
    }
    expect(parseSchedule(crontab({ dayOfMonth: '29', monthOfYear: 'feb' })).ok).toBe(true);
  });

  it('crontab unknown time zone (and UTC offsets, which are not zones)', () => {
    for (const timezone of ['Mars/Olympus', '+01:00', '']) {
      expect(errors(crontab({ timezone }))).toEqual([
        { path: 'crontab.timezone', message: `Unknown time zone "${timezone}" (use an IANA name such as Europe/Warsaw)` },
      ]);
    }
  });

  it('several bad fields are all reported', () => {
    expect(errors(crontab({ minute: '61', timezone: 'Nowhere/Land' })).map((e) => e.path)).toEqual(['crontab.minute', 'crontab.timezone']);
  });

  it('solar latitude, longitude and event', () => {
    expect(errors({ solar: { event: 'sunset', latitude: 95, longitude: 21 } })).toEqual([
      { path: 'solar.latitude', message: 'latitude must be between -90 and 90' },
    ]);
    expect(errors({ solar: { event: 'sunset', latitude: 52, longitude: -181 } })).toEqual([
      { path: 'solar.longitude', message: 'longitude must be between -180 and 180' },
    ]);
    expect(errors({ solar: { event: 'moonrise', latitude: 52, longitude: 21 } })[0]?.path).toBe('solar.event');
    expect(errors({ solar: { event: 'sunset', longitude: 21 } })).toEqual([{ path: 'solar.latitude', message: 'latitude must be a number' }]);
  });

  it('clocked `at` must be a valid ISO 8601 instant', () => {
    for (const at of ['tomorrow', '2026-02-30T10:00:00Z', '2026-12-01T10:00:00']) {
      expect(errors({ clocked: { at } })).toEqual([
        { path: 'clocked.at', message: 'at must be an ISO 8601 date and time with a zone, e.g. 2026-12-01T10:00:00Z' },
      ]);
    }
  });

  it('unknown keys inside a kind', () => {
    expect(errors({ interval: { every: 1, period: 'days', jitter: 5 } })[0]?.path).toBe('interval');
  });
});
