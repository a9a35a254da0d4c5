// JSON schemas of the monitor API (validation, serialization, and the documentation at /docs).
import { errorSchema } from '../platform/http.js';
import { TASK_STATES } from './keys.js';
import { MAX_LIMIT, MAX_SCAN } from './store.js';

export const TAGS = ['monitor'];
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const state = { type: 'string', enum: [...TASK_STATES] } as const;
const ints = { type: 'array', items: num } as const;

export const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } as const;

export const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 200 } }, required: ['id'] } as const;
export const queueParams = { type: 'object', properties: { name: { type: 'string', maxLength: 100 } }, required: ['name'] } as const;

const counts = {
  type: 'object',
  properties: { sent: int, succeeded: int, failed: int, retried: int, revoked: int },
} as const;

export const overviewSchema = {
  type: 'object',
  description: 'The dashboard: task counts, per-minute series, runtime percentiles per task name, workers and queues in brief',
  properties: {
    generatedAt: dateTime,
    window: { type: 'object', properties: { minutes: int, from: dateTime, to: dateTime } },
    tasks: {
      type: 'object',
      description: 'Tasks in the index (retained ones), in total and per state',
      properties: { indexed: int, byState: { type: 'object', properties: Object.fromEntries(TASK_STATES.map((s) => [s, int])) } },
    },
    totals: {
      type: 'object',
      description: 'Events counted since the index began, cluster-wide: all task names, and per name',
      properties: { all: counts, byName: { type: 'array', items: { type: 'object', properties: { name: str, ...counts.properties } } } },
    },
    series: {
      type: 'object',
      description: 'Per minute, oldest first, the current (partial) minute last; `time` holds minute starts in Unix seconds',
      properties: { time: ints, sent: ints, succeeded: ints, failed: ints, retried: ints, revoked: ints },
    },
    runtimes: {
      type: 'array',
      description: 'Runtime of successful runs in the window, per task name (from histograms: within 19 %)',
      items: {
        type: 'object',
        properties: { name: str, count: int, meanMs: num, p50Ms: num, p90Ms: num, p95Ms: num, p99Ms: num, maxMs: num },
      },
    },
    workers: { type: 'object', properties: { online: int, gone: int } },
    queues: { type: 'object', properties: { count: int, waiting: int, active: int, delayed: int, prioritized: int, failed: int } },
  },
} as const;

export const workerSchema = {
  type: 'object',
  properties: {
    name: str,
    host: str,
    pid: int,
    queues: { type: 'array', items: str },
    concurrency: int,
    pool: str,
    status: { type: 'string', enum: ['online', 'gone'] },
    goneReason: { type: ['string', 'null'], description: 'stopped (shut down, removed its heartbeat) or lost (its heartbeat stopped); null while online' },
    goneAt: nullableDateTime,
    active: int,
    processed: int,
    failed: int,
    startedAt: dateTime,
    lastHeartbeat: dateTime,
    uptimeSeconds: int,
    memoryRss: { type: 'integer', description: 'bytes' },
  },
} as const;

export const workersSchema = {
  type: 'object',
  properties: { items: { type: 'array', items: workerSchema }, online: int, gone: int },
} as const;

export const queueSchema = {
  type: 'object',
  properties: {
    name: str,
    paused: bool,
    counts: {
      type: 'object',
      properties: { waiting: int, active: int, delayed: int, prioritized: int, completed: int, failed: int, waitingChildren: int },
    },
    oldestWaitingAgeMs: nullableInt,
    oldestWaitingSince: nullableDateTime,
    throughput: { type: 'object', properties: { lastMinute: int, perMinute: num, lastHour: int, series: ints } },
    workers: int,
  },
} as const;

export const queuesSchema = { type: 'object', properties: { items: { type: 'array', items: queueSchema } } } as const;

/** What a task row and a task's detail both start with. */
const taskIdentity = { id: str, name: str, queue: str, state } as const;

export const taskRowSchema = {
  type: 'object',
  properties: {
    ...taskIdentity,
    sentAt: dateTime,
    startedAt: nullableDateTime,
    finishedAt: nullableDateTime,
    runtimeMs: nullableNum,
    worker: nullableStr,
    attempt: nullableInt,
    retries: int,
    error: nullableStr,
    eta: nullableDateTime,
    argsPreview: str,
  },
} as const;

export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state,
    name: { type: 'string', maxLength: 200 },
    queue: { type: 'string', maxLength: 100 },
    from: { type: 'string', maxLength: 40, description: 'Enqueued at or after: ISO date-time or Unix ms' },
    to: { type: 'string', maxLength: 40, description: 'Enqueued at or before: ISO date-time or Unix ms' },
    q: { type: 'string', maxLength: 200, description: 'A task id (exact match), or text searched in task ids and in the first 300 characters of the arguments JSON (bounded: see `scan`)' },
    order: { type: 'string', enum: ['desc', 'asc'], default: 'desc', description: 'By enqueue time' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 },
    page: { type: 'integer', minimum: 1, maximum: 1_000_000, description: '1-based page (offset pagination); ignored with `cursor`' },
    cursor: { type: 'string', maxLength: 400, description: 'nextCursor of the previous page' },
    scan: { type: 'integer', minimum: 1, maximum: MAX_SCAN, default: 5000, description: 'Most index entries examined per request when combining filters or searching' },
  },
} as const;

export const listSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: taskRowSchema },
    total: { type: ['integer', 'null'], description: 'Exact number of matches; null when combining filters or searching' },
    page: nullableInt,
    limit: int,
    nextCursor: nullableStr,
    scan: {
      type: 'object',
      description: 'Present for bounded walks: `truncated` means the walk stopped after `limit` entries; more may match after nextCursor',
      properties: { examined: int, limit: int, truncated: bool },
    },
    exactId: bool,
  },
} as const;

const taskError = { type: 'object', properties: { code: str, message: str, traceback: str } } as const;

export const detailSchema = {
  type: 'object',
  properties: {
    ...taskIdentity,
    args: { type: 'array' },
    kwargs: { type: 'object', additionalProperties: true },
    result: {},
    error: taskError,
    progress: { type: 'object', additionalProperties: true },
    attempts: int,
    retries: int,
    worker: nullableStr,
    eta: nullableDateTime,
    runtimeMs: nullableNum,
    dateCreated: dateTime,
    dateStarted: nullableDateTime,
    dateDone: nullableDateTime,
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          event: { type: 'string', enum: ['sent', 'received', 'started', 'retried', 'succeeded', 'failed', 'revoked'] },
          at: dateTime,
          worker: str,
          message: str,
        },
      },
    },
    logs: { type: 'array', items: str, description: 'The task’s own log lines (ctx.log), oldest first, each "<ISO time> [LEVEL] text"; at most 200 per run, 1000 characters each' },
    actions: { type: 'object', properties: { revoke: bool, terminate: bool, retry: bool, promote: bool, runAgain: bool, delete: bool } },
  },
} as const;

export const runAgainSchema = {
  type: 'object',
  required: ['id', 'from'],
  properties: { id: { type: 'string', description: 'the new task' }, from: { type: 'string', description: 'the task it repeats' } },
} as const;

export const controlBody = {
  type: 'object',
  required: ['command'],
  properties: {
    command: { type: 'string', enum: ['concurrency', 'add-consumer', 'cancel-consumer', 'shutdown'] },
    value: { type: 'integer', minimum: 1, maximum: 1000, description: 'concurrency: the new number of tasks run at once' },
    queue: { type: 'string', maxLength: 100, description: 'add-consumer, cancel-consumer: the queue' },
  },
  examples: [{ command: 'concurrency', value: 8 }],
} as const;

export const controlReplySchema = {
  type: 'object',
  properties: {
    worker: str,
    ok: bool,
    queues: { type: 'array', items: str, description: 'the queues it consumes now' },
    concurrency: { type: 'integer' },
    changed: { ...bool, description: 'false when it already was so (nothing recorded)' },
  },
} as const;

export const pausedSchema = { type: 'object', properties: { queue: str, paused: bool, changed: bool } } as const;

export const taskNameParams = { type: 'object', required: ['task'], properties: { task: { type: 'string', maxLength: 200 } } } as const;

export const rateLimitBody = {
  type: 'object',
  required: ['rate'],
  properties: { rate: { type: 'string', maxLength: 20, description: '"10/s", "100/m", "1000/h", "5000/d", or "none" for no limit' } },
  examples: [{ rate: '10/m' }],
} as const;

export const rateLimitSchema = {
  type: 'object',
  properties: {
    task: str,
    declared: { type: ['string', 'null'], description: 'what the task declares (rateLimit in defineTask)' },
    override: { type: ['string', 'null'], description: 'set at run time; "none" lifts the declared limit' },
    effective: { type: ['string', 'null'], description: 'the limit in force; null: none' },
  },
} as const;

export const rateLimitsSchema = { type: 'object', properties: { items: { type: 'array', items: rateLimitSchema } } } as const;

export const filtersSchema = {
  type: 'object',
  properties: { states: { type: 'array', items: str }, names: { type: 'array', items: str }, queues: { type: 'array', items: str } },
} as const;

export const revokeBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { terminate: { type: 'boolean', description: 'Also end a running task at once (process and thread pools)' }, reason: { type: 'string', maxLength: 200 } },
} as const;

export const bulkBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 } },
} as const;

export const deletedSchema = { type: 'object', properties: { id: str, deleted: bool } } as const;
export const retriedAllSchema = { type: 'object', properties: { queue: str, retried: int, skippedRevoked: int, remaining: int } } as const;
export const cleanedSchema = { type: 'object', properties: { queue: str, removed: int } } as const;
