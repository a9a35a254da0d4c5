// Running one task's handler: in this process (the async pool) or inside a pool child.
// Time limits: the soft limit aborts the task's AbortSignal with a SoftTimeLimitExceeded reason, which
// the task may catch to clean up; the hard limit gives up on the task with TimeLimitExceeded.
import type { Logger } from '../platform/logger.js';
import { getTaskDefinition, type TaskCaller, type TaskContext, type TaskProgress, type TaskResources } from './define-task.js';
import { makeTaskLog, type TaskLog } from './task-log.js';

export class SoftTimeLimitExceeded extends Error {
  override name = 'SoftTimeLimitExceeded';
  readonly code = 'soft_time_limit';
}

export class TimeLimitExceeded extends Error {
  override name = 'TimeLimitExceeded';
  readonly code = 'time_limit';
}

/** Thrown by a task for a failure that retrying cannot fix. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
  constructor(
    message: string,
    readonly code = 'permanent_failure',
  ) {
    super(message);
  }
}

/** Thrown by `ctx.retry()`: run the task again after a countdown (counts against maxAttempts unless forced). */
export class Retry extends Error {
  override name = 'Retry';
  readonly code = 'retry';
  constructor(
    message: string,
    readonly retryInMs: number,
    readonly force = false,
  ) {
    super(message);
  }
}

/** A pool child died (killed, crashed, out of memory) while running the task. */
export class WorkerLostError extends Error {
  override name = 'WorkerLostError';
  readonly code = 'worker_lost';
}

export interface ExecutionRequest {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  retries: number;
  args: unknown[];
  kwargs: Record<string, unknown>;
  softTimeLimitMs?: number;
  timeLimitMs?: number;
}

export interface ExecutionHooks {
  progress(progress: TaskProgress): Promise<void> | void;
  /** Aborted when the task is revoked or the worker stops hard. */
  signal: AbortSignal;
  log: Logger;
  /** Keeps one of the task's own log lines (ctx.log) with its job; absent: the lines only go to `log`. */
  keepLogLine?(line: string): void;
  /** A pool child's count of the lines its cap dropped (the parent says so in the log). */
  keepLogDropped?(count: number): void;
}

/** How tasks run: in this process, in worker threads, or in child processes. */
export interface Executor {
  readonly kind: 'async' | 'threads' | 'process';
  run(request: ExecutionRequest, hooks: ExecutionHooks): Promise<unknown>;
  /** Ends a running task at once (only pools with children can); true when it was running here. */
  terminate(taskId: string, reason: string): boolean;
  /** Pools with children: run at most this many at once from now on (extra children retire when idle). */
  resize?(size: number): void;
  close(): Promise<void>;
}

/** The error shape that crosses from a child to its parent. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  stack?: string;
  permanent: boolean;
  retryInMs?: number;
  force?: boolean;
}

export function serializeForTransport(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return {
    name: e.name,
    code: typeof code === 'string' ? code : e.name === 'Error' ? 'task_error' : e.name,
    message: e.message,
    stack: e.stack,
    permanent: isPermanent(e),
    ...(e instanceof Retry ? { retryInMs: e.retryInMs, force: e.force } : {}),
  };
}

export function reviveError(data: SerializedError): Error {
  const err =
    data.retryInMs !== undefined
      ? new Retry(data.message, data.retryInMs, data.force)
      : data.permanent
        ? new PermanentFailure(data.message, data.code)
        : Object.assign(new Error(data.message), { code: data.code });
  err.name = data.name;
  if (data.stack) err.stack = data.stack;
  return err;
}

/** Failures a retry cannot fix: declared permanent, bad input (HTTP 400/422), or a hard time limit. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentFailure || (err as { permanent?: boolean }).permanent === true) return true;
  const status = (err as { status?: number }).status;
  return status === 400 || status === 422;
}

function retry(options: { countdownSeconds?: number; reason?: string; force?: boolean } = {}): never {
  throw new Retry(options.reason ?? 'retry requested by the task', Math.max(0, (options.countdownSeconds ?? 1) * 1000), options.force);
}

/** A task's `ctx`. A class, so its getters live on the prototype: an object literal with getters costs more to make than a no-op task runs. */
class Context implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly retries: number;
  readonly retry = retry;
  /** An own function (not a method), so a task may destructure it. */
  readonly progress: (progress: TaskProgress) => Promise<void>;
  /** The executor's caller's own functions: nothing made per task. */
  readonly delay: TaskCaller['delay'];
  readonly applyAsync: TaskCaller['applyAsync'];
  readonly resources: Partial<TaskResources>;
  private taskLog?: TaskLog;

  constructor(
    request: ExecutionRequest,
    private readonly hooks: ExecutionHooks,
    services: TaskServices,
    /** Set when time limits apply: the task's own controller, which the worker's signal also aborts. */
    private readonly controller?: AbortController,
  ) {
    this.id = request.id;
    this.name = request.name;
    this.queue = request.queue;
    this.attempt = request.attempt;
    this.retries = request.retries;
    this.progress = async (progress) => hooks.progress(progress);
    this.resources = services.resources;
    this.delay = services.caller.delay;
    this.applyAsync = services.caller.applyAsync;
  }

  get signal(): AbortSignal {
    return this.controller ? this.controller.signal : this.hooks.signal;
  }

  get log(): TaskLog {
    const hooks = this.hooks;
    return (this.taskLog ??= makeTaskLog(() => hooks.log, hooks.keepLogLine?.bind(hooks)));
  }
}

/** What a worker hands its tasks' ctx: its resources, and the caller behind ctx.delay (its own client; in a pool child, a message to the parent). */
export interface TaskServices {
  resources: Partial<TaskResources>;
  caller: TaskCaller;
}

export async function runInProcess(request: ExecutionRequest, hooks: ExecutionHooks, services: TaskServices): Promise<unknown> {
  const definition = getTaskDefinition(request.name);
  if (!definition) throw new PermanentFailure(`task "${request.name}" is not registered in this worker`, 'unknown_task');
  const softMs = request.softTimeLimitMs ?? definition.options.softTimeLimitMs;
  const hardMs = request.timeLimitMs ?? definition.options.timeLimitMs;
  // Without time limits the worker's own signal is the task's: no controller, no timers (and the
  // worker makes that one only if the task asks for it).
  if (!softMs && !hardMs) return definition.handler(request.args, request.kwargs, new Context(request, hooks, services));

  const controller = new AbortController();
  const forward = () => controller.abort(hooks.signal.reason);
  if (hooks.signal.aborted) forward();
  else hooks.signal.addEventListener('abort', forward, { once: true });
  const timers: NodeJS.Timeout[] = [];
  if (softMs) timers.push(setTimeout(() => controller.abort(new SoftTimeLimitExceeded(`soft time limit of ${softMs} ms exceeded`)), softMs));
  let hardLimit: Promise<never> | undefined;
  if (hardMs) {
    hardLimit = new Promise<never>((_, reject) =>
      timers.push(
        setTimeout(() => {
          const err = new TimeLimitExceeded(`hard time limit of ${hardMs} ms exceeded`);
          controller.abort(err);
          reject(err);
        }, hardMs),
      ),
    );
  }
  try {
    const running = Promise.resolve().then(() => definition.handler(request.args, request.kwargs, new Context(request, hooks, services, controller)));
    return await (hardLimit ? Promise.race([running, hardLimit]) : running);
  } catch (err) {
    // An abort caused by a time limit surfaces as the limit's own error, whatever the task threw.
    if (controller.signal.aborted && controller.signal.reason instanceof Error && isAbortError(err)) throw controller.signal.reason;
    throw err;
  } finally {
    timers.forEach(clearTimeout);
    hooks.signal.removeEventListener('abort', forward);
  }
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err instanceof SoftTimeLimitExceeded || err instanceof TimeLimitExceeded);
}

export function asyncExecutor(services: TaskServices): Executor {
  return {
    kind: 'async',
    run: (request, hooks) => runInProcess(request, hooks, services),
    terminate: () => false,
    close: async () => {},
  };
}
