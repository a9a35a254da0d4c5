// A task's own log lines (Bull Board's job logs): `ctx.log('…')`, and ctx.log.info / warn / error as well,
// are kept with the task's job for the monitor's task page, besides going to the worker's log. Capped, so
// a chatty task cannot fill Redis nor cost a Redis call per line without end.
import { format } from 'node:util';
import type { Logger } from '../platform/logger.js';

/** Lines one run of a task may keep; past it one line says how many more were dropped. */
export const TASK_LOG_MAX_LINES = 200;
/** Lines a task keeps in all (its retries append to the same log): the newest ones, with the drop notice. */
export const TASK_LOG_KEEP = TASK_LOG_MAX_LINES + 1;
/** A longer line is cut and ends with "…". */
export const TASK_LOG_MAX_LINE_CHARS = 1000;

/** ctx.log: call it with a message (printf-style arguments too), or use it as the worker's logger (pino). */
export type TaskLog = Logger & ((message: unknown, ...rest: unknown[]) => void);

/** The logger levels whose lines are kept with the task too (debug and trace only go to the worker's log). */
const KEPT_LEVELS: ReadonlySet<string> = new Set(['info', 'warn', 'error', 'fatal']);

function json(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : typeof v === 'bigint' ? String(v) : v)) ?? String(value);
  } catch {
    return '[unserializable]';
  }
}

/** The text of one log call, as pino takes its arguments: (message, ...printf args) or (object, message?, ...). */
export function logText(args: unknown[]): string {
  const [first, ...rest] = args;
  if (typeof first === 'string') return format(first, ...rest);
  if (first instanceof Error) return [`${first.name}: ${first.message}`, ...(rest.length ? [format(...rest)] : [])].join(' ');
  const message = typeof rest[0] === 'string' ? format(...rest) : '';
  const fields = first === undefined ? '' : json(first);
  return message && fields && fields !== '{}' ? `${message} ${fields}` : message || fields;
}

/** One stored line: the time, the level when it came from a logger method, the text (cut to the limit). */
export function logLine(level: string | undefined, args: unknown[], now = Date.now()): string {
  const line = `${new Date(now).toISOString()} ${level ? `${level.toUpperCase()} ` : ''}${logText(args)}`;
  return line.length > TASK_LOG_MAX_LINE_CHARS ? `${line.slice(0, TASK_LOG_MAX_LINE_CHARS - 1)}…` : line;
}

/** The line that stands for the lines a run could not keep. */
export function droppedLine(dropped: number, now = Date.now()): string {
  return `${new Date(now).toISOString()} … ${dropped} more line(s) not kept (at most ${TASK_LOG_MAX_LINES} per run)`;
}

/**
 * Makes ctx.log: a function that keeps a line (through `keep`) and writes it to the worker's log at
 * info, which also answers every method of the worker's logger (its info / warn / error / fatal keep
 * the line too). The logger is asked for only when something logs (making one costs more than a no-op task).
 */
export function makeTaskLog(logger: () => Logger, keep: ((line: string) => void) | undefined): TaskLog {
  const call = (...args: unknown[]) => {
    keep?.(logLine(undefined, args));
    logger().info(logText(args));
  };
  return new Proxy(call, {
    get(_target, prop) {
      const target = logger();
      if (typeof prop === 'string' && KEPT_LEVELS.has(prop))
        return (...args: unknown[]) => {
          keep?.(logLine(prop, args));
          (target[prop as 'info'] as (...a: unknown[]) => void).apply(target, args);
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    has: (_target, prop) => prop in logger(),
  }) as unknown as TaskLog;
}
