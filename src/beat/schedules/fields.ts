// The crontab field syntax we accept (Celery's): `*`, numbers, names (mon, jan; full names too),
// lists `1,15`, ranges `1-5`, steps `*/15`, `10-40/5`, `5/15`. cron-parser's extras (L, #, H, ?) are
// refused so every accepted schedule can be described in words and means the same as in Celery.

export type FieldName = 'minute' | 'hour' | 'dayOfMonth' | 'monthOfYear' | 'dayOfWeek';

export interface FieldRange {
  min: number;
  max: number;
}

export const FIELD_RANGES: Record<FieldName, FieldRange> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfMonth: { min: 1, max: 31 },
  monthOfYear: { min: 1, max: 12 },
  dayOfWeek: { min: 0, max: 7 },
};

export const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
export const MONTH_NAMES = [
  'january', 'february', 'march', 'april', 'may', 'june',
  'july', 'august', 'september', 'october', 'november', 'december',
];

/** One comma-separated item: `*`, `n`, `a-b`, each with an optional `/step`. `end < start` wraps around (fri-mon, 22-2), as in Celery. */
export interface FieldPart {
  start: number | '*';
  end?: number;
  step?: number;
}

function nameValue(field: FieldName, word: string): number | undefined {
  const names = field === 'dayOfWeek' ? DAY_NAMES : field === 'monthOfYear' ? MONTH_NAMES : null;
  if (!names) return undefined;
  const i = names.findIndex((n) => n === word || (word.length === 3 && n.startsWith(word)) || (n === 'september' && word === 'sept'));
  if (i < 0) return undefined;
  return field === 'monthOfYear' ? i + 1 : i;
}

function value(field: FieldName, token: string): number | undefined {
  if (/^\d{1,2}$/.test(token)) return Number(token);
  return nameValue(field, token);
}

/** Lower-cases and strips spaces; an empty field means `*`. */
export function normalizeField(raw: string): string {
  const s = raw.replace(/\s+/g, '').toLowerCase();
  return s === '' ? '*' : s;
}

/** Parses a normalized field, or returns an error sentence. Range limits are checked here too. */
export function parseField(field: FieldName, text: string): FieldPart[] | string {
  const { min, max } = FIELD_RANGES[field];
  const parts: FieldPart[] = [];
  for (const item of text.split(',')) {
    const m = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return `"${item}" is not a value, range (1-5) or step (*/15)`;
    const [, a, b, s] = m;
    let start: number | '*' | undefined = a === '*' ? '*' : value(field, a!);
    if (start === undefined) return `"${a}" is not a valid ${LABELS[field]}`;
    if (start === '*' && b !== undefined) return `"${item}" is not valid`;
    const end = b === undefined ? undefined : value(field, b);
    if (b !== undefined && end === undefined) return `"${b}" is not a valid ${LABELS[field]}`;
    for (const v of [start, end]) {
      if (typeof v === 'number' && (v < min || v > max)) return `${v} is outside ${min}-${max}`;
    }
    if (field === 'dayOfWeek' && start === 7 && end !== undefined) start = 0; // sun-mon written 7-1
    const step = s === undefined ? undefined : Number(s);
    if (step === 0) return 'a step must be at least 1';
    if (typeof start === 'number' && end !== undefined && end < start && step !== undefined) {
      return `a wrap-around range (${a}-${b}) cannot have a step`;
    }
    parts.push({ start, ...(end !== undefined && { end }), ...(step !== undefined && { step }) });
  }
  return parts;
}

export const LABELS: Record<FieldName, string> = {
  minute: 'minute',
  hour: 'hour',
  dayOfMonth: 'day of month',
  monthOfYear: 'month',
  dayOfWeek: 'day of week',
};

/** The cron-parser spelling of a parsed field: names become numbers, wrap-around ranges are split in two. */
export function fieldToCron(field: FieldName, parts: FieldPart[]): string {
  const { min, max } = FIELD_RANGES[field];
  return parts
    .map((p) => {
      if (typeof p.start === 'number' && p.end !== undefined && p.end < p.start) {
        return `${p.start}-${field === 'dayOfWeek' ? 6 : max},${min}-${p.end}`;
      }
      return `${p.start}${p.end !== undefined ? `-${p.end}` : ''}${p.step !== undefined ? `/${p.step}` : ''}`;
    })
    .join(',');
}
