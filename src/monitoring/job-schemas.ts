// JSON schemas of the job browser and its bulk actions (validation, serialization, /docs).
import { JOB_STATES, MAX_BULK_IDS, MAX_JOBS_PAGE, TASK_STATES } from '../tasks/index.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const jobsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...JOB_STATES], default: 'waiting', description: 'Where BullMQ keeps the jobs (Bull Board’s tabs)' },
    page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_JOBS_PAGE, default: 25 },
    order: { type: 'string', enum: ['desc', 'asc'], default: 'desc', description: 'desc: newest first (completed and failed by finish time, delayed by due time)' },
  },
} as const;

export const queueJobSchema = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    state: { type: 'string', enum: [...JOB_STATES] },
    status: { type: 'string', enum: [...TASK_STATES], description: 'The Celery state it means' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: nullableDateTime,
    finishedAt: nullableDateTime,
    dueAt: { ...nullableDateTime, description: 'A delayed job: when it is due' },
    attempts: int,
    priority: { type: ['integer', 'null'] },
    argsPreview: { type: 'string', description: 'The positional arguments as JSON, cut at 200 characters' },
    kwargsPreview: { type: 'string', description: 'The keyword arguments as JSON, cut at 200 characters' },
    failedReason: { type: ['string', 'null'] },
  },
} as const;

export const jobPageSchema = {
  type: 'object',
  properties: {
    queue: str,
    state: str,
    page: int,
    limit: int,
    total: { type: 'integer', description: 'Jobs in this state' },
    paused: { type: 'boolean', description: 'No worker starts the queue’s waiting jobs until it is resumed' },
    counts: { type: 'object', description: 'Jobs in every state', properties: Object.fromEntries(JOB_STATES.map((s) => [s, int])) },
    items: { type: 'array', items: queueJobSchema },
  },
} as const;

export const bulkIdsBody = {
  type: 'object',
  required: ['ids'],
  properties: { ids: { type: 'array', items: { type: 'string', maxLength: 200 }, minItems: 1, maxItems: MAX_BULK_IDS, description: `Task ids of this queue (at most ${MAX_BULK_IDS})` } },
  examples: [{ ids: ['2f1c0b7e-4c1d-4a7e-9b1f-0c2d3e4f5a6b'] }],
} as const;

export const bulkResultSchema = {
  type: 'object',
  properties: {
    queue: str,
    action: { type: 'string', enum: ['retry', 'remove', 'promote'] },
    done: int,
    notFound: int,
    wrongState: int,
    results: {
      type: 'array',
      description: 'One per id (duplicates once): done; not_found (no such task in this queue, or not a task id); wrong_state (with the state it is in)',
      items: { type: 'object', properties: { id: str, outcome: { type: 'string', enum: ['done', 'not_found', 'wrong_state'] }, state: str } },
    },
  },
} as const;
