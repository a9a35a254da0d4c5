// The monitor API's shapes in zod: Fastify validates and serializes with them and /docs is generated
// from them. Response objects list every property the pages read; as before, none is required.
import { z } from 'zod';
import { MAX_PAGE, dateTime as instant, errorResponse } from '../platform/api-shapes.js';
import { EVENT_CURSOR_PATTERN, JOB_STATES, MAX_BULK_IDS, MAX_CONCURRENCY, MAX_JOBS_PAGE, parseRate } from '../tasks/index.js';
import { RATE_LIMIT_HELP } from './errors.js';
import { TASK_STATES } from './keys.js';
import { MAX_LIMIT, MAX_SCAN } from './store.js';

export const TAGS = ['monitor'];

/** An object of the API's answers: its properties documented, none required (as the pages read them). */
const answer = <Shape extends z.ZodRawShape>(shape: Shape) => z.object(shape).partial();
const str = z.string();
const int = z.number().int();
const num = z.number();
const bool = z.boolean();
const dateTime = instant;
const nullableDateTime = instant.nullable();
const nullableStr = z.string().nullable();
const nullableInt = z.number().int().nullable();
const nullableNum = z.number().nullable();
const state = z.enum(TASK_STATES);
const series = z.array(num);
const names = z.array(str).readonly();

export const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse } as const;

export const idParams = z.object({ id: z.string().max(200) });
export const queueParams = z.object({ name: z.string().max(100) });

const counts = answer({ sent: int, succeeded: int, failed: int, retried: int, revoked: int });

export const overviewQuery = z.object({ minutes: z.coerce.number().int().min(1).max(120).default(60) });

export const overviewSchema = answer({
  generatedAt: dateTime,
  window: answer({ minutes: int, from: dateTime, to: dateTime }),
  tasks: answer({ indexed: int, byState: answer(Object.fromEntries(TASK_STATES.map((s) => [s, int]))) }).describe(
    'Tasks in the index (retained ones), in total and per state',
  ),
  totals: answer({ all: counts, byName: z.array(counts.extend({ name: str.optional() })) }).describe(
    'Events counted since the index began, cluster-wide: all task names, and per name',
  ),
  series: answer({ time: series, sent: series, succeeded: series, failed: series, retried: series, revoked: series }).describe(
    'Per minute, oldest first, the current (partial) minute last; `time` holds minute starts in Unix seconds',
  ),
  runtimes: z
    .array(answer({ name: str, count: int, meanMs: num, p50Ms: num, p90Ms: num, p95Ms: num, p99Ms: num, maxMs: num }))
    .describe('Runtime of successful runs in the window, per task name (from histograms: within 19 %)'),
  workers: answer({ online: int, gone: int }),
  queues: answer({ count: int, waiting: int, active: int, delayed: int, prioritized: int, failed: int }),
}).describe('The dashboard: task counts, per-minute series, runtime percentiles per task name, workers and queues in brief');

export const workerSchema = answer({
  name: str,
  host: str,
  pid: int,
  queues: names,
  concurrency: int,
  pool: str,
  status: z.enum(['online', 'gone']),
  goneReason: nullableStr.describe('stopped (shut down, removed its heartbeat) or lost (its heartbeat stopped); null while online'),
  goneAt: nullableDateTime,
  active: int,
  processed: int,
  failed: int,
  startedAt: dateTime,
  lastHeartbeat: dateTime,
  uptimeSeconds: int,
  memoryRss: int.describe('bytes'),
});

export const workersSchema = answer({ items: z.array(workerSchema), online: int, gone: int });

export const queueSchema = answer({
  name: str,
  paused: bool,
  counts: answer({ waiting: int, active: int, delayed: int, prioritized: int, completed: int, failed: int, waitingChildren: int }),
  oldestWaitingAgeMs: nullableInt,
  oldestWaitingSince: nullableDateTime,
  throughput: answer({ lastMinute: int, perMinute: num, lastHour: int, series }),
  workers: int,
});

export const queuesSchema = answer({ items: z.array(queueSchema) });

/** What a task row and a task's detail both start with. */
const taskIdentity = { id: str, name: str, queue: str, state };

export const taskRowSchema = answer({
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
});

export const listQuerySchema = z.object({
  state: state.optional(),
  name: z.string().max(200).optional(),
  queue: z.string().max(100).optional(),
  from: z.string().max(40).optional().describe('Enqueued at or after: ISO date-time or Unix ms'),
  to: z.string().max(40).optional().describe('Enqueued at or before: ISO date-time or Unix ms'),
  q: z
    .string()
    .max(200)
    .optional()
    .describe('A task id (exact match), or text searched in task ids and in the first 300 characters of the arguments JSON (bounded: see `scan`)'),
  order: z.enum(['desc', 'asc']).default('desc').describe('By enqueue time'),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
  page: z.coerce.number().int().min(1).max(1_000_000).optional().describe('1-based page (offset pagination); ignored with `cursor`'),
  cursor: z.string().max(400).optional().describe('nextCursor of the previous page'),
  scan: z.coerce.number().int().min(1).max(MAX_SCAN).default(5000).describe('Most index entries examined per request when combining filters or searching'),
});

export const listSchema = answer({
  items: z.array(taskRowSchema),
  total: nullableInt.describe('Exact number of matches; null when combining filters or searching'),
  page: nullableInt,
  limit: int,
  nextCursor: nullableStr,
  scan: answer({ examined: int, limit: int, truncated: bool }).describe(
    'Present for bounded walks: `truncated` means the walk stopped after `limit` entries; more may match after nextCursor',
  ),
  exactId: bool,
});

const taskError = answer({ code: str, message: str, traceback: str });

export const detailSchema = answer({
  ...taskIdentity,
  args: z.array(z.unknown()),
  kwargs: z.record(z.string(), z.unknown()),
  result: z.unknown(),
  error: taskError,
  progress: z.record(z.string(), z.unknown()),
  attempts: int,
  retries: int,
  worker: nullableStr,
  eta: nullableDateTime,
  runtimeMs: nullableNum,
  dateCreated: dateTime,
  dateStarted: nullableDateTime,
  dateDone: nullableDateTime,
  timeline: z.array(answer({ event: str.describe('sent, received, started, progress, retried, succeeded, failed or revoked'), at: dateTime, worker: str, message: str })),
  logs: z
    .array(str)
    .describe('The task’s own log lines (ctx.log), oldest first, each "<ISO time> [LEVEL] text"; at most 200 per run, 1000 characters each'),
  actions: answer({ revoke: bool, terminate: bool, retry: bool, promote: bool, runAgain: bool, delete: bool }),
});

export const runAgainSchema = z.object({ id: z.string().describe('the new task'), from: z.string().describe('the task it repeats') });

export const workerParams = z.object({ name: z.string().max(300) });

/** A queue a worker is told to consume or leave. */
export const QUEUE_NAME = /^[\w.-]{1,100}$/;
const consumedQueue = z.string().regex(QUEUE_NAME).describe('The queue: letters, digits, "_", "." and "-" (at most 100)');

export const controlBody = z
  .discriminatedUnion('command', [
    z.object({ command: z.literal('concurrency'), value: z.number().int().min(1).max(MAX_CONCURRENCY).describe('The new number of tasks run at once') }),
    z.object({ command: z.literal('add-consumer'), queue: consumedQueue }),
    z.object({ command: z.literal('cancel-consumer'), queue: consumedQueue }),
    z.object({ command: z.literal('shutdown') }),
  ])
  .meta({ examples: [{ command: 'concurrency', value: 8 }] });

export const controlReplySchema = answer({
  worker: str,
  ok: bool,
  queues: names.describe('the queues it consumes now'),
  concurrency: int,
  changed: bool.describe('false when it already was so (nothing recorded)'),
});

export const pausedSchema = answer({ queue: str, paused: bool, changed: bool });

export const taskNameParams = z.object({ task: z.string().max(200) });

/** A rate limit as text, trimmed: anything else is said in RATE_LIMIT_HELP, what parseRate refuses in its own words. */
const rateText = z
  .string({ error: RATE_LIMIT_HELP })
  .max(20, { error: RATE_LIMIT_HELP })
  .trim()
  .superRefine((rate, ctx) => {
    if (rate === 'none') return;
    try {
      parseRate(rate);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

export const rateLimitBody = z
  .object({ rate: rateText.describe('"10/s", "100/m", "1000/h", "5000/d", or "none" for no limit') })
  .meta({ examples: [{ rate: '10/m' }] });

export const rateLimitSchema = answer({
  task: str,
  declared: nullableStr.describe('what the task declares (rateLimit in defineTask)'),
  override: nullableStr.describe('set at run time; "none" lifts the declared limit'),
  effective: nullableStr.describe('the limit in force; null: none'),
});

export const rateLimitsSchema = answer({ items: z.array(rateLimitSchema) });

export const filtersSchema = answer({ states: names, names, queues: names });

export const revokeBody = z
  .object({
    terminate: z.boolean().optional().describe('Also end a running task at once (process and thread pools)'),
    reason: z.string().max(200).optional(),
  })
  .nullish();

export const bulkBody = z.object({ limit: z.number().int().min(1).max(10_000).default(1000) }).nullish();

export const deletedSchema = answer({ id: str, deleted: bool });
export const retriedAllSchema = answer({ queue: str, retried: int, skippedRevoked: int, remaining: int });
export const cleanedSchema = answer({ queue: str, removed: int });

export const eventsQuery = z.object({
  taskId: z.string().max(200).optional(),
  name: z.string().max(200).optional(),
  queue: z.string().max(100).optional(),
  lastEventId: z.string().max(140).regex(new RegExp(EVENT_CURSOR_PATTERN)).optional(),
});

// The job browser and its bulk actions.

export const jobsQuerySchema = z
  .object({
    state: z.enum(JOB_STATES).default('waiting').describe('Where BullMQ keeps the jobs (Bull Board’s tabs)'),
    page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
    limit: z.coerce.number().int().min(1).max(MAX_JOBS_PAGE).default(25),
    order: z.enum(['desc', 'asc']).default('desc').describe('desc: newest first (completed and failed by finish time, delayed by due time)'),
  })
  .strict();

export const queueJobSchema = answer({
  id: str,
  name: str,
  state: z.enum(JOB_STATES),
  status: state.describe('The Celery state it means'),
  createdAt: dateTime,
  startedAt: nullableDateTime,
  finishedAt: nullableDateTime,
  dueAt: nullableDateTime.describe('A delayed job: when it is due'),
  attempts: int,
  priority: nullableInt,
  argsPreview: str.describe('The positional arguments as JSON, cut at 200 characters'),
  kwargsPreview: str.describe('The keyword arguments as JSON, cut at 200 characters'),
  failedReason: nullableStr,
});

export const jobPageSchema = answer({
  queue: str,
  state: str,
  page: int,
  limit: int,
  total: int.describe('Jobs in this state'),
  paused: bool.describe('No worker starts the queue’s waiting jobs until it is resumed'),
  counts: answer(Object.fromEntries(JOB_STATES.map((s) => [s, int]))).describe('Jobs in every state'),
  items: z.array(queueJobSchema),
});

export const bulkIdsBody = z
  .object({
    // Any text: an id no task can have (too long, odd characters) is answered not_found like any other unknown id.
    ids: z.array(z.string()).min(1).max(MAX_BULK_IDS).describe(`Task ids of this queue (at most ${MAX_BULK_IDS})`),
  })
  .meta({ examples: [{ ids: ['2f1c0b7e-4c1d-4a7e-9b1f-0c2d3e4f5a6b'] }] });

export const bulkResultSchema = answer({
  queue: str,
  action: z.enum(['retry', 'remove', 'promote']),
  done: int,
  notFound: int,
  wrongState: int,
  results: z
    .array(answer({ id: str, outcome: z.enum(['done', 'not_found', 'wrong_state']), state: str }))
    .describe('One per id (duplicates once): done; not_found (no such task in this queue, or not a task id); wrong_state (with the state it is in)'),
});
