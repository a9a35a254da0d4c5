// Schedules in words, in the style of crontab.guru / cronstrue ("At minute 0 past every 2nd hour, Monday through Friday").
import { DAY_NAMES, FIELD_RANGES, MONTH_NAMES, normalizeField, parseField, type FieldName, type FieldPart } from './fields.js';
import type { CrontabSpec, Schedule, SolarEvent } from './types.js';

const SOLAR_WORDS: Record<SolarEvent, string> = {
  sunrise: 'sunrise',
  sunset: 'sunset',
  solar_noon: 'solar noon',
  dawn_civil: 'civil dawn',
  dawn_nautical: 'nautical dawn',
  dawn_astronomical: 'astronomical dawn',
  dusk_civil: 'civil dusk',
  dusk_nautical: 'nautical dusk',
  dusk_astronomical: 'astronomical dusk',
};

const pad = (n: number) => String(n).padStart(2, '0');
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function join(items: string[], word = 'and'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

function label(field: FieldName, v: number): string {
  if (field === 'dayOfWeek') return cap(DAY_NAMES[v % 7]!);
  if (field === 'monthOfYear') return cap(MONTH_NAMES[v - 1]!);
  return String(v);
}

const isStar = (parts: FieldPart[]) => parts.length === 1 && parts[0]!.start === '*' && (parts[0]!.step ?? 1) === 1;
const isPlain = (parts: FieldPart[]) => parts.every((p) => p.start !== '*' && p.end === undefined && p.step === undefined);
const values = (parts: FieldPart[]) => parts.map((p) => p.start as number);

/** "5", "1 through 5", "every 2nd from 10 through 40". */
function item(field: FieldName, p: FieldPart): string {
  const from = p.start === '*' ? FIELD_RANGES[field].min : p.start;
  const to = p.end ?? (p.start === '*' || p.step !== undefined ? FIELD_RANGES[field].max : undefined);
  if (p.step !== undefined) {
    return p.start === '*' ? `every ${ordinal(p.step)}` : `every ${ordinal(p.step)} from ${label(field, from)} through ${label(field, to!)}`;
  }
  return to === undefined ? label(field, from) : `${label(field, from)} through ${label(field, to)}`;
}

/** "minute 5", "every 15th minute", "every hour from 9 through 17", "minute 0 and 30". */
function unitPhrase(field: FieldName, unit: string, parts: FieldPart[]): string {
  if (parts.length === 1) {
    const p = parts[0]!;
    if (p.step !== undefined || p.end !== undefined) {
      const every = p.step && p.step > 1 ? `every ${ordinal(p.step)} ${unit}` : `every ${unit}`;
      return p.start === '*' ? every : `${every} from ${item(field, { start: p.start, end: p.end ?? FIELD_RANGES[field].max })}`;
    }
  }
  return `${unit} ${join(parts.map((p) => item(field, p)))}`;
}

function timePhrase(minute: FieldPart[], hour: FieldPart[]): { text: string; specific: boolean } {
  if (isPlain(minute) && isPlain(hour) && minute.length * hour.length <= 8) {
    const times = values(hour).flatMap((h) => values(minute).map((m) => h * 60 + m));
    const sorted = [...new Set(times)].sort((a, b) => a - b).map((t) => `${pad(Math.floor(t / 60))}:${pad(t % 60)}`);
    return { text: `At ${join(sorted)}`, specific: true };
  }
  if (isStar(hour)) {
    if (isStar(minute)) return { text: 'Every minute', specific: false };
    const m = minute[0]!;
    if (minute.length === 1 && m.start === '*' && m.step) return { text: `Every ${m.step} minutes`, specific: false };
  }
  const m = isStar(minute) ? 'every minute' : unitPhrase('minute', 'minute', minute);
  const h = isStar(hour) ? 'every hour' : unitPhrase('hour', 'hour', hour);
  return { text: `At ${m} past ${h}`, specific: false };
}

function dayOfMonthPhrase(parts: FieldPart[]): string {
  const p = parts[0]!;
  if (parts.length === 1 && p.start === '*') return `every ${ordinal(p.step!)} day of the month`;
  const single = parts.length === 1 && p.end === undefined && p.step === undefined;
  return `on ${single ? 'day' : 'days'} ${join(parts.map((x) => item('dayOfMonth', x)))} of the month`;
}

function namedPhrase(field: 'dayOfWeek' | 'monthOfYear', parts: FieldPart[], withDays: boolean): string {
  const p = parts[0]!;
  const unit = field === 'dayOfWeek' ? 'day of the week' : 'month';
  if (parts.length === 1 && p.start === '*') return `every ${ordinal(p.step!)} ${unit}`;
  const items = parts.map((x) => item(field, x));
  if (field === 'dayOfWeek' && withDays) {
    return isPlain(parts) ? `if it is a ${join(items, 'or')}` : `if it is ${join(items, 'or')}`;
  }
  if (parts.length === 1 && p.end !== undefined && p.step === undefined) return items[0]!;
  return `${field === 'dayOfWeek' ? 'only on' : 'only in'} ${join(items)}`;
}

export function describeCrontab(spec: CrontabSpec): string {
  const parsed = {} as Record<FieldName, FieldPart[]>;
  for (const f of ['minute', 'hour', 'dayOfMonth', 'monthOfYear', 'dayOfWeek'] as const) {
    const r = parseField(f, normalizeField(spec[f]));
    if (typeof r === 'string') return `Crontab ${spec.minute} ${spec.hour} ${spec.dayOfMonth} ${spec.monthOfYear} ${spec.dayOfWeek}`;
    parsed[f] = r;
  }
  const time = timePhrase(parsed.minute, parsed.hour);
  const days: string[] = [];
  const domSet = !isStar(parsed.dayOfMonth);
  if (domSet) days.push(dayOfMonthPhrase(parsed.dayOfMonth));
  if (!isStar(parsed.dayOfWeek)) days.push(namedPhrase('dayOfWeek', parsed.dayOfWeek, domSet));
  if (!isStar(parsed.monthOfYear)) days.push(namedPhrase('monthOfYear', parsed.monthOfYear, false));
  if (!days.length && time.specific) days.push('every day');
  const zone = spec.timezone && spec.timezone !== 'UTC' ? ` (${spec.timezone})` : '';
  return [time.text, ...days].join(', ') + zone;
}

function formatUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = d.toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, d.getUTCSeconds() ? 19 : 16)} UTC`;
}

const coordinate = (n: number) => n.toFixed(2);

export function describeSchedule(schedule: Schedule): string {
  if ('interval' in schedule) {
    const { every, period } = schedule.interval;
    return every === 1 ? `Every ${period.slice(0, -1)}` : `Every ${every} ${period}`;
  }
  if ('crontab' in schedule) return describeCrontab(schedule.crontab);
  if ('solar' in schedule) {
    const { event, latitude, longitude } = schedule.solar;
    return `At ${SOLAR_WORDS[event]} at ${coordinate(latitude)}, ${coordinate(longitude)}`;
  }
  return `Once at ${formatUtc(schedule.clocked.at)}`;
}
