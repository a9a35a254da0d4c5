// What the monitor needs from the task layer besides TaskClient: queue counts and the age of the oldest
// waiting job, and an operator's actions on jobs (retry a failed task, run a delayed one now, retry or
// clean a queue's failed tasks). BullMQ's key layout: bull-layout.ts. (Worker heartbeats: control.ts.)
import { bullmq, type Job } from './bullmq.js';

const { Job: BullJob } = bullmq();
import { DEFAULT_QUEUE } from './define-task.js';
import { JOB_FIELD, META_FIELD, QUEUE_KEY, bullKey, finishedSetKey } from './bull-layout.js';
import type { TaskClient } from './client.js';
import { isValidTaskId } from './ids.js';
import { readJobSnapshot, type JobSnapshot } from './job-snapshot.js';
import type { QueueCounts } from './contract.js';
import { REVOKED_PREFIX } from './states.js';

export type { QueueCounts } from './contract.js';

export interface QueueStats {
  name: string;
  paused: boolean;
  counts: QueueCounts;
  /** When the job at the head of the wait list (FIFO, not prioritized) was enqueued; null when none waits. */
  oldestWaitingAt: number | null;
}

/** Every queue seler knows of (enqueued to, or consumed by a worker), sorted. */
export async function knownQueueNames(client: TaskClient): Promise<string[]> {
  const names = await client.redis.smembers(client.keys.key('queues'));
  return [...new Set([DEFAULT_QUEUE, ...names])].sort();
}

export async function queueStats(client: TaskClient, names: string[]): Promise<QueueStats[]> {
  const root = client.bullPrefix;
  const heads = client.redis.pipeline();
  for (const name of names) {
    heads.lindex(bullKey(root, name, QUEUE_KEY.wait), -1);
    heads.hget(bullKey(root, name, QUEUE_KEY.meta), META_FIELD.paused);
  }
  const [counts, headReplies] = await Promise.all([
    Promise.all(names.map((name) => client.queue(name).getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'))),
    heads.exec(),
  ]);
  const oldestIds = names.map((_, i) => (headReplies?.[i * 2]?.[1] as string | null) ?? null);
  const stamps = client.redis.pipeline();
  names.forEach((name, i) => stamps.hget(bullKey(root, name, oldestIds[i] ?? ''), JOB_FIELD.timestamp));
  const stampReplies = oldestIds.some(Boolean) ? ((await stamps.exec()) ?? []) : [];
  return names.map((name, i) => {
    const c = counts[i]!;
    const stamp = oldestIds[i] ? Number(stampReplies[i]?.[1]) : NaN;
    return {
      name,
      paused: headReplies?.[i * 2 + 1]?.[1] === '1',
      counts: {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        prioritized: c.prioritized ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        waitingChildren: c['waiting-children'] ?? 0,
      },
      oldestWaitingAt: Number.isFinite(stamp) ? stamp : null,
    };
  });
}

/** BullMQ's own state of a job: waiting, delayed, prioritized, active, completed, failed, waiting-children or unknown. */
export function jobState(client: TaskClient, queue: string, id: string): Promise<string> {
  return client.queue(queue).getJobState(id);
}

export type JobActionResult = { ok: true } | { ok: false; reason: 'not_found' | 'wrong_state'; state?: string };

async function findJob(client: TaskClient, id: string): Promise<{ job: Job; snapshot: JobSnapshot; queue: string; state: string } | null> {
  // Only the queue lookup: getTask() would build the whole view.
  const queueName = isValidTaskId(id) ? await client.findQueue(id) : undefined;
  if (!queueName) return null;
  const queue = client.queue(queueName);
  // The decision reads one snapshot (a worker may finish the job meanwhile, see job-snapshot.ts); the Job
  // is only the handle BullMQ's actions need, and their scripts check the state again.
  const [snapshot, job] = await Promise.all([readJobSnapshot(client.redis, queue, id), BullJob.fromId(queue, id)]);
  return snapshot && job ? { job, snapshot, queue: queueName, state: snapshot.state } : null;
}

/** The `retried` event of an operator's retry: appended before the job can run again, so it precedes the run's own events. */
export function retriedEvent(client: TaskClient, job: { id: string; name: string; queue: string }, by: string): Promise<unknown> {
  return client.events.append({ type: 'retried', taskId: job.id, name: job.name, queue: job.queue, ts: Date.now(), data: { by, manual: true } });
}

/** Runs a failed task again (one more attempt); refuses a task that is not FAILURE (revoked ones included). `by` names who asked. */
export async function retryFailedTask(client: TaskClient, id: string, by: string): Promise<JobActionResult> {
  const found = await findJob(client, id);
  if (!found) return { ok: false, reason: 'not_found' };
  if (found.state !== 'failed' || found.snapshot.failedReason?.startsWith(REVOKED_PREFIX)) return { ok: false, reason: 'wrong_state', state: found.state };
  try {
    await retriedEvent(client, { id, name: found.snapshot.name, queue: found.queue }, by);
    await found.job.retry('failed');
    return { ok: true };
  } catch {
    return { ok: false, reason: 'wrong_state', state: await jobState(client, found.queue, id) };
  }
}

/** Moves a delayed task (countdown, eta or retry backoff) to the wait list now. */
export async function promoteDelayedTask(client: TaskClient, id: string): Promise<JobActionResult> {
  const found = await findJob(client, id);
  if (!found) return { ok: false, reason: 'not_found' };
  if (found.state !== 'delayed') return { ok: false, reason: 'wrong_state', state: found.state };
  try {
    await found.job.promote();
    return { ok: true };
  } catch {
    return { ok: false, reason: 'wrong_state', state: await jobState(client, found.queue, id) };
  }
}

export interface BulkRetry {
  /** Ids (and names) of the tasks moved back to the wait list. */
  retried: { id: string; name: string }[];
  /** Revoked tasks in the failed set: left alone (a worker would discard them again). */
  skippedRevoked: number;
  /** Failed tasks left for another call (over the limit). */
  remaining: number;
}

/** Retries up to `limit` of a queue's FAILURE tasks, oldest first; `by` names who asked. */
export async function retryFailedOfQueue(client: TaskClient, queueName: string, limit: number, by: string): Promise<BulkRetry> {
  const queue = client.queue(queueName);
  const ids = await client.redis.zrange(finishedSetKey(client, queueName, QUEUE_KEY.failed), '0', '-1');
  const pipeline = client.redis.pipeline();
  for (const id of ids) pipeline.hmget(bullKey(client.bullPrefix, queueName, id), JOB_FIELD.failedReason, JOB_FIELD.name);
  const replies = ids.length ? ((await pipeline.exec()) ?? []) : [];
  const candidates: { id: string; name: string }[] = [];
  let skippedRevoked = 0;
  ids.forEach((id, i) => {
    const [reason, name] = (replies[i]?.[1] as (string | null)[] | undefined) ?? [];
    if (reason?.startsWith(REVOKED_PREFIX)) skippedRevoked++;
    else candidates.push({ id, name: name ?? '' });
  });
  const chosen = candidates.slice(0, limit);
  const retried: { id: string; name: string }[] = [];
  for (let i = 0; i < chosen.length; i += 20) {
    await Promise.all(
      chosen.slice(i, i + 20).map(async (task) => {
        const job = await BullJob.fromId(queue, task.id);
        if (!job) return;
        try {
          await retriedEvent(client, { id: task.id, name: task.name, queue: queueName }, by);
          await job.retry('failed');
          retried.push(task);
        } catch {
          /* it left the failed set meanwhile */
        }
      }),
    );
  }
  return { retried, skippedRevoked, remaining: candidates.length - chosen.length };
}

/** Removes up to `limit` tasks of the queue's failed set (FAILURE and REVOKED); returns their ids. */
export async function cleanFailedOfQueue(client: TaskClient, queueName: string, limit: number): Promise<string[]> {
  const removed = await client.queue(queueName).clean(0, limit, 'failed');
  if (removed.length) await client.redis.zrem(client.keys.key('revoked'), ...removed);
  return removed;
}
