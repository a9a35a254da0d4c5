// One task in full (the live job, with what the index remembers), and the operator's actions on tasks
// and queues: revoke, retry, run now, delete, retry or clean a queue's failed tasks.
import { monitoringError } from './errors.js';
import {
  cleanFailedOfQueue,
  isReady,
  isValidTaskId,
  jobState,
  knownQueueNames,
  promoteDelayedTask,
  readTaskLog,
  retryFailedOfQueue,
  retryFailedTask,
  type TaskClient,
} from '../tasks/index.js';
import type { FailedCleaned, FailedRetried, TaskDetail, TimelineEntry } from './contract.js';
import type { MonKeys } from './keys.js';
import { forgetTasks, getSummary, type TaskSummary } from './store.js';

export type { TaskDetail, TimelineEntry } from './contract.js';

const FINISH_EVENT: Record<string, string> = { SUCCESS: 'succeeded', FAILURE: 'failed', REVOKED: 'revoked' };

function timelineOf(summary: TaskSummary | null, view: { status: string; dateCreated: string; dateStarted?: string; dateDone?: string }): TimelineEntry[] {
  const tl = Array.isArray(summary?.tl) ? summary.tl : [];
  const out: TimelineEntry[] = tl.map(([event, ts, extra]) => {
    const entry: TimelineEntry = { event, at: new Date(ts).toISOString() };
    if (typeof extra === 'string') entry[event === 'started' ? 'worker' : 'message'] = extra;
    return entry;
  });
  const has = (event: string) => out.some((e) => e.event === event);
  // Filled from the job's own timestamps where no event was seen (the stream is capped; received has no event).
  if (!has('sent')) out.push({ event: 'sent', at: view.dateCreated });
  if (view.dateStarted) out.push({ event: 'received', at: view.dateStarted });
  if (view.dateStarted && !has('started')) out.push({ event: 'started', at: view.dateStarted });
  const finish = FINISH_EVENT[view.status];
  if (finish && view.dateDone && !has(finish)) out.push({ event: finish, at: view.dateDone });
  const order = ['sent', 'received', 'started', 'progress', 'retried', 'succeeded', 'failed', 'revoked'];
  return out.sort((a, b) => a.at.localeCompare(b.at) || order.indexOf(a.event) - order.indexOf(b.event));
}

export async function taskDetail(client: TaskClient, mk: MonKeys, id: string): Promise<TaskDetail> {
  // An id that cannot be one (a BullMQ key name, a ':'…) is refused before any key is built from it.
  if (!isValidTaskId(id)) throw missing(id);
  const view = await client.getTask(id);
  if (!view) {
    // The job is gone (deleted, or past its retention): the index must not keep showing it.
    await forgetTasks(client.redis, mk, [id]).catch(() => {});
    throw monitoringError.task_not_found(id, true);
  }
  const [summary, bullState, log] = await Promise.all([getSummary(client.redis, mk, id), jobState(client, view.queue, id), readTaskLog(client, view.queue, id)]);
  const ready = isReady(view.status);
  const runtimeMs = summary?.rt ?? (view.dateStarted && view.dateDone ? Date.parse(view.dateDone) - Date.parse(view.dateStarted) : null);
  return {
    id,
    name: view.name,
    queue: view.queue,
    state: view.status,
    args: view.args,
    kwargs: view.kwargs,
    ...(view.result !== undefined ? { result: view.result } : {}),
    // A revoke's reason is kept in the index (the job keeps it only once a worker has discarded it).
    ...(view.error ? { error: view.status === 'REVOKED' && view.error.message === 'revoked' && summary?.e ? { ...view.error, message: summary.e } : view.error } : {}),
    ...(view.progress ? { progress: view.progress } : {}),
    attempts: view.attempts,
    retries: summary?.r ?? 0,
    worker: typeof summary?.w === 'string' ? summary.w : null,
    eta: summary?.eta && bullState === 'delayed' ? new Date(summary.eta).toISOString() : null,
    runtimeMs: view.status === 'SUCCESS' || view.status === 'FAILURE' ? runtimeMs : null,
    dateCreated: view.dateCreated,
    dateStarted: view.dateStarted ?? null,
    dateDone: view.dateDone ?? null,
    timeline: timelineOf(summary, view),
    logs: log.lines,
    actions: {
      revoke: !ready,
      terminate: bullState === 'active',
      retry: view.status === 'FAILURE',
      promote: bullState === 'delayed' && !ready,
      runAgain: ready,
      delete: bullState !== 'active',
    },
  };
}

export interface Actor {
  id: number;
  username: string;
}

export const missing = (id: string) => monitoringError.task_not_found(id);

export async function revokeTask(client: TaskClient, id: string, actor: Actor, options: { terminate?: boolean; reason?: string }) {
  const view = await client.getTask(id);
  if (!view) throw missing(id);
  if (isReady(view.status)) throw monitoringError.task_finished(id, view.status);
  const reason = options.reason?.trim() || `revoked by ${actor.username}`;
  await client.revoke(id, { terminate: !!options.terminate, reason });
  return { name: view.name, reason };
}

export async function retryTask(client: TaskClient, id: string, actor: Actor) {
  const result = await retryFailedTask(client, id, actor.username);
  if (!result.ok && result.reason === 'not_found') throw missing(id);
  const view = await client.getTask(id);
  if (!result.ok) throw monitoringError.task_not_failed(id, view?.status ?? result.state);
  return { name: view?.name ?? '' };
}

export async function promoteTask(client: TaskClient, id: string) {
  const result = await promoteDelayedTask(client, id);
  if (!result.ok && result.reason === 'not_found') throw missing(id);
  if (!result.ok) throw monitoringError.task_not_delayed(id, result.state);
  return { name: (await client.getTask(id))?.name ?? '' };
}

/**
 * Sends a finished task again as a new task (Flower's "apply" with the same call): same name,
 * arguments and queue. The copy is staff-only, whoever owned the original.
 */
export async function runTaskAgain(client: TaskClient, id: string): Promise<{ id: string; name: string }> {
  const view = await client.getTask(id);
  if (!view) throw missing(id);
  if (!isReady(view.status)) throw monitoringError.task_not_finished(id, view.status);
  const { id: newId } = await client.enqueue(view.name, { args: view.args, kwargs: view.kwargs, queue: view.queue });
  return { id: newId, name: view.name };
}

export async function deleteTask(client: TaskClient, mk: MonKeys, id: string) {
  const view = await client.getTask(id);
  if (!view) throw missing(id);
  if (!(await client.forget(id))) throw missing(id); // forget refuses a running task with 409 task_running
  await forgetTasks(client.redis, mk, [id]);
  return { name: view.name, state: view.status };
}

async function requireQueue(client: TaskClient, queue: string): Promise<void> {
  if (!(await knownQueueNames(client)).includes(queue)) throw monitoringError.queue_not_found(queue);
}

export async function retryFailedTasks(client: TaskClient, queue: string, actor: Actor, limit: number): Promise<FailedRetried> {
  await requireQueue(client, queue);
  const result = await retryFailedOfQueue(client, queue, limit, actor.username);
  return { queue, retried: result.retried.length, skippedRevoked: result.skippedRevoked, remaining: result.remaining };
}

export async function cleanFailedTasks(client: TaskClient, mk: MonKeys, queue: string, limit: number): Promise<FailedCleaned> {
  await requireQueue(client, queue);
  const removed = await cleanFailedOfQueue(client, queue, limit);
  await forgetTasks(client.redis, mk, removed);
  return { queue, removed: removed.length };
}
