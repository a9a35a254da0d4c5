// Bull Board's job browser and its bulk actions: a queue's jobs by BullMQ state, a page at a time, and
// retry / remove / promote of a chosen set of ids, answered id by id. BullMQ's key layout: bull-layout.ts.
import { isRedisUnavailableError } from '../platform/redis.js';
import { bullmq, type Job } from './bullmq.js';
import { QUEUE_KEY, bullKey, delayedDueAt } from './bull-layout.js';
import type { JobPayload, TaskClient } from './client.js';
import { JOB_STATES, type JobActionOutcome, type JobState, type QueueJob } from './contract.js';
import { isValidTaskId } from './ids.js';
import { readJobSnapshot, type JobSnapshot } from './job-snapshot.js';
import { retriedEvent } from './queue-admin.js';
import { REVOKED_PREFIX, stateFromJob } from './states.js';

/** Rows of one page of the job browser, at most. */
export const MAX_JOBS_PAGE = 100;
/** Ids of one bulk action, at most. */
export const MAX_BULK_IDS = 1000;
const PREVIEW_CHARS = 200;
/** How many ids a bulk action works on at once. */
const BATCH = 20;

export const JOB_ACTIONS = ['retry', 'remove', 'promote'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

export interface JobPage {
  items: QueueJob[];
  /** Jobs in the state asked for. */
  total: number;
  /** Jobs in every state (the browser's tabs). */
  counts: Record<JobState, number>;
  /** Paused: no worker starts its waiting jobs (BullMQ keeps them in the wait list meanwhile). */
  paused: boolean;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? '';
  } catch {
    text = '';
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

/** One page of a queue's jobs in `state`: newest first (order 'desc', BullMQ's own) or oldest first. */
export async function listQueueJobs(
  client: TaskClient,
  queueName: string,
  state: JobState,
  options: { page: number; limit: number; order: 'asc' | 'desc' },
): Promise<JobPage> {
  const queue = client.queue(queueName);
  const start = (options.page - 1) * options.limit;
  const [jobs, rawCounts, paused] = await Promise.all([
    queue.getJobs([state], start, start + options.limit - 1, options.order === 'asc'),
    queue.getJobCounts(...JOB_STATES),
    queue.isPaused(),
  ]);
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, rawCounts[s] ?? 0])) as Record<JobState, number>;
  const ids = jobs.map((job) => job.id!);
  // Revoked but not yet discarded by a worker: REVOKED, as GET /api/v1/tasks/<id> says.
  const [revoked, dueScores] = ids.length
    ? await Promise.all([
        client.redis.zmscore(client.keys.key('revoked'), ...ids),
        state === 'delayed' ? client.redis.zmscore(bullKey(client.bullPrefix, queueName, QUEUE_KEY.delayed), ...ids) : Promise.resolve([] as (string | null)[]),
      ])
    : [[], []];
  const items = jobs.map((job, i) => rowOf(job, state, revoked[i] != null, dueScores[i] ?? null));
  return { items, total: counts[state], counts, paused };
}

function rowOf(job: Job, state: JobState, revoked: boolean, dueScore: string | null): QueueJob {
  const payload = (job.data ?? {}) as Partial<JobPayload>;
  let status = stateFromJob(state, { attemptsMade: job.attemptsMade, progress: job.progress, failedReason: job.failedReason, retries: payload.retries });
  if (revoked && (status === 'PENDING' || status === 'RETRY' || status === 'STARTED' || status === 'PROGRESS')) status = 'REVOKED';
  const due = dueScore !== null ? delayedDueAt(dueScore) : state === 'delayed' ? job.timestamp + (job.delay ?? 0) : null;
  return {
    id: job.id!,
    name: job.name,
    state,
    status,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    dueAt: iso(due),
    attempts: job.attemptsMade,
    priority: job.priority || null,
    argsPreview: preview(payload.args ?? []),
    kwargsPreview: preview(payload.kwargs ?? {}),
    failedReason: job.failedReason ? job.failedReason.slice(0, 1000) : null,
  };
}

/** What `action` needs of a job's state: retry a FAILURE (not a revoked one), promote a delayed one, remove any that is not running. */
function allowed(action: JobAction, snapshot: JobSnapshot): boolean {
  if (action === 'retry') return snapshot.state === 'failed' && !snapshot.failedReason?.startsWith(REVOKED_PREFIX);
  if (action === 'promote') return snapshot.state === 'delayed';
  return snapshot.state !== 'active';
}

const stateName = (snapshot: JobSnapshot) => (snapshot.state === 'failed' && snapshot.failedReason?.startsWith(REVOKED_PREFIX) ? 'revoked' : snapshot.state);

/**
 * Retries, removes or promotes each of `ids` in queue `queueName` (duplicates once): an id that cannot
 * name a task, or names none in this queue, is not_found before any key is built from it or touched;
 * a job in a state the action does not fit is wrong_state. `by` names who asked (retries say so).
 */
export async function actOnJobs(client: TaskClient, queueName: string, action: JobAction, ids: string[], by: string): Promise<JobActionOutcome[]> {
  const unique = [...new Set(ids)];
  const outcomes: JobActionOutcome[] = [];
  for (let i = 0; i < unique.length; i += BATCH)
    outcomes.push(...(await Promise.all(unique.slice(i, i + BATCH).map((id) => actOnJob(client, queueName, action, id, by)))));
  return outcomes;
}

async function actOnJob(client: TaskClient, queueName: string, action: JobAction, id: string, by: string): Promise<JobActionOutcome> {
  if (!isValidTaskId(id)) return { id, outcome: 'not_found' };
  const queue = client.queue(queueName);
  // Another operator (or a worker) may act on the same job meanwhile: BullMQ's scripts check the state
  // again, and a refusal is answered with where the job is now.
  const now = async (): Promise<JobActionOutcome> => {
    const again = await readJobSnapshot(client.redis, queue, id);
    return again ? { id, outcome: 'wrong_state', state: stateName(again) } : { id, outcome: 'not_found' };
  };
  const snapshot = await readJobSnapshot(client.redis, queue, id);
  if (!snapshot) return { id, outcome: 'not_found' };
  if (!allowed(action, snapshot)) return { id, outcome: 'wrong_state', state: stateName(snapshot) };
  try {
    if (action === 'remove') {
      if ((await queue.remove(id)) !== 1) return await now();
      await client.redis.zrem(client.keys.key('revoked'), id);
      return { id, outcome: 'done' };
    }
    const job = await bullmq().Job.fromId(queue, id);
    if (!job) return { id, outcome: 'not_found' };
    if (action === 'retry') {
      await retriedEvent(client, { id, name: snapshot.name, queue: queueName }, by);
      await job.retry('failed');
    } else {
      await job.promote();
    }
    return { id, outcome: 'done' };
  } catch (err) {
    if (isRedisUnavailableError(err)) throw err;
    return now();
  }
}

/** A task's own log lines (ctx.log), oldest first, and how many the job keeps. */
export async function readTaskLog(client: TaskClient, queueName: string, id: string): Promise<{ lines: string[]; count: number }> {
  if (!isValidTaskId(id)) return { lines: [], count: 0 };
  const { logs, count } = await client.queue(queueName).getJobLogs(id, 0, -1, true);
  return { lines: logs, count };
}
