// The monitor's JSON API (src/monitoring on the server): its paths and the shapes it answers with.
// Every path the pages use is here, so the pages never build URLs themselves.
import { api, withQuery, type Query } from '../../api.js';
import type {
  FailedCleaned,
  FailedRetried,
  FilterChoices,
  JobBulkResult,
  QueueJobPage,
  ListResult,
  Overview,
  QueueList,
  TaskDetail,
  TaskDeleted,
  WorkerList,
} from '../../../../../src/monitoring/contract.js';

// The shapes are the server's own declarations (type-only imports: no server code reaches the bundle).
export type { JobBulkResult, JobState, QueueJob, QueueJobPage, LiveTaskEvent, Overview, QueueView, RuntimeStats, TaskDetail, TaskRow, TimelineEntry, WorkerView } from '../../../../../src/monitoring/contract.js';

const BASE = '/api/v1/monitor';
const seg = encodeURIComponent;

// The one `as const` list of the tasks contract (a pure module: nothing else of the server comes with it).
export { JOB_STATES, TASK_STATES } from '../../../../../src/tasks/contract.js';
export const FINAL_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

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

export interface ControlReply {
  worker: string;
  ok: boolean;
  queues: string[];
  concurrency: number;
  changed: boolean;
}

export interface RateLimitView {
  task: string;
  declared: string | null;
  override: string | null;
  effective: string | null;
}

export const monitorApi = {
  /** SSE: `task` events for every task change, optionally for one task, name or queue. */
  eventsUrl: (filter: { taskId?: string; name?: string; queue?: string } = {}) => withQuery(`${BASE}/events`, filter),
  overview: (query: Query = {}) => api.get<Overview>(`${BASE}/overview`, query),
  workers: () => api.get<WorkerList>(`${BASE}/workers`),
  queues: () => api.get<QueueList>(`${BASE}/queues`),
  tasks: (query: TaskListQuery) => api.get<ListResult>(`${BASE}/tasks`, query as Query),
  filters: () => api.get<FilterChoices>(`${BASE}/filters`),
  task: (id: string) => api.get<TaskDetail>(`${BASE}/tasks/${seg(id)}`),
  /** The actions answer with the task as it is afterwards. */
  revoke: (id: string, terminate: boolean) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/revoke`, { terminate }),
  retry: (id: string) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/retry`),
  promote: (id: string) => api.post<TaskDetail>(`${BASE}/tasks/${seg(id)}/promote`),
  /** A new task with the same call; answers with the new id. */
  runAgain: (id: string) => api.post<{ id: string; from: string }>(`${BASE}/tasks/${seg(id)}/run-again`),
  remove: (id: string) => api.delete<TaskDeleted>(`${BASE}/tasks/${seg(id)}`),
  control: (worker: string, body: { command: 'concurrency'; value: number } | { command: 'add-consumer' | 'cancel-consumer'; queue: string } | { command: 'shutdown' }) =>
    api.post<ControlReply>(`${BASE}/workers/${seg(worker)}/control`, body),
  pauseQueue: (queue: string, pause: boolean) => api.post<{ queue: string; paused: boolean; changed: boolean }>(`${BASE}/queues/${seg(queue)}/${pause ? 'pause' : 'resume'}`),
  rateLimits: () => api.get<{ items: RateLimitView[] }>(`${BASE}/rate-limits`),
  setRateLimit: (task: string, rate: string) => api.put<RateLimitView>(`${BASE}/rate-limits/${seg(task)}`, { rate }),
  resetRateLimit: (task: string) => api.delete<RateLimitView>(`${BASE}/rate-limits/${seg(task)}`),
  /** A queue's jobs in one BullMQ state (the job browser). */
  jobs: (queue: string, query: { state: string; page?: number; limit?: number; order?: 'asc' | 'desc' }) => api.get<QueueJobPage>(`${BASE}/queues/${seg(queue)}/jobs`, query as Query),
  /** Retry, promote or remove the given jobs of a queue; answered id by id. */
  jobsAction: (queue: string, action: 'retry' | 'promote' | 'remove', ids: string[]) => api.post<JobBulkResult>(`${BASE}/queues/${seg(queue)}/jobs/${action}`, { ids }),
  retryFailed: (queue: string) => api.post<FailedRetried>(`${BASE}/queues/${seg(queue)}/retry-failed`, {}),
  cleanFailed: (queue: string) => api.post<FailedCleaned>(`${BASE}/queues/${seg(queue)}/clean-failed`, {}),
};
