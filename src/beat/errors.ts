// Every error the periodic-task API and the beat answer with, declared once (docs/errors.md lists them).
import { errorCatalogue } from '../platform/errors.js';
import { fieldErrors } from '../platform/json-api.js';

export const BEAT_ERRORS = {
  /** A task's fields: `fields` names each bad one ("schedule.crontab.minute"). */
  invalid_periodic_task: fieldErrors,
  /** A schedule previewed alone. */
  invalid_schedule: fieldErrors,
  invalid_bulk_action: fieldErrors,
  /** A query value the route's schema refuses (`?errors=` of the preview, a filter, a page). */
  invalid_query: fieldErrors,
  /** An :id that is not a positive integer. */
  invalid_request: fieldErrors,
  periodic_task_not_found: { status: 404, message: (id: number | string) => `No periodic task with id ${id}.` },
  /** Run now: the task refused the arguments (its message, cut to 2000 characters). */
  run_failed: { status: 400, message: (why: string) => why.slice(0, 2000) },
} as const;

export const beatError = errorCatalogue(BEAT_ERRORS);
