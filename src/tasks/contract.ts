// The task layer's JSON shapes that other processes and the browser read: Celery states, a task's
// error, a worker's heartbeat, a queue's counts. Pure types (and one `as const` list): the admin
// console imports this file too, so it imports nothing but other contract modules.

export const TASK_STATES = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** What a task reports while it runs (ctx.progress), shown as PROGRESS. */
export interface TaskProgress {
  current: number;
  total: number;
  step?: string;
  [key: string]: unknown;
}

/** A task as GET /api/v1/tasks/<id> answers (TaskClient.getTask). */
export interface TaskView {
  id: string;
  name: string;
  queue: string;
  status: TaskState;
  args: unknown[];
  kwargs: Record<string, unknown>;
  progress?: TaskProgress;
  result?: unknown;
  error?: TaskError;
  attempts: number;
  dateCreated: string;
  dateStarted?: string;
  dateDone?: string;
}

export interface TaskError {
  code: string;
  message: string;
  traceback?: string;
}

/** What a worker writes in its heartbeat (and answers `seler inspect stats` with). */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  pool: string;
  active: number;
  processed: number;
  failed: number;
  startedAt: number;
  heartbeatAt: number;
  rss: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  completed: number;
  failed: number;
  waitingChildren: number;
}

/** Where BullMQ keeps a queue's jobs: the states a queue's jobs can be browsed by (Bull Board's tabs). */
export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** One job of a queue as the job browser lists it. */
export interface QueueJob {
  id: string;
  name: string;
  /** BullMQ's state, and the Celery state it means (a failed job discarded after a revoke is REVOKED). */
  state: JobState;
  status: TaskState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** A delayed job: when it is due. */
  dueAt: string | null;
  /** Runs BullMQ started (automatic retries included). */
  attempts: number;
  priority: number | null;
  /** The arguments as JSON, cut to a preview. */
  argsPreview: string;
  kwargsPreview: string;
  failedReason: string | null;
}

/** What one id of a bulk action came to. */
export interface JobActionOutcome {
  id: string;
  outcome: 'done' | 'not_found' | 'wrong_state';
  /** With wrong_state: the state the job is in. */
  state?: string;
}
