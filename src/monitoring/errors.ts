// Every error the monitoring API and /metrics answer with, declared once (docs/errors.md lists them).
import { errorCatalogue } from '../platform/errors.js';

const wholeNumber = (field: string) => (min: number, max: number) => `${field} must be a whole number from ${min} to ${max}`;
/** What a rate limit looks like (the 400 of a rate that is not a short text). */
export const RATE_LIMIT_HELP = 'rate must be a text such as "10/s", "100/m", "1000/h", "5000/d" or "none"';
const METRICS_AUTH = 'GET /metrics needs "Authorization: Bearer <SELER_METRICS_TOKEN>".';

export const MONITORING_ERRORS = {
  /** `expired`: the id is a valid one whose job is gone (the index forgets it). */
  task_not_found: {
    status: 404,
    message: (id: string, expired = false) => (expired ? `No task with id "${id}" (it never existed or its result has expired).` : `No task with id "${id.slice(0, 200)}".`),
  },
  queue_not_found: { status: 404, message: (name: string) => `No queue named "${name}".` },
  worker_not_found: { status: 404, message: (name: string) => `No worker named "${name.slice(0, 300)}" is online.` },
  task_type_not_found: { status: 404, message: (task: string) => `No registered task named "${task.slice(0, 200)}".` },
  task_finished: { status: 409, message: (id: string, status: string) => `Task "${id}" is already ${status}; only a task that has not finished can be revoked.` },
  task_not_failed: { status: 409, message: (id: string, state: string | undefined) => `Only a FAILURE task can be retried; task "${id}" is ${state}.` },
  task_not_delayed: { status: 409, message: (id: string, state: string | undefined) => `Only a delayed task (countdown, eta or retry back-off) can be run now; task "${id}" is ${state}.` },
  task_not_finished: { status: 409, message: (id: string, status: string) => `Task "${id}" is ${status}; only a finished task can be run again.` },
  invalid_request: { status: 400, message: (param: string) => `unknown query parameter "${param.slice(0, 40)}"` },
  /** The job states of a queue's page or the task states of the index. */
  invalid_state: { status: 400, message: (states: readonly string[]) => `state must be one of ${states.join(', ')}` },
  invalid_order: { status: 400, message: () => 'order must be asc or desc' },
  invalid_page: { status: 400, message: wholeNumber('page') },
  invalid_limit: { status: 400, message: wholeNumber('limit') },
  invalid_ids: { status: 400, message: (max: number) => `ids must be a list of 1 to ${max} task ids (text)` },
  invalid_time: { status: 400, message: (field: string) => `${field} must be an ISO date-time or Unix milliseconds` },
  invalid_cursor: { status: 400, message: () => 'cursor is not one this API returned' },
  invalid_command: { status: 400, message: (commands: readonly string[]) => `command must be one of ${commands.join(', ')}` },
  invalid_concurrency: { status: 400, message: (max: number) => `value must be a whole number from 1 to ${max}` },
  invalid_queue: { status: 400, message: () => 'queue must be a queue name: letters, digits, "_", "." and "-" (at most 100)' },
  /** Without `problem`: not a short text; with it: what parseRate refused. */
  invalid_rate_limit: { status: 400, message: (problem?: string) => problem ?? RATE_LIMIT_HELP },
  /** The worker refused the control command (its reason). */
  control_refused: { status: 400, message: (why: string) => why },
  worker_no_reply: { status: 504, message: (name: string, seconds: number) => `The worker "${name}" did not answer within ${seconds} s.` },
  /** GET /metrics with SELER_METRICS_TOKEN: no Bearer token, or a wrong one. */
  not_authenticated: { status: 401, message: () => METRICS_AUTH },
  invalid_token: { status: 401, message: () => METRICS_AUTH },
} as const;

export const monitoringError = errorCatalogue(MONITORING_ERRORS);
