// A periodic task: its fields, their validation (form-friendly errors by field path), and when it is next due.
import { z } from 'zod';
import { fieldProblems } from '../platform/api-shapes.js';
import { MAX_JSON_DEPTH, valueDepth } from '../platform/input-limits.js';
import { getTaskDefinition } from '../tasks/index.js';
import { beatError } from './errors.js';
import { MISSED_RUN_POLICIES, OVERLAP_POLICIES, type ManagedField, type PeriodicTask, type TaskFields } from './contract.js';
import { nextRun, scheduleKind, scheduleSchema } from './schedules/index.js';

export {
  MISSED_RUN_POLICIES,
  OVERLAP_POLICIES,
  RUN_TRIGGERS,
  TASK_SOURCES,
  type ManagedField,
  type MissedRunPolicy,
  type OverlapPolicy,
  type PeriodicTask,
  type RunTrigger,
  type TaskFields,
  type TaskSource,
} from './contract.js';

export const MANAGED_FIELDS: ManagedField[] = [
  'task', 'schedule', 'args', 'kwargs', 'queue', 'priority', 'expires', 'expireSeconds',
  'oneOff', 'startTime', 'enabled', 'description', 'missedRunPolicy', 'overlapPolicy',
];
export const FIELD_DEFAULTS: Omit<TaskFields, 'task' | 'schedule'> = {
  args: [], kwargs: {}, queue: null, priority: null, expires: null, expireSeconds: null, oneOff: false,
  startTime: null, enabled: true, description: '', missedRunPolicy: 'once', overlapPolicy: 'allow',
};

/** What the scheduler works with: the same task with instants in epoch ms. */
export interface PeriodicTaskRecord extends Omit<PeriodicTask, 'lastRunAt' | 'nextRunAt' | 'dateCreated' | 'dateChanged' | 'fieldSources' | 'taskRegistered'> {
  overridden: ManagedField[];
  lastRunAt: number | null;
  nextRunAt: number | null;
  dateCreated: number;
  dateChanged: number;
}

export interface PeriodicTaskInput extends Partial<TaskFields> {
  name?: string;
}

const TASK_NAME = /^[A-Za-z_][\w.:-]{0,199}$/;
const QUEUE_NAME = /^[\w.-]{1,100}$/;

/** Forms send JSON fields as text. */
const jsonText = (v: unknown) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

/** Arguments are stored and sent as JSON: a bounded depth keeps every JSON.stringify of them safe. */
const shallow = (v: unknown) => valueDepth(v, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH;
const TOO_DEEP = (field: string) => `${field} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`;

const isoMoment = (label: string) =>
  z.iso
    .datetime({
      offset: true,
      error: (issue) =>
        typeof issue.input === 'string' ? `${label} must be an ISO 8601 date and time with a zone, e.g. 2026-12-01T10:00:00Z` : `${label} must be a date and time`,
    })
    .transform((s) => new Date(s).toISOString());

/** A field's type error, or "is required" when it is missing (a new task's name and task). */
const expected = (field: string, what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required` : `${field} must be ${what}`;

/** A crontab without a zone gets the installation's (SELER_TIMEZONE), not UTC. */
export const withDefaultZone = (timezone: string) => (v: unknown) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const crontab = (v as { crontab?: unknown }).crontab;
  if (!crontab || typeof crontab !== 'object' || Array.isArray(crontab)) return v;
  const c = crontab as Record<string, unknown>;
  return c.timezone === undefined || c.timezone === null || c.timezone === '' ? { ...v, crontab: { ...c, timezone } } : v;
};

function fieldShape(timezone: string) {
  return {
    name: z.string({ error: expected('name', 'a string') }).trim().min(1, 'name is required').max(200, 'name is too long (at most 200 characters)'),
    task: z
      .string({ error: expected('task', 'a string') })
      .trim()
      .regex(TASK_NAME, 'task must be a task name such as "thumbnails.cleanup" (letters, digits, "_", ".", ":", "-")'),
    schedule: z.preprocess(withDefaultZone(timezone), scheduleSchema),
    args: z.preprocess(jsonText, z.array(z.unknown(), { error: 'args must be a JSON array' }).refine(shallow, TOO_DEEP('args'))),
    kwargs: z.preprocess(jsonText, z.record(z.string(), z.unknown(), { error: 'kwargs must be a JSON object' }).refine(shallow, TOO_DEEP('kwargs'))),
    queue: z.string({ error: 'queue must be a string' }).regex(QUEUE_NAME, 'queue may contain letters, digits, "_", "." and "-"').nullable(),
    priority: z
      .number({ error: 'priority must be a number' })
      .int('priority must be a whole number')
      .min(0, 'priority must be between 0 and 2097152')
      .max(2_097_152, 'priority must be between 0 and 2097152')
      .nullable(),
    expires: isoMoment('expires').nullable(),
    expireSeconds: z.number({ error: 'expireSeconds must be a number' }).int('expireSeconds must be a whole number').positive('expireSeconds must be greater than 0').nullable(),
    oneOff: z.boolean({ error: 'oneOff must be true or false' }),
    startTime: isoMoment('startTime').nullable(),
    enabled: z.boolean({ error: 'enabled must be true or false' }),
    description: z.string({ error: 'description must be a string' }).max(2000, 'description is too long (at most 2000 characters)'),
    missedRunPolicy: z.enum(MISSED_RUN_POLICIES, { error: `missedRunPolicy must be one of ${MISSED_RUN_POLICIES.join(', ')}` }),
    overlapPolicy: z.enum(OVERLAP_POLICIES, { error: `overlapPolicy must be one of ${OVERLAP_POLICIES.join(', ')}` }),
  };
}

export type TaskFieldShape = ReturnType<typeof fieldShape>;
export const NOT_AN_OBJECT = 'a periodic task must be a JSON object';

const shapes = new Map<string, TaskFieldShape>();
/**
 * The fields of a periodic task's input, each with its rule and its sentence: the model's own check, and
 * the body of the periodic-task API (a crontab without a zone gets `timezone`).
 */
export function taskFieldShape(timezone: string): TaskFieldShape {
  let shape = shapes.get(timezone);
  if (!shape) shapes.set(timezone, (shape = fieldShape(timezone)));
  return shape;
}

const schemas = new Map<string, z.ZodType<PeriodicTaskInput>>();
function inputSchema(timezone: string): z.ZodType<PeriodicTaskInput> {
  let s = schemas.get(timezone);
  if (!s) {
    s = z.object(taskFieldShape(timezone), { error: NOT_AN_OBJECT }).partial().strict() as unknown as z.ZodType<PeriodicTaskInput>;
    schemas.set(timezone, s);
  }
  return s;
}

export type FieldErrors = Record<string, string>;

/** Validates a partial input; every error is keyed by its field path ("schedule.crontab.minute"). */
export function parseTaskInput(input: unknown, timezone: string): { ok: true; value: PeriodicTaskInput } | { ok: false; errors: FieldErrors } {
  const r = inputSchema(timezone).safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: fieldProblems(r.error.issues) };
}

/** Rules across fields, on the complete task. */
export function crossFieldErrors(fields: TaskFields): FieldErrors {
  const errors: FieldErrors = {};
  if (fields.expires !== null && fields.expireSeconds !== null) errors.expireSeconds = 'set expires or expireSeconds, not both';
  return errors;
}

export function invalid(errors: FieldErrors): never {
  throw beatError.invalid_periodic_task(Object.keys(errors).length ? errors : { _: 'invalid periodic task' });
}

/** Stable JSON (sorted keys) to compare values. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export const sameValue = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/**
 * The first due time strictly after `after` (epoch ms), or null: disabled, finished, or past `expires`.
 * Nothing is due before startTime; intervals are anchored at startTime, else aligned to the Unix epoch.
 */
export function computeNextRun(fields: Pick<TaskFields, 'schedule' | 'startTime' | 'expires' | 'enabled'>, after: number): number | null {
  if (!fields.enabled) return null;
  const start = fields.startTime ? Date.parse(fields.startTime) : null;
  const from = start !== null && start - 1 > after ? start - 1 : after;
  const next = nextRun(fields.schedule, new Date(from), start !== null ? new Date(start) : undefined);
  if (!next) return null;
  if (fields.expires && next.getTime() > Date.parse(fields.expires)) return null;
  return next.getTime();
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toView(r: PeriodicTaskRecord): PeriodicTask {
  const { overridden, ...rest } = r;
  let fieldSources: PeriodicTask['fieldSources'] = null;
  if (r.source !== 'admin') {
    const origin = r.source;
    fieldSources = Object.fromEntries(MANAGED_FIELDS.map((f) => [f, overridden.includes(f) ? 'admin' : origin])) as PeriodicTask['fieldSources'];
  }
  return {
    ...rest,
    scheduleKind: scheduleKind(r.schedule),
    fieldSources,
    taskRegistered: getTaskDefinition(r.task) !== undefined,
    lastRunAt: iso(r.lastRunAt),
    nextRunAt: iso(r.nextRunAt),
    dateCreated: iso(r.dateCreated)!,
    dateChanged: iso(r.dateChanged)!,
  };
}

export function pickFields(source: TaskFields | PeriodicTaskRecord): TaskFields {
  return Object.fromEntries(MANAGED_FIELDS.map((f) => [f, source[f]])) as unknown as TaskFields;
}
