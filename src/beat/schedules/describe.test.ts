import { describe, expect, it } from 'vitest';
import { describeSchedule } from './index.js';

const cron = (minute: string, hour: string, dayOfMonth = '*', monthOfYear = '*', dayOfWeek = '*', timezone = 'UTC') => ({
  crontab: { minute, hour, dayOfMonth, monthOfYear, dayOfWeek, timezone },
});

describe('describeSchedule', () => {
  it.each([
    [{ interval: { every: 10, period: 'seconds' as const } }, 'Every 10 seconds'],
    [{ interval: { every: 1, period: 'minutes' as const } }, 'Every minute'],
    [{ interval: { every: 1, period: 'days' as const } }, 'Every day'],
    [{ interval: { every: 3, period: 'hours' as const } }, 'Every 3 hours'],
    [{ solar: { event: 'sunset' as const, latitude: 52.2297, longitude: 21.0122 } }, 'At sunset at 52.23, 21.01'],
    [{ solar: { event: 'dawn_civil' as const, latitude: 69.65, longitude: 18.96 } }, 'At civil dawn at 69.65, 18.96'],
    [{ clocked: { at: '2026-12-01T10:00:00.000Z' } }, 'Once at 2026-12-01 10:00 UTC'],
    [{ clocked: { at: '2026-12-01T11:00:30+01:00' } }, 'Once at 2026-12-01 10:00:30 UTC'],
  ])('%j → %s', (schedule, text) => {
    expect(describeSchedule(schedule)).toBe(text);
  });

  it.each([
    [cron('5', '15'), 'At 15:05, every day'],
    [cron('5', '15', '*', '*', '*', 'Europe/Warsaw'), 'At 15:05, every day (Europe/Warsaw)'],
    [cron('0', '*/2', '*', '*', 'mon-fri'), 'At minute 0 past every 2nd hour, Monday through Friday'],
    [cron('*', '*'), 'Every minute'],
    [cron('*/15', '*'), 'Every 15 minutes'],
    [cron('5', '*'), 'At minute 5 past every hour'],
    [cron('0', '9,17'), 'At 09:00 and 17:00, every day'],
    [cron('0,30', '9'), 'At 09:00 and 09:30, every day'],
    [cron('30', '9', '*', '*', 'MON'), 'At 09:30, only on Monday'],
    [cron('30', '9', '*', '*', 'sat,sun'), 'At 09:30, only on Saturday and Sunday'],
    [cron('0', '8', '1'), 'At 08:00, on day 1 of the month'],
    [cron('0', '8', '1,15'), 'At 08:00, on days 1 and 15 of the month'],
    [cron('0', '0', '29', '2'), 'At 00:00, on day 29 of the month, only in February'],
    [cron('0', '0', '1-7', '*', 'mon'), 'At 00:00, on days 1 through 7 of the month, if it is a Monday'],
    [cron('0', '12', '*', 'jan-mar'), 'At 12:00, January through March'],
    [cron('0', '12', '*', '*/3'), 'At 12:00, every 3rd month'],
    [cron('0,30', '9-17', '*', '*', '1-5'), 'At minute 0 and 30 past every hour from 9 through 17, Monday through Friday'],
    [cron('10-40/5', '22-2'), 'At every 5th minute from 10 through 40 past every hour from 22 through 2'],
    [cron('1-5', '*'), 'At every minute from 1 through 5 past every hour'],
    [cron('*', '3'), 'At every minute past hour 3'],
    [cron('0', '0', '*/2'), 'At 00:00, every 2nd day of the month'],
    [cron('0', '0', '*', '*', '5-7'), 'At 00:00, Friday through Sunday'],
    [cron('0', '0', '*', '*', 'friday-monday'), 'At 00:00, Friday through Monday'],
  ])('%j → %s', (schedule, text) => {
    expect(describeSchedule(schedule)).toBe(text);
  });

  it('falls back to the raw fields when they do not parse', () => {
    expect(describeSchedule(cron('61', '*'))).toBe('Crontab 61 * * * *');
  });
});
