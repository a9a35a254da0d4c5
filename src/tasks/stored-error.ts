// A failed task's error as seler keeps it in the job hash (`selerError`, written with BullMQ's failure:
// durable-finish.ts), and read back with BullMQ's own fields as the fallback.
import { AppError } from '../platform/errors.js';
import type { TaskError } from './contract.js';
import { SELER_ERROR_FIELD } from './bull-layout.js';
import { scrubErrorMessage } from './error-text.js';

export const ERROR_FIELD = SELER_ERROR_FIELD;

export function serializeError(err: unknown): TaskError {
  // The message is shown to whoever may read the task: no server paths in it (the traceback, for staff, keeps them).
  if (err instanceof AppError) return { code: err.code, message: scrubErrorMessage(err.message), traceback: err.stack };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : err.name === 'Error' ? 'task_error' : err.name, message: scrubErrorMessage(err.message), traceback: err.stack };
  }
  return { code: 'task_error', message: scrubErrorMessage(String(err)) };
}

export function readError(json: string | null, failedReason: string | undefined, stacktrace: string[] | null | undefined): TaskError {
  if (json) {
    try {
      const error = JSON.parse(json) as TaskError;
      return { ...error, message: scrubErrorMessage(String(error.message ?? '')) };
    } catch {
      /* fall through to BullMQ's own fields */
    }
  }
  if (failedReason && /^child .* failed/i.test(failedReason))
    return { code: 'dependency_failed', message: scrubErrorMessage(`a task this one depends on failed (${failedReason})`) };
  return { code: 'task_error', message: scrubErrorMessage(failedReason ?? 'the task failed'), traceback: stacktrace?.at(-1) };
}
