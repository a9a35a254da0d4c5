// JSON schemas of the periodic-task and schedule API (the documentation at /docs, and the response
// serializers: a property missing here is dropped from the response). Request bodies of these routes
// are validated by the beat model, which names each bad field; the body schemas here document them.
import type { FastifySchemaCompiler } from 'fastify';
import { dateTime, errors, idParams, invalidSchema, nullableDateTime, pageOf, pageQueryProps } from '../platform/json-api.js';
import { MISSED_RUN_POLICIES, OVERLAP_POLICIES, RUN_TRIGGERS, TASK_SOURCES } from './contract.js';
import { MANAGED_FIELDS } from './model.js';
import { SCHEDULE_KINDS } from './schedules/index.js';

/** Lets a body through untouched (the model validates it with field errors); a route using it checks its params by hand. */
export const passThrough: FastifySchemaCompiler<unknown> = () => (data: unknown) => ({ value: data });

export const PERIODIC_TAGS = ['periodic tasks'];
export const SCHEDULE_TAGS = ['schedules'];

const anyJson = {} as const;

export const SORT_FIELDS = ['id', 'name', 'task', 'enabled', 'lastRunAt', 'nextRunAt', 'totalRunCount', 'dateChanged'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export const scheduleJsonSchema = {
  type: 'object',
  additionalProperties: true,
  description:
    'Exactly one of {interval:{every,period}} (period seconds|minutes|hours|days), ' +
    '{crontab:{minute,hour,dayOfWeek,dayOfMonth,monthOfYear,timezone}} (Celery day rules: day of month AND day of week; ' +
    'fields default to "*", timezone to SELER_TIMEZONE), {solar:{event,latitude,longitude}}, {clocked:{at}} (ISO instant).',
} as const;

const taskFieldProps = {
  task: { type: 'string', description: 'The task name, e.g. "demo.add"' },
  schedule: scheduleJsonSchema,
  args: { type: 'array', items: anyJson, description: 'Positional arguments (a JSON array, or its text)' },
  kwargs: { type: 'object', additionalProperties: true, description: 'Keyword arguments (a JSON object, or its text)' },
  queue: { type: ['string', 'null'], description: 'Null: the task’s default queue' },
  priority: { type: ['integer', 'null'], minimum: 0, maximum: 2097152 },
  expires: { ...nullableDateTime, description: 'After this instant the task no longer runs' },
  expireSeconds: { type: ['integer', 'null'], minimum: 1, description: 'A run not started this many seconds after being enqueued is discarded (not with expires)' },
  oneOff: { type: 'boolean', description: 'Run once, then disable' },
  startTime: { ...nullableDateTime, description: 'Nothing runs before it; intervals are anchored on it' },
  enabled: { type: 'boolean' },
  description: { type: 'string', maxLength: 2000 },
  missedRunPolicy: { type: 'string', enum: [...MISSED_RUN_POLICIES], description: 'When every beat was down: skip, once (default) or all missed runs' },
  overlapPolicy: { type: 'string', enum: [...OVERLAP_POLICIES], description: 'skip: do not enqueue while the previous run is still queued or running' },
} as const;

export const periodicTaskSchema = {
  type: 'object',
  description: 'A periodic task (DESIGN.md contract)',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    ...taskFieldProps,
    scheduleKind: { type: 'string', enum: [...SCHEDULE_KINDS] },
    scheduleDescription: { type: 'string', description: 'The schedule in words, e.g. "At 07:30, only on Monday through Friday (Europe/Warsaw)"' },
    taskRegistered: { type: 'boolean', description: 'False for a custom task name no module of the web process defines' },
    source: { type: 'string', enum: [...TASK_SOURCES], description: 'admin: made in the admin; config: seler.config.json; builtin: declared by seler' },
    fieldSources: {
      type: ['object', 'null'],
      additionalProperties: { type: 'string', enum: ['admin', 'config', 'builtin'] },
      description: 'Config and builtin tasks: where each field’s value comes from ("admin" = overridden). Null for admin tasks.',
    },
    declared: { type: ['object', 'null'], additionalProperties: true, description: 'Config and builtin tasks: the declared values (POST …/reset returns to them)' },
    lastRunAt: nullableDateTime,
    totalRunCount: { type: 'integer' },
    lastTaskId: { type: ['string', 'null'] },
    nextRunAt: { ...nullableDateTime, description: 'Null when disabled or finished' },
    dateCreated: dateTime,
    dateChanged: dateTime,
  },
} as const;

export const periodicTaskWriteSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 200, description: 'Unique; a declared task’s name cannot change' },
    ...taskFieldProps,
    customTask: {
      type: 'boolean',
      description: 'Allow a task name no module of the web process defines (a task only some workers load). Not stored.',
    },
  },
} as const;

export const periodicTaskListQuery = {
  type: 'object',
  properties: {
    ...pageQueryProps,
    search: { type: 'string', maxLength: 200, description: 'Contained in the name, task or description (case-insensitive)' },
    enabled: { type: 'boolean' },
    scheduleKind: { type: 'string', enum: [...SCHEDULE_KINDS] },
    task: { type: 'string', maxLength: 200, description: 'Exactly this task name' },
    source: { type: 'string', enum: [...TASK_SOURCES] },
    queue: { type: 'string', maxLength: 100, description: 'Tasks whose queue is set to this (tasks with queue null use their task’s default queue and do not match)' },
    sort: { type: 'string', enum: [...SORT_FIELDS, ...SORT_FIELDS.map((f) => `-${f}`)], default: 'name', description: '"-" first for descending; nulls last; ties by id' },
  },
} as const;

export const runSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    periodicTaskId: { type: 'integer' },
    taskId: { type: ['string', 'null'], description: 'The id in the broker; null when nothing was enqueued (skipped, expired)' },
    scheduledFor: dateTime,
    trigger: { type: 'string', enum: [...RUN_TRIGGERS] },
    status: {
      type: 'string',
      description: 'A Celery state (PENDING…SUCCESS, FAILURE, REVOKED) while the result is kept; otherwise claimed, enqueued (result expired), skipped, expired or failed',
    },
    claimedAt: dateTime,
    enqueuedAt: nullableDateTime,
    startedAt: nullableDateTime,
    finishedAt: nullableDateTime,
    duration: { type: ['number', 'null'], description: 'finishedAt − startedAt in seconds' },
    note: { type: ['string', 'null'] },
    url: { type: ['string', 'null'], description: '/api/v1/tasks/<taskId>' },
  },
} as const;

export const deletedSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    source: { type: 'string', enum: [...TASK_SOURCES] },
    deleted: { type: 'boolean' },
    restoredOnBeatStart: { type: 'boolean', description: 'True for a config task: the next beat start re-creates it unless it is removed from seler.config.json' },
    message: { type: ['string', 'null'] },
  },
} as const;

export const bulkBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ids', 'action'],
  properties: {
    ids: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 1000 },
    action: { type: 'string', enum: ['enable', 'disable', 'delete'], description: 'enable/disable need change_periodictask, delete needs delete_periodictask' },
  },
} as const;

export const bulkResultSchema = {
  type: 'object',
  properties: {
    action: { type: 'string' },
    changed: { type: 'array', items: { type: 'integer' }, description: 'Enabled, disabled or deleted by this call' },
    unchanged: { type: 'array', items: { type: 'integer' }, description: 'Already in that state' },
    notFound: { type: 'array', items: { type: 'integer' } },
    refused: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, message: { type: 'string' } } }, description: 'Builtin tasks cannot be deleted' },
    restoredOnBeatStart: { type: 'array', items: { type: 'integer' }, description: 'Deleted config tasks that the next beat start re-creates' },
  },
} as const;

export const resetBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { fields: { type: 'array', items: { type: 'string', enum: [...MANAGED_FIELDS] }, description: 'Only these fields (default: every overridden field)' } },
} as const;

export const previewBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schedule'],
  properties: { schedule: scheduleJsonSchema, startTime: { ...nullableDateTime, description: 'As on the task: nothing before it; intervals anchored on it' } },
} as const;

export const previewSchema = {
  type: 'object',
  properties: {
    schedule: { ...scheduleJsonSchema, description: 'The schedule as it would be stored (normalized)' },
    kind: { type: 'string', enum: [...SCHEDULE_KINDS] },
    description: { type: 'string' },
    timezone: { type: 'string', description: 'The crontab’s zone; SELER_TIMEZONE for the other kinds' },
    invalid: {
      ...invalidSchema.properties.error,
      description: 'Only with ?errors=inline, for a schedule that is not valid (nothing else is set then): what a 400 would have said',
    },
    next: {
      type: 'array',
      description: 'The next (up to) five due times from now (fewer for a clocked or polar solar schedule)',
      items: {
        type: 'object',
        properties: {
          at: { ...dateTime, description: 'UTC, e.g. 2026-03-30T05:30:00.000Z' },
          local: { type: 'string', description: 'The same instant in `timezone` with its offset, e.g. 2026-03-30T07:30:00.000+02:00' },
          timezone: { type: 'string' },
        },
      },
    },
  },
} as const;

export const scheduleListQuery = {
  type: 'object',
  required: ['kind'],
  properties: {
    ...pageQueryProps,
    kind: { type: 'string', enum: [...SCHEDULE_KINDS] },
    search: { type: 'string', maxLength: 200, description: 'In the description, the schedule’s values or the names of the tasks using it' },
    enabled: { type: 'boolean', description: 'true: used by at least one enabled task; false: used only by disabled tasks' },
    sort: { type: 'string', enum: ['schedule', '-schedule', 'taskCount', '-taskCount'], description: 'schedule: the natural order (intervals by length, clocked by instant, others by description); - for descending' },
  },
} as const;

export const scheduleUsageSchema = {
  type: 'object',
  properties: {
    key: { type: 'string', description: 'Stable identifier of this distinct schedule' },
    kind: { type: 'string', enum: [...SCHEDULE_KINDS] },
    schedule: scheduleJsonSchema,
    description: { type: 'string' },
    taskCount: { type: 'integer' },
    tasks: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, enabled: { type: 'boolean' } } } },
  },
} as const;

export const registeredTaskSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    queue: { type: 'string', description: 'Its default queue' },
    description: { type: 'string' },
    maxAttempts: { type: 'integer' },
    argsSchema: { ...anyJson, description: 'JSON Schema (2020-12) of the positional arguments, or null' },
    kwargsSchema: { ...anyJson, description: 'JSON Schema (2020-12) of the keyword arguments, or null' },
  },
} as const;

export { errors, idParams, pageOf };
