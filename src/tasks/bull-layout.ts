// BullMQ's storage layout, as far as seler reads or writes Redis beside BullMQ's API (one-command status
// reads, the monitor's index and its Lua scripts, the job browser): the job hash's fields, the types of a
// queue's keys, the meta hash and the event stream. Nothing else in seler names them. BullMQ does not
// promise this layout: bull-layout.redis.test.ts drives a real Queue and Worker and fails when the
// installed BullMQ writes anything else, or is outside BULLMQ_CHECKED.

/** The BullMQ versions this layout was checked against: [from, before). */
export const BULLMQ_CHECKED = { from: '6.7.0', before: '6.8.0' } as const;

/** The fields of a job's hash (`<prefix>:<queue>:<id>`) that BullMQ writes. */
export const JOB_FIELD = {
  name: 'name',
  /** JSON: seler's JobPayload (args, kwargs, …). */
  data: 'data',
  /** JSON: the job's options, BullMQ's short keys. */
  opts: 'opts',
  /** When the job was added (ms). */
  timestamp: 'timestamp',
  /** ms after `timestamp` the job was due (0 for none). */
  delay: 'delay',
  priority: 'priority',
  /** JSON: what the task reported (ctx.progress). */
  progress: 'progress',
  /** When the last attempt started (ms). */
  processedOn: 'processedOn',
  finishedOn: 'finishedOn',
  /** JSON: the result. */
  returnvalue: 'returnvalue',
  failedReason: 'failedReason',
  /** JSON array of stack traces, one per failed attempt. */
  stacktrace: 'stacktrace',
  attemptsMade: 'atm',
  attemptsStarted: 'ats',
  /** The name of the worker that took it. */
  processedBy: 'pb',
} as const;

/** Fields BullMQ writes that seler never reads (a child's link to its parent): named so the layout test tells them from a new one. */
export const BULL_ONLY_JOB_FIELD = { parent: 'parent', parentKey: 'parentKey' } as const;

/** What older BullMQ versions called `atm`: still read by BullMQ (and seler) when present. */
export const LEGACY_ATTEMPTS_MADE_FIELD = 'attemptsMade';

/** The field seler adds to a job's hash: the task's error as seler serialised it (TaskError JSON). */
export const SELER_ERROR_FIELD = 'selerError';

/** The types of a queue's own keys, `<prefix>:<queue>:<type>`. */
export const QUEUE_KEY = {
  /** list: waiting jobs (oldest at the right end). */
  wait: 'wait',
  /** list: what workers run now. */
  active: 'active',
  /** list: a paused queue's waiting jobs in older BullMQ versions (this one keeps them in `wait`); still part of its state lookup. */
  paused: 'paused',
  /** zset: delayed jobs by due time (see delayedDueAt). */
  delayed: 'delayed',
  /** zset: waiting jobs with a priority. */
  prioritized: 'prioritized',
  /** zset: finished jobs by finish time (ms). */
  completed: 'completed',
  failed: 'failed',
  /** zset: parents waiting for their children (a chord's callback). */
  waitingChildren: 'waiting-children',
  /** stream: the queue's events (EVENT_FIELD, BULL_EVENT). */
  events: 'events',
  /** hash: the queue's settings (META_FIELD). */
  meta: 'meta',
} as const;
export type QueueKeyType = (typeof QUEUE_KEY)[keyof typeof QUEUE_KEY];

/** BullMQ's other keys of a queue, never read by seler: counters, markers, locks of its own. */
export const BULL_ONLY_QUEUE_KEY = {
  jobIdCounter: 'id',
  priorityCounter: 'pc',
  marker: 'marker',
  stalledCheck: 'stalled-check',
  stalled: 'stalled',
  limiter: 'limiter',
  repeat: 'repeat',
  deduplication: 'de',
  /** `metrics:completed`, `metrics:failed` (when metrics are on). */
  metrics: 'metrics',
} as const;

/** A job's own sub-keys, `<job key>:<sub>`: BullMQ's, never read by seler (its log is read through BullMQ). */
export const JOB_SUBKEY = { lock: 'lock', logs: 'logs', dependencies: 'dependencies', processed: 'processed', unsuccessful: 'unsuccessful', failed: 'failed' } as const;

/** A queue's finished sets. */
export type FinishedSet = typeof QUEUE_KEY.completed | typeof QUEUE_KEY.failed;

/** Fields of a queue's meta hash. */
export const META_FIELD = {
  /** '1' while the queue is paused. */
  paused: 'paused',
} as const;

/** Fields of an entry of a queue's event stream. */
export const EVENT_FIELD = { event: 'event', jobId: 'jobId', name: 'name', data: 'data' } as const;

/** The events of a queue's stream that seler reads (the `event` field). */
export const BULL_EVENT = { added: 'added', active: 'active', completed: 'completed', progress: 'progress' } as const;

/**
 * The key of a part of queue `queue`: `<prefix>:<queue>:<part>`, the part a QUEUE_KEY type or a job id
 * (the job's hash). seler's `{prefix}` is BullMQ's prefix, so one Redis Cluster slot holds every key.
 * The monitor's scripts build job keys this way too (monitoring/lua/apply-1.lua, backfill-2.lua, sweep-1.lua).
 */
export function bullKey(bullPrefix: string, queue: string, part: string): string {
  return `${bullPrefix}:${queue}:${part}`;
}

/** BullMQ keeps a job in the hash `<jobKeyPrefix>:<queue>:<id>`, with the fields JOB_FIELDS names. */
export function jobKeyPrefix(client: { readonly bullPrefix: string }): string {
  return client.bullPrefix;
}

/** BullMQ's set of a queue's finished jobs (completed or failed), scored by finish time (ms). */
export function finishedSetKey(client: { readonly bullPrefix: string }, queue: string, set: FinishedSet): string {
  return bullKey(client.bullPrefix, queue, set);
}

/** The job hash's fields the monitor's scripts read, in this order: task name, created (ms), started (ms), finished (ms), failed reason, attempts made, data JSON. */
export const JOB_FIELDS = [JOB_FIELD.name, JOB_FIELD.timestamp, JOB_FIELD.processedOn, JOB_FIELD.finishedOn, JOB_FIELD.failedReason, JOB_FIELD.attemptsMade, JOB_FIELD.data] as const;

/** When a delayed job is due (ms), from its score in the delayed set: due time × 0x1000 plus a counter (BullMQ's getDelayedScore). */
export function delayedDueAt(score: string | number): number {
  return Math.floor(Number(score) / 0x1000);
}
