// The monitor's JSON API (src/monitoring on the server): its paths and the shapes it answers with.
// Every path the pages use is here, so the pages never build URLs themselves.
import { api, withQuery, type Query } from '../../api.js';

const BASE = '/api/v1/monitor';
const seg = encodeURIComponent;

export const TASK_STATES = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export interface Counts {
  sent: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
}

export interface RuntimeStats {
  name: string;
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Overview {
  generatedAt: string;
  window: { minutes: number; from: string; to: string };
  tasks: { indexed: number; byState: Partial<Record<TaskState, number>> };
  totals: { all: Counts; byName: (Counts & { name: string })[] };
  /** Per minute, oldest first, the current (partial) minute last; `time` in Unix seconds. */
  series: Record<keyof Counts, number[]> & { time: number[] };
  runtimes: RuntimeStats[];
  workers: { online: number; gone: number };
  queues: { count: number; waiting: number; active: number; delayed: number; prioritized: number; failed: number };
}

export interface WorkerView {
  name: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  pool: string;
  status: 'online' | 'gone';
  goneReason: 'stopped' | 'lost' | null;
  goneAt: string | null;
  active: number;
  processed: number;
  failed: number;
  startedAt: string;
  lastHeartbeat: string;
  uptimeSeconds: number;
  memoryRss: number;
}

export interface QueueView {
  name: string;
  paused: boolean;
  counts: { waiting: number; active: number; delayed: number; prioritized: number; completed: number; failed: number; waitingChildren: number };
  oldestWaitingAgeMs: number | null;
  oldestWaitingSince: string | null;
  throughput: { lastMinute: number; perMinute: number; lastHour: number; series: number[] };
  workers: number;
}

export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  sentAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  runtimeMs: number | null;
  worker: string | null;
  attempt: number | null;
  retries: number;
  error: string | null;
  eta: string | null;
  argsPreview: string;
}

export interface TaskList {
  items: TaskRow[];
  /** null when combining filters or searching (the server walks a bounded part of the index). */
  total: number | null;
  page: number | null;
  limit: number;
  nextCursor: string | null;
  scan?: { examined: number; limit: number; truncated: boolean };
  exactId?: boolean;
}

export interface TaskListQuery {
  state?: string;
  name?: string;
  queue?: string;
  /** ISO date-time or Unix ms. */
  from?: string | number;
  to?: string | number;
  q?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  page?: number;
  cursor?: string;
}

export interface TimelineEntry {
  event: string;
  at: string;
  worker?: string;
  message?: string;
}

export interface TaskError {
  code: string;
  message: string;
  traceback?: string;
}

export interface TaskDetail {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  args: unknown[];
  kwargs: Record<string, unknown>;
  result?: unknown;
  error?: TaskError;
  progress?: Record<string, unknown>;
  attempts: number;
  retries: number;
  worker: string | null;
  eta: string | null;
  runtimeMs: number | null;
  dateCreated: string;
  dateStarted: string | null;
  dateDone: string | null;
  timeline: TimelineEntry[];
  actions: { revoke: boolean; terminate: boolean; retry: boolean; promote: boolean; delete: boolean };
}

export interface FilterChoices {
  states: string[];
  names: string[];
  queues: string[];
}

/** One event of the monitor's SSE stream (`event: task`, `id:` its stream id): a task changed. */
export interface LiveTaskEvent {
  type: string;
  state: TaskState | null;
  taskId: string;
  name: string;
  queue: string;
  at: string;
  data?: Record<string, unknown>;
}

export const monitorApi = {
  /** SSE: `task` events for every task change, optionally for one task, name or queue. */
  eventsUrl: (filter: { taskId?: string; name?: string; queue?: string } = {}) => withQuery(`${BASE}/events`, filter),
  overview: (query: Query = {}) => api.get<Overview>(`${BASE}/overview`, query),
  workers: () => api.get<{ items: WorkerView[]; online: number; gone: number }>(`${BASE}/workers`),
  queues: () => api.get<{ items: QueueView[] }>(`${BASE}/queues`),
  tasks: (query: TaskListQuery) => api.get<TaskList>(`${BASE}/tasks`, query as Query),
  filters: () => api.get<FilterChoices>(`${BASE}/filters`),
  task: (id: string) => api.get<TaskDetail>(`${BASE}/tasks/${seg(id)}`),
  /** The actions answer with the task as it is afterwards. */
  revoke: (id: string, terminate: boolean) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/revoke`, { terminate }),
  retry: (id: string) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/retry`),
  promote: (id: string) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/promote`),
  remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(`${BASE}/tasks/${seg(id)}`),
  retryFailed: (queue: string) => api.post<{ queue: string; retried: number; skippedRevoked: number; remaining: number }>(`${BASE}/queues/${seg(queue)}/retry-failed`, {}),
  cleanFailed: (queue: string) => api.post<{ queue: string; removed: number }>(`${BASE}/queues/${seg(queue)}/clean-failed`, {}),
};
