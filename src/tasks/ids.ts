// What a task id may be. BullMQ keeps a job under `<prefix>:<queue>:<id>`, beside the queue's own keys
// (`<prefix>:<queue>:meta`, `…:events`, `…:failed`, …) and the job's sub-keys (`<prefix>:<queue>:<id>:lock`):
// an id that is one of those names, or holds a ':', would read or write the queue's own data. Every id
// that comes from outside (a URL, a CLI argument, a periodic task, an idempotency key) is checked here
// before any key is built from it.
import { BULL_ONLY_QUEUE_KEY, JOB_SUBKEY, QUEUE_KEY } from './bull-layout.js';

/**
 * The names BullMQ (and seler beside it) use for a queue's own keys, never a task's; also BullMQ's state
 * `waiting`, and `priority` and `drained` of older BullMQ versions.
 */
export const RESERVED_TASK_IDS: ReadonlySet<string> = new Set([
  '',
  ...Object.values(QUEUE_KEY),
  ...Object.values(BULL_ONLY_QUEUE_KEY),
  ...Object.values(JOB_SUBKEY),
  'waiting',
  'priority',
  'drained',
]);

/** Letters, digits, '_', '.', '-'; starting with a letter or digit; at most 200 characters. */
export const TASK_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$';
const ID = new RegExp(TASK_ID_PATTERN);

/** True when `id` can name a task: the right characters and length, and none of the queue's own key names. */
export function isValidTaskId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id) && !RESERVED_TASK_IDS.has(id.toLowerCase());
}

/** Why an explicit id was refused (for a 400 at enqueue); undefined when it is fine. */
export function taskIdProblem(id: unknown): string | undefined {
  if (isValidTaskId(id)) return undefined;
  if (typeof id === 'string' && RESERVED_TASK_IDS.has(id.toLowerCase())) return `task id "${id}" is a name BullMQ uses for a queue's own keys`;
  return `task id "${String(id).slice(0, 60)}" may contain only letters, digits, "_", "." and "-" (starting with a letter or digit, at most 200 characters)`;
}
