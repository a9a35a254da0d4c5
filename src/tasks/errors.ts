// Every error the task API, the client and the canvas answer with, declared once (docs/errors.md lists them).
import { errorCatalogue } from '../platform/errors.js';

export const TASK_ERRORS = {
  /**
   * Without an id: the one answer of the HTTP API for a task an anonymous caller may not see, whatever the
   * reason. With an id: AsyncResult.get in-process, where nothing is hidden.
   */
  task_not_found: {
    status: 404,
    message: (id?: string) => (id === undefined ? 'No such task: it never existed, its result has expired, or it is not yours to see.' : `no task with id "${id}"`),
  },
  /** AsyncResult.get: the task was not ready within the wait. */
  timeout: { status: 408, message: (id: string, status: string, seconds: number) => `task ${id} is still ${status} after ${seconds} s` },
  task_running: { status: 409, message: (id: string) => `task "${id}" is running; revoke it before forgetting it` },
  invalid_cancel_token: { status: 403, message: () => 'That cancel token does not belong to this task.' },
  terminate_not_allowed: {
    status: 403,
    message: () => 'Terminating a running task needs a staff account with the change_task permission; revoke it (without terminate) with its cancel token.',
  },
  cancel_token_required: {
    status: 403,
    message: (header: string) => `Cancelling needs the cancel token returned with the upload (header ${header}, or ?token=).`,
  },
  /** Not an array, or refused by the task's argsSchema. */
  invalid_args: { status: 400, message: (problem: string) => problem },
  /** Not an object, or refused by the task's kwargsSchema. */
  invalid_kwargs: { status: 400, message: (problem: string) => problem },
  invalid_queue: { status: 400, message: (queue: string) => `queue name "${queue}" may contain letters, digits, "_", "." and "-"` },
  invalid_countdown: { status: 400, message: () => 'countdown must be a number of seconds ≥ 0' },
  invalid_task_id: { status: 400, message: (problem: string) => problem },
  empty_chain: { status: 400, message: () => 'a chain needs at least one task' },
  empty_group: { status: 400, message: () => 'a group needs at least one task' },
  empty_chord: { status: 400, message: () => 'a chord needs at least one task in its header' },
} as const;

export const taskError = errorCatalogue(TASK_ERRORS);
