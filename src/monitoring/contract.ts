// The monitor's JSON shapes (/api/v1/monitor and its event stream), as the server sends them and the
// admin console reads them (web/admin/src/pages/monitor/api.ts). Pure types (and one `as const` list):
// the browser code imports this file too, so it imports nothing but other contract modules.
import type { JobActionOutcome, JobState, QueueCounts, QueueJob, TaskError, TaskState, WorkerInfo } from '../tasks/contract.js';

export type { JobActionOutcome, JobState, QueueJob } from '../tasks/contract.js';

export type MonitorState = TaskState;

/** The events the index counts per minute and in total. */
export const COUNTED_EVENTS = ['sent', 'succeeded', 'failed', 'retried', 'revoked'] as const;
export type CountedEvent = (typeof COUNTED_EVENTS)[number];
export type Counts = Record<CountedEvent, number>;

export interface Series extends Record<CountedEvent, number[]> {
  /** Minute starts in Unix seconds (the x axis of a chart). */
  time: number[];
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

/** GET /overview: the dashboard. */
export interface Overview {
  generatedAt: string;
  window: { minutes: number; from: string; to: string };
  tasks: { indexed: number; byState: Record<MonitorState, number> };
  totals: { all: Counts; byName: (Counts & { name: string })[] };
  /** Per minute, oldest first, the current (partial) minute last. */
  series: Series;
  runtimes: RuntimeStats[];
  workers: { online: number; gone: number };
  queues: { count: number; waiting: number; active: number; delayed: number; prioritized: number; failed: number };
}

export interface WorkerView extends Pick<WorkerInfo, 'name' | 'host' | 'pid' | 'queues' | 'concurrency' | 'pool' | 'active' | 'processed' | 'failed'> {
  status: 'online' | 'gone';
  /** stopped: it shut down and removed its heartbeat; lost: its heartbeat stopped (killed, crashed, cut off). */
  goneReason: 'stopped' | 'lost' | null;
  goneAt: string | null;
  startedAt: string;
  lastHeartbeat: string;
  uptimeSeconds: number;
  /** Resident memory of the worker process, bytes. */
  memoryRss: number;
}

/** GET /workers. */
export interface WorkerList {
  items: WorkerView[];
  online: number;
  gone: number;
}

export interface QueueView {
  name: string;
  paused: boolean;
  counts: QueueCounts;
  /** Age of the task at the head of the wait list (ms); null when nothing waits. Prioritized tasks are not considered. */
  oldestWaitingAgeMs: number | null;
  oldestWaitingSince: string | null;
  throughput: {
    /** Tasks finished (succeeded or failed) in the last complete minute. */
    lastMinute: number;
    /** Average per minute over the last 5 complete minutes. */
    perMinute: number;
    /** Finished in the last 60 minutes (the current one included). */
    lastHour: number;
    /** Per minute, oldest first, the current minute last (60 values). */
    series: number[];
  };
  /** Online workers consuming this queue. */
  workers: number;
}

/** GET /queues. */
export interface QueueList {
  items: QueueView[];
}

export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  state: MonitorState;
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

/** GET /tasks. */
export interface ListResult {
  items: TaskRow[];
  /** Exact count of matches; null when filtering on two or more fields or searching (it would need a full walk). */
  total: number | null;
  page: number | null;
  limit: number;
  /** Pass as `cursor` for the next page; null at the end. */
  nextCursor: string | null;
  /** Present when the walk was bounded (combined filters or text search). */
  /** `truncated`: the walk stopped after examining `limit` entries without filling the page; more may match after `nextCursor`. */
  scan?: { examined: number; limit: number; truncated: boolean };
  /** Set when `q` matched a task id exactly. */
  exactId?: boolean;
}

/** GET /filters: choices for the task list's filters. */
export interface FilterChoices {
  states: readonly MonitorState[];
  names: string[];
  queues: string[];
}

export interface TimelineEntry {
  event: string;
  at: string;
  worker?: string;
  message?: string;
}

/** GET /tasks/:id, and the answer of every action on one task. */
export interface TaskDetail {
  id: string;
  name: string;
  queue: string;
  state: MonitorState;
  args: unknown[];
  kwargs: Record<string, unknown>;
  result?: unknown;
  error?: TaskError;
  progress?: Record<string, unknown>;
  /** Runs BullMQ started (automatic retries included). */
  attempts: number;
  /** Retries: automatic, asked by the task, or by an operator. */
  retries: number;
  worker: string | null;
  eta: string | null;
  runtimeMs: number | null;
  dateCreated: string;
  dateStarted: string | null;
  dateDone: string | null;
  timeline: TimelineEntry[];
  /** The task's own log lines (ctx.log), oldest first: at most TASK_LOG_MAX_LINES per run, each cut at TASK_LOG_MAX_LINE_CHARS. Staff only. */
  logs: string[];
  /** What an operator may do now (given the right permission). */
  /** runAgain: a finished task can be sent again as a new task with the same name, arguments and queue. */
  actions: { revoke: boolean; terminate: boolean; retry: boolean; promote: boolean; runAgain: boolean; delete: boolean };
}

/** DELETE /tasks/:id. */
export interface TaskDeleted {
  id: string;
  deleted: boolean;
}

/** POST /queues/:name/retry-failed. */
export interface FailedRetried {
  queue: string;
  retried: number;
  skippedRevoked: number;
  remaining: number;
}

/** POST /queues/:name/clean-failed. */
export interface FailedCleaned {
  queue: string;
  removed: number;
}

/** One `event: task` message of the SSE stream (`id:` its stream id): a task changed. */
export interface LiveTaskEvent {
  type: string;
  state: MonitorState | null;
  taskId: string;
  name: string;
  queue: string;
  at: string;
  data?: Record<string, unknown>;
}

/** One `event: worker` message of the SSE stream: a worker came or went. */
export interface LiveWorkersEvent {
  online: string[];
  gone: string[];
}

/** GET /queues/:name/jobs: one page of a queue's jobs in one BullMQ state. */
export interface QueueJobPage {
  queue: string;
  state: JobState;
  page: number;
  limit: number;
  /** Jobs in this state. */
  total: number;
  /** Jobs in every state (the tabs). */
  counts: Record<JobState, number>;
  /** No worker starts the queue's waiting jobs until it is resumed. */
  paused: boolean;
  items: QueueJob[];
}

/** POST /queues/:name/jobs/retry|remove|promote. */
export interface JobBulkResult {
  queue: string;
  action: 'retry' | 'remove' | 'promote';
  done: number;
  notFound: number;
  wrongState: number;
  results: JobActionOutcome[];
}
