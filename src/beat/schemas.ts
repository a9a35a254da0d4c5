// The periodic-task and schedule API's shapes in zod: Fastify validates requests and serializes
// responses with them, and /docs is generated from them. Request bodies reuse the beat model's field
// rules (model.ts), so a bad field gets the same sentence from the API as from the model; responses
// list what the API sends (a property missing here is dropped from the response).
import { z } from 'zod';
import { MAX_ID, dateTime, guardFirst, invalidFieldsAs, invalidResponse, pageQueryShape, queryFlag, type FieldProblems } from '../platform/api-shapes.js';
import type { BeatGuard, BeatPermission } from './access.js';
import { MISSED_RUN_POLICIES, OVERLAP_POLICIES, RUN_TRIGGERS, TASK_SOURCES } from './contract.js';
import { beatError } from './errors.js';
import { MANAGED_FIELDS, NOT_AN_OBJECT, taskFieldShape, type TaskFieldShape } from './model.js';
import { INTERVAL_PERIODS, SCHEDULE_KINDS, SOLAR_EVENTS } from './schedules/index.js';

export { guardedErrors as errors, idParams, pageOf } from '../platform/api-shapes.js';

export const PERIODIC_TAGS = ['periodic tasks'];
export const SCHEDULE_TAGS = ['schedules'];

/**
 * The options of a guarded beat route: the guard before any part of the request is validated (a caller
 * without the permission learns nothing about the input; the handler asks the guard again for the actor,
 * which answers from the first call), and bad input as beat's 400s naming each field: a bad body with
 * the route's own code (`invalidBody`), a bad `:id` with invalid_request, a bad query value with invalid_query.
 */
export function guardedRoute(guard: BeatGuard, perm: BeatPermission | null, invalidBody: (fields: FieldProblems) => Error = beatError.invalid_periodic_task) {
  return {
    ...guardFirst(guard, perm),
    ...invalidFieldsAs((fields, part) =>
      part === 'params' ? beatError.invalid_request(fields) : part === 'querystring' ? beatError.invalid_query(fields) : invalidBody(fields),
    ),
  };
}

/** The problems of a list's items (`ids.3`) said once for the list (`ids`), as a form shows them. */
export function asListProblem(fields: FieldProblems, list: string, sentence: string): FieldProblems {
  const out: FieldProblems = {};
  for (const [field, problem] of Object.entries(fields)) {
    if (field.startsWith(`${list}.`)) out[list] = sentence;
    else out[field] = problem;
  }
  return out;
}

// ── the schedule, as the API sends it ────────────────────────────────────────

const SCHEDULE_DOC =
  'Exactly one of {interval:{every,period}} (period seconds|minutes|hours|days), ' +
  '{crontab:{minute,hour,dayOfWeek,dayOfMonth,monthOfYear,timezone}} (Celery day rules: day of month AND day of week; ' +
  'fields default to "*", timezone to SELER_TIMEZONE), {solar:{event,latitude,longitude}}, {clocked:{at}} (ISO instant).';

const cronField = z.string();
export const scheduleView = z
  .union([
    z.object({ interval: z.object({ every: z.number().int(), period: z.enum(INTERVAL_PERIODS) }) }),
    z.object({
      crontab: z.object({ minute: cronField, hour: cronField, dayOfWeek: cronField, dayOfMonth: cronField, monthOfYear: cronField, timezone: z.string() }),
    }),
    z.object({ solar: z.object({ event: z.enum(SOLAR_EVENTS), latitude: z.number(), longitude: z.number() }) }),
    z.object({ clocked: z.object({ at: dateTime }) }),
  ])
  .describe(SCHEDULE_DOC);

// ── a periodic task ──────────────────────────────────────────────────────────

/** What the documentation says of each field, in the request bodies and the responses alike. */
const FIELD_DOCS: Record<string, string> = {
  name: 'Unique; a declared task’s name cannot change',
  task: 'The task name, e.g. "demo.add"',
  schedule: SCHEDULE_DOC,
  args: 'Positional arguments (a JSON array, or its text)',
  kwargs: 'Keyword arguments (a JSON object, or its text)',
  queue: 'Null: the task’s default queue',
  expires: 'After this instant the task no longer runs',
  expireSeconds: 'A run not started this many seconds after being enqueued is discarded (not with expires)',
  oneOff: 'Run once, then disable',
  startTime: 'Nothing runs before it; intervals are anchored on it',
  missedRunPolicy: 'When every beat was down: skip, once (default) or all missed runs',
  overlapPolicy: 'skip: do not enqueue while the previous run is still queued or running',
};

function documented<Shape extends Record<string, z.ZodType>>(shape: Shape): Shape {
  return Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, FIELD_DOCS[key] ? schema.describe(FIELD_DOCS[key]) : schema])) as Shape;
}

const taskFieldsView = documented({
  task: z.string(),
  schedule: scheduleView,
  args: z.array(z.unknown()),
  kwargs: z.record(z.string(), z.unknown()),
  queue: z.string().nullable(),
  priority: z.number().int().nullable(),
  expires: dateTime.nullable(),
  expireSeconds: z.number().int().nullable(),
  oneOff: z.boolean(),
  startTime: dateTime.nullable(),
  enabled: z.boolean(),
  description: z.string(),
  missedRunPolicy: z.enum(MISSED_RUN_POLICIES),
  overlapPolicy: z.enum(OVERLAP_POLICIES),
});

export const periodicTaskView = z
  .object({
    id: z.number().int(),
    name: z.string(),
    ...taskFieldsView,
    scheduleKind: z.enum(SCHEDULE_KINDS),
    scheduleDescription: z.string().describe('The schedule in words, e.g. "At 07:30, only on Monday through Friday (Europe/Warsaw)"'),
    taskRegistered: z.boolean().describe('False for a custom task name no module of the web process defines'),
    source: z.enum(TASK_SOURCES).describe('admin: made in the admin; config: seler.config.json; builtin: declared by seler'),
    fieldSources: z
      .record(z.string(), z.enum(TASK_SOURCES))
      .nullable()
      .describe('Config and builtin tasks: where each field’s value comes from ("admin" = overridden). Null for admin tasks.'),
    // Partial: a declaration stored by an older version may lack a field added since.
    declared: z.object(taskFieldsView).partial().nullable().describe('Config and builtin tasks: the declared values (POST …/reset returns to them)'),
    lastRunAt: dateTime.nullable(),
    totalRunCount: z.number().int(),
    lastTaskId: z.string().nullable(),
    nextRunAt: dateTime.nullable().describe('Null when disabled or finished'),
    dateCreated: dateTime,
    dateChanged: dateTime,
  })
  .describe('A periodic task (DESIGN.md contract)');

const customTask = z
  .boolean({ error: 'customTask must be true or false' })
  .describe('Allow a task name no module of the web process defines (a task only some workers load). Not stored.');

/** A change (PATCH): any of the task's fields, checked by the model's rules; crontabs without a zone get `timezone`. */
export function periodicTaskPatchBody(timezone: string) {
  return z.object({ ...documented(taskFieldShape(timezone)), customTask }, { error: NOT_AN_OBJECT }).partial().strict();
}

const OPTIONAL_ON_CREATE = Object.fromEntries(
  ([...MANAGED_FIELDS, 'customTask'] as const).filter((f) => f !== 'task' && f !== 'schedule').map((f) => [f, true]),
) as { [K in Exclude<keyof TaskFieldShape | 'customTask', 'name' | 'task' | 'schedule'>]: true };

/** A new task (POST): name, task and schedule required, the rest as on a change. */
export function periodicTaskCreateBody(timezone: string) {
  return z.object({ ...documented(taskFieldShape(timezone)), customTask }, { error: NOT_AN_OBJECT }).partial(OPTIONAL_ON_CREATE).strict();
}

export const SORT_FIELDS = ['id', 'name', 'task', 'enabled', 'lastRunAt', 'nextRunAt', 'totalRunCount', 'dateChanged'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
const SORTS = [...SORT_FIELDS, ...SORT_FIELDS.map((f) => `-${f}` as const)];

export const periodicTaskListQuery = z.object({
  ...pageQueryShape,
  search: z.string().max(200).optional().describe('Contained in the name, task or description (case-insensitive)'),
  enabled: queryFlag.optional(),
  scheduleKind: z.enum(SCHEDULE_KINDS).optional(),
  task: z.string().max(200).optional().describe('Exactly this task name'),
  source: z.enum(TASK_SOURCES).optional(),
  queue: z
    .string()
    .max(100)
    .optional()
    .describe('Tasks whose queue is set to this (tasks with queue null use their task’s default queue and do not match)'),
  sort: z.enum(SORTS).default('name').describe('"-" first for descending; nulls last; ties by id'),
});

export const pageQuery = z.object(pageQueryShape);

export const runView = z.object({
  id: z.number().int(),
  periodicTaskId: z.number().int(),
  taskId: z.string().nullable().describe('The id in the broker; null when nothing was enqueued (skipped, expired)'),
  scheduledFor: dateTime,
  trigger: z.enum(RUN_TRIGGERS),
  status: z
    .string()
    .describe('A Celery state (PENDING…SUCCESS, FAILURE, REVOKED) while the result is kept; otherwise claimed, enqueued (result expired), skipped, expired or failed'),
  claimedAt: dateTime,
  enqueuedAt: dateTime.nullable(),
  startedAt: dateTime.nullable(),
  finishedAt: dateTime.nullable(),
  duration: z.number().nullable().describe('finishedAt − startedAt in seconds'),
  note: z.string().nullable(),
  url: z.string().nullable().describe('/api/v1/tasks/<taskId>'),
});

export const deletedView = z.object({
  id: z.number().int(),
  name: z.string(),
  source: z.enum(TASK_SOURCES),
  deleted: z.boolean(),
  restoredOnBeatStart: z.boolean().describe('True for a config task: the next beat start re-creates it unless it is removed from seler.config.json'),
  message: z.string().nullable(),
});

export const ranView = z.object({ taskId: z.string(), url: z.string().describe('/api/v1/tasks/<taskId>') });

export const BULK_IDS_RULE = 'ids must be a list of 1 to 1000 periodic task ids';
const bulkId = z.number({ error: BULK_IDS_RULE }).int(BULK_IDS_RULE).min(1, BULK_IDS_RULE).max(MAX_ID, BULK_IDS_RULE);

export const bulkBody = z
  .object(
    {
      ids: z.array(bulkId, { error: BULK_IDS_RULE }).min(1, BULK_IDS_RULE).max(1000, BULK_IDS_RULE),
      action: z
        .enum(['enable', 'disable', 'delete'], { error: 'action must be one of enable, disable, delete' })
        .describe('enable/disable need change_periodictask, delete needs delete_periodictask'),
    },
    { error: 'send {"ids": [...], "action": "enable" | "disable" | "delete"}' },
  )
  .strict();

export const bulkResult = z.object({
  action: z.enum(['enable', 'disable', 'delete']),
  changed: z.array(z.number().int()).describe('Enabled, disabled or deleted by this call'),
  unchanged: z.array(z.number().int()).describe('Already in that state'),
  notFound: z.array(z.number().int()),
  refused: z.array(z.object({ id: z.number().int(), message: z.string() })).describe('Builtin tasks cannot be deleted'),
  restoredOnBeatStart: z.array(z.number().int()).describe('Deleted config tasks that the next beat start re-creates'),
});

export const RESET_FIELDS_RULE = `fields must be a list of: ${MANAGED_FIELDS.join(', ')}`;
/** No body is an empty one: every overridden field. */
export const resetBody = z.preprocess(
  (body) => body ?? {},
  z
    .object(
      {
        fields: z
          .array(z.enum(MANAGED_FIELDS, { error: RESET_FIELDS_RULE }), { error: RESET_FIELDS_RULE })
          .optional()
          .describe('Only these fields (default: every overridden field)'),
      },
      { error: 'the body may only be {"fields": [...]}' },
    )
    .strict()
    .describe('May be left out: every overridden field'),
);

// ── the schedule routes ──────────────────────────────────────────────────────

/** The schedule preview's body: the task's own rules for `schedule` and `startTime`. */
export function previewBody(timezone: string) {
  const { schedule, startTime } = documented(taskFieldShape(timezone));
  return z.object({ schedule, startTime: startTime.optional() }, { error: 'send {"schedule": {...}, "startTime"?: "…"}' }).strict();
}

export const previewQuery = z.object({
  errors: z
    .literal('inline', { error: 'errors must be "inline" when given' })
    .optional()
    .describe('inline: a schedule that is not valid is a 200 whose `invalid` holds the 400 it would have been'),
});

const previewed = z.object({
  schedule: scheduleView.describe('The schedule as it would be stored (normalized)'),
  kind: z.enum(SCHEDULE_KINDS),
  description: z.string(),
  timezone: z.string().describe('The crontab’s zone; SELER_TIMEZONE for the other kinds'),
  next: z
    .array(
      z.object({
        at: dateTime.describe('UTC, e.g. 2026-03-30T05:30:00.000Z'),
        local: z.string().describe('The same instant in `timezone` with its offset, e.g. 2026-03-30T07:30:00.000+02:00'),
        timezone: z.string(),
      }),
    )
    .describe('The next (up to) five due times from now (fewer for a clocked or polar solar schedule)'),
});

export const previewView = z.union([
  previewed,
  z
    .object({ invalid: invalidResponse.shape.error })
    .describe('Only with ?errors=inline, for a schedule that is not valid: what a 400 would have said'),
]);

export const scheduleListQuery = z.object({
  ...pageQueryShape,
  kind: z.enum(SCHEDULE_KINDS, { error: `kind must be one of ${SCHEDULE_KINDS.join(', ')}` }),
  search: z.string().max(200).optional().describe('In the description, the schedule’s values or the names of the tasks using it'),
  enabled: queryFlag.optional().describe('true: used by at least one enabled task; false: used only by disabled tasks'),
  sort: z
    .enum(['schedule', '-schedule', 'taskCount', '-taskCount'])
    .default('schedule')
    .describe('schedule: the natural order (intervals by length, clocked by instant, others by description); - for descending'),
});

export const scheduleUsageView = z.object({
  key: z.string().describe('Stable identifier of this distinct schedule'),
  kind: z.enum(SCHEDULE_KINDS),
  schedule: scheduleView,
  description: z.string(),
  taskCount: z.number().int(),
  tasks: z.array(z.object({ id: z.number().int(), name: z.string(), enabled: z.boolean() })),
});

const jsonSchemaDoc = z.record(z.string(), z.unknown()).nullable();
export const registeredTaskView = z.object({
  name: z.string(),
  queue: z.string().describe('Its default queue'),
  description: z.string(),
  maxAttempts: z.number().int(),
  argsSchema: jsonSchemaDoc.describe('JSON Schema (2020-12) of the positional arguments, or null'),
  kwargsSchema: jsonSchemaDoc.describe('JSON Schema (2020-12) of the keyword arguments, or null'),
});
