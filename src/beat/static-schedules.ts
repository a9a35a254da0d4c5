// Schedules declared in seler.config.json (`beatSchedule`, in the spirit of Celery's CELERY_BEAT_SCHEDULE)
// and in code (builtins), and their validation; config-sync.ts writes them into the database when beat starts.
import { ConfigError } from '../platform/errors.js';
import { FIELD_DEFAULTS, crossFieldErrors, parseTaskInput, type TaskFields } from './model.js';

/** Periodic tasks seler itself declares; an operator may disable or change them (overrides), not delete them. */
export const BUILTIN_SCHEDULES: Record<string, Record<string, unknown>> = {
  'thumbnails.cleanup': {
    task: 'thumbnails.cleanup',
    schedule: { interval: { every: 1, period: 'hours' } },
    description: 'Removes uploads and archives older than the retention (SELER_MEDIA_TTL, 24 h by default).',
  },
};

/**
 * Celery's spellings, accepted besides ours: `schedule` as a number of seconds, and
 * `options: {queue, priority, expires}` where a numeric `expires` is seconds (our expireSeconds).
 */
function fromCeleryStyle(entry: unknown): unknown {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const { options, ...rest } = entry as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (typeof out.schedule === 'number') out.schedule = { interval: { every: out.schedule, period: 'seconds' } };
  if (options && typeof options === 'object' && !Array.isArray(options)) {
    const { expires, ...opts } = options as Record<string, unknown>;
    for (const [k, v] of Object.entries(opts)) out[k] ??= v;
    if (typeof expires === 'number') out.expireSeconds ??= expires;
    else if (expires !== undefined) out.expires ??= expires;
  } else if (options !== undefined) {
    out.options = options; // reported as an unknown field
  }
  return out;
}

/** Validates one declared entry; throws ConfigError naming the entry and each bad field. */
export function parseDeclaredEntry(name: string, entry: unknown, timezone: string, where = 'beatSchedule'): TaskFields {
  const fail = (errors: Record<string, string>) => {
    const detail = Object.entries(errors)
      .map(([path, message]) => (path && path !== '_' ? `${path}: ${message}` : message))
      .join('; ');
    throw new ConfigError(`${where}.${name}: ${detail}`);
  };
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) fail({ _: 'must be an object such as {"task": "demo.add", "schedule": {"interval": {"every": 10, "period": "seconds"}}}' });
  const parsed = parseTaskInput(fromCeleryStyle(entry), timezone);
  if (!parsed.ok) return fail(parsed.errors);
  const { name: _ignored, ...given } = parsed.value;
  const missing: Record<string, string> = {};
  if (!given.task) missing.task = 'task is required';
  if (!given.schedule) missing.schedule = 'schedule is required (one of interval, crontab, solar, clocked)';
  if (Object.keys(missing).length) fail(missing);
  const fields = { ...FIELD_DEFAULTS, ...given } as TaskFields;
  const cross = crossFieldErrors(fields);
  if (Object.keys(cross).length) fail(cross);
  return fields;
}
