// How periodic tasks and runs are stored: rows to records and back (instants as epoch ms, flags as
// 0/1, JSON as text), and the write queue SQLite needs when one process opens several connections.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { BeatPeriodicTaskTable, BeatRunTable } from '../platform/db/schema.js';
import type { ManagedField, PeriodicTask, PeriodicTaskRecord, RunTrigger, TaskFields, TaskSource } from './model.js';
import { scheduleKind, type Schedule } from './schedules/index.js';

export type RunStatus = 'claimed' | 'enqueued' | 'skipped' | 'expired' | 'failed';

export interface BeatRun {
  id: number;
  periodicTaskId: number;
  /** The task's id in the broker; null when nothing was enqueued (skipped, expired). */
  taskId: string | null;
  scheduledFor: string;
  trigger: RunTrigger;
  claimedAt: string;
  enqueuedAt: string | null;
  status: RunStatus;
  note: string | null;
}

export interface NewRun {
  taskId: string;
  scheduledFor: number;
  trigger: RunTrigger;
  /** Set for a run that is recorded but not enqueued. */
  status?: 'skipped' | 'expired';
  note?: string;
}

/** The outcome of one claim: the cursor's new position and what the task row records. */
export interface Claim {
  next: number | null;
  disable: boolean;
  runs: NewRun[];
  now: number;
}

// better-sqlite3 is synchronous: a second connection writing while another connection of the same
// process holds a write transaction would block the event loop until busy_timeout. Writes to one
// SQLite file from one process are therefore queued here (other processes wait in SQLite's busy handler).
const sqliteWriteQueues = new Map<string, Promise<unknown>>();
export function serializeWrite<T>(database: Db, fn: () => Promise<T>): Promise<T> {
  if (database.dialect !== 'sqlite') return fn();
  const key = database.description;
  const run = (sqliteWriteQueues.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => {});
  sqliteWriteQueues.set(key, tail);
  void tail.then(() => sqliteWriteQueues.get(key) === tail && sqliteWriteQueues.delete(key));
  return run;
}

const num = (v: number | string) => Number(v);
const numOrNull = (v: number | string | null) => (v === null ? null : Number(v));
export const msOrNull = (iso: string | null) => (iso === null ? null : Date.parse(iso));
const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function decode(row: Selectable<BeatPeriodicTaskTable>): PeriodicTaskRecord {
  return {
    id: num(row.id),
    name: row.name,
    task: row.task,
    schedule: JSON.parse(row.schedule) as Schedule,
    args: JSON.parse(row.args) as unknown[],
    kwargs: JSON.parse(row.kwargs) as Record<string, unknown>,
    queue: row.queue,
    priority: row.priority,
    expires: iso(row.expires),
    expireSeconds: row.expire_seconds,
    oneOff: row.one_off === 1,
    startTime: iso(row.start_time),
    enabled: row.enabled === 1,
    description: row.description,
    missedRunPolicy: row.missed_run_policy as TaskFields['missedRunPolicy'],
    overlapPolicy: row.overlap_policy as TaskFields['overlapPolicy'],
    scheduleKind: row.schedule_kind as PeriodicTask['scheduleKind'],
    source: row.source as TaskSource,
    declared: row.declared ? (JSON.parse(row.declared) as TaskFields) : null,
    overridden: JSON.parse(row.overridden) as ManagedField[],
    lastRunAt: numOrNull(row.last_run_at),
    totalRunCount: Number(row.total_run_count),
    lastTaskId: row.last_task_id,
    nextRunAt: numOrNull(row.next_run_at),
    dateCreated: num(row.date_created),
    dateChanged: num(row.date_changed),
  };
}

export type FieldColumns = Omit<
  Insertable<BeatPeriodicTaskTable>,
  'id' | 'name' | 'source' | 'declared' | 'overridden' | 'last_run_at' | 'total_run_count' | 'last_task_id' | 'next_run_at' | 'date_created' | 'date_changed'
>;

export function encodeFields(f: Partial<TaskFields>): Partial<FieldColumns> {
  const out: Partial<FieldColumns> = {};
  if (f.task !== undefined) out.task = f.task;
  if (f.schedule !== undefined) {
    out.schedule = JSON.stringify(f.schedule);
    out.schedule_kind = scheduleKind(f.schedule);
  }
  if (f.args !== undefined) out.args = JSON.stringify(f.args);
  if (f.kwargs !== undefined) out.kwargs = JSON.stringify(f.kwargs);
  if (f.queue !== undefined) out.queue = f.queue;
  if (f.priority !== undefined) out.priority = f.priority;
  if (f.expires !== undefined) out.expires = msOrNull(f.expires);
  if (f.expireSeconds !== undefined) out.expire_seconds = f.expireSeconds;
  if (f.oneOff !== undefined) out.one_off = f.oneOff ? 1 : 0;
  if (f.startTime !== undefined) out.start_time = msOrNull(f.startTime);
  if (f.enabled !== undefined) out.enabled = f.enabled ? 1 : 0;
  if (f.description !== undefined) out.description = f.description;
  if (f.missedRunPolicy !== undefined) out.missed_run_policy = f.missedRunPolicy;
  if (f.overlapPolicy !== undefined) out.overlap_policy = f.overlapPolicy;
  return out;
}

export function decodeRun(row: Selectable<BeatRunTable>): BeatRun {
  const status: RunStatus = (row.status as RunStatus | null) ?? (row.enqueued_at === null ? 'claimed' : 'enqueued');
  return {
    id: num(row.id),
    periodicTaskId: num(row.periodic_task_id),
    taskId: row.status === 'skipped' || row.status === 'expired' ? null : row.task_id,
    scheduledFor: iso(row.scheduled_for)!,
    trigger: row.trigger as RunTrigger,
    claimedAt: iso(row.claimed_at)!,
    enqueuedAt: iso(row.enqueued_at),
    status,
    note: row.note,
  };
}
