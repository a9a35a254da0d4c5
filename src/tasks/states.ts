// Celery's state names, derived from where BullMQ keeps a job.
import type { TaskState } from './contract.js';

export { TASK_STATES, type TaskState } from './contract.js';

export const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export function isReady(state: TaskState): boolean {
  return READY_STATES.has(state);
}

/** The error marker stored with jobs a worker discarded because they were revoked or expired. */
export const REVOKED_PREFIX = '[revoked] ';

export function stateFromJob(bullState: string, job: { attemptsMade: number; progress: unknown; failedReason?: string; retries?: number }): TaskState {
  const retried = job.attemptsMade > 0 || (job.retries ?? 0) > 0;
  switch (bullState) {
    case 'completed':
      return 'SUCCESS';
    case 'failed':
      return job.failedReason?.startsWith(REVOKED_PREFIX) ? 'REVOKED' : 'FAILURE';
    case 'active':
      return job.progress && typeof job.progress === 'object' && Object.keys(job.progress).length > 0 ? 'PROGRESS' : 'STARTED';
    default:
      // waiting, delayed, prioritized, waiting-children
      return retried ? 'RETRY' : 'PENDING';
  }
}
