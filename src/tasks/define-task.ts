// Named tasks with typed arguments, registered when their module is imported (Celery's autodiscovery).
import type { z } from 'zod';
import type { TaskProgress } from './contract.js';
import type { TaskLog } from './task-log.js';

/**
 * The typed map from task name to arguments and result. Feature modules extend it:
 *   declare module '../tasks/index.js' { interface TaskTypes { 'demo.add': { args: [number, number]; kwargs: {}; result: number } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TaskTypes {}

export type TaskName = keyof TaskTypes & string;
type Entry<N extends TaskName> = TaskTypes[N] extends { args: unknown[]; kwargs: object; result: unknown } ? TaskTypes[N] : never;
export type ArgsOf<N extends TaskName> = Entry<N>['args'];
export type KwargsOf<N extends TaskName> = Entry<N>['kwargs'];
export type ResultOf<N extends TaskName> = Entry<N>['result'];

export type { TaskProgress };

/**
 * What a process hands its tasks, each feature under its own name, declared the way TaskTypes is:
 *   declare module '../tasks/index.js' { interface TaskResources { thumbnails: ThumbnailSettings } }
 * The composition root builds them from the configuration and gives them to the worker (startWorker's
 * `resources`, a pool child's bootstrap): no module-level state, two runtimes in one process each see their own.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TaskResources {}

export interface TaskContext {
  id: string;
  name: string;
  queue: string;
  /** 1 on the first run, 2 after the first failure retried automatically, … */
  attempt: number;
  /** How many times the task asked to be retried with ctx.retry() so far. */
  retries: number;
  /** Aborted when the task is revoked or the worker shuts down hard. */
  signal: AbortSignal;
  /**
   * `ctx.log('copied %d files', n)` keeps a line with the task (shown on its page in the monitor, at most
   * TASK_LOG_MAX_LINES per run, each cut at TASK_LOG_MAX_LINE_CHARS) and writes it to the worker's log. It is
   * also the worker's logger: ctx.log.info / warn / error keep their line too; debug and trace do not.
   */
  log: TaskLog;
  progress(progress: TaskProgress): Promise<void>;
  /** What this worker's process hands its tasks; an entry is missing where the process has none to give. */
  resources: Partial<TaskResources>;
  /** Celery's `other.delay(*args)` from inside a task: `ctx.delay(other, ...args)` queues it through this worker's own client. */
  delay: TaskCaller['delay'];
  /** Celery's `other.apply_async(...)` from inside a task: `ctx.applyAsync(other, { args, countdown, ... })`, through this worker's client. */
  applyAsync: TaskCaller['applyAsync'];
  /** Ends this run and schedules another after the countdown (Celery's self.retry); counts against maxAttempts unless forced. */
  retry(options?: { countdownSeconds?: number; reason?: string; force?: boolean }): never;
}

export interface TaskOptions {
  /** The queue a call goes to unless the caller names another. */
  queue?: string;
  /** Total runs including the first (1 = never retried). */
  maxAttempts?: number;
  /** Base delay of the exponential backoff between retries, in ms. */
  retryBackoffMs?: number;
  priority?: number;
  /** The task's AbortSignal is aborted with SoftTimeLimitExceeded after this long. */
  softTimeLimitMs?: number;
  /** After this long the task is given up (in the process and thread pools its child is killed). */
  timeLimitMs?: number;
  /** At most this many starts per period across all workers: "10/s", "100/m", "1000/h". */
  rateLimit?: string;
  description?: string;
  /** Validates positional arguments at enqueue time (and drives forms in the admin). */
  argsSchema?: z.ZodType<unknown[]>;
  kwargsSchema?: z.ZodType<Record<string, unknown>>;
}

export type TaskHandler<A extends unknown[] = unknown[], K extends object = Record<string, unknown>, R = unknown> = (
  args: A,
  kwargs: K,
  ctx: TaskContext,
) => Promise<R> | R;

export interface CallOptions {
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  queue?: string;
  /** Seconds from now before the task may run. */
  countdown?: number;
  /** The moment before which the task may not run. */
  eta?: Date;
  /** After this moment (or this many seconds from now) a task that has not started is revoked instead of run. */
  expires?: Date | number;
  /** 1 is the highest. */
  priority?: number;
  /** Enqueuing twice with the same key gives one task (the second call returns the first's id). */
  idempotencyKey?: string;
}

/** A call's arguments and options, typed by the task. */
export type ApplyOptions<A extends unknown[], K extends object> = Omit<CallOptions, 'args' | 'kwargs'> & { args?: A; kwargs?: K };

/**
 * Who queues a call: a task's `ctx` (its worker's client) or a TaskClient. seler keeps no process-wide
 * client: two clients in one process (two Redis key spaces) each enqueue only where they were told to.
 */
export interface TaskCaller {
  /** Celery's `task.delay(*args)`: the task's default options. */
  delay<A extends unknown[], K extends object, R>(task: TaskDefinition<A, K, R>, ...args: A): Promise<{ id: string }>;
  /** Celery's `task.apply_async(args, kwargs, countdown=…)`. */
  applyAsync<A extends unknown[], K extends object, R>(task: TaskDefinition<A, K, R>, options: ApplyOptions<A, K>): Promise<{ id: string }>;
}

/** A TaskCaller over one enqueue function; its methods are own functions, so a task may destructure them. */
export function taskCaller(enqueue: (name: string, options: CallOptions) => Promise<{ id: string }>): TaskCaller {
  return {
    delay: (task, ...args) => enqueue(task.name, { args }),
    applyAsync: (task, options) => enqueue(task.name, options as CallOptions),
  };
}

/**
 * Not a way to enqueue: there is no client the task could know of. Calling it throws, naming what to use:
 * `ctx.delay(task, ...args)` inside a task, `client.delay(task, ...args)` with a TaskClient elsewhere.
 */
type NeedsACaller = (useCtxDelayInsideATaskOrClientDelayElsewhere: never) => never;

export interface TaskDefinition<A extends unknown[] = unknown[], K extends object = Record<string, unknown>, R = unknown> {
  name: string;
  options: TaskOptions & { queue: string; maxAttempts: number; retryBackoffMs: number };
  handler: TaskHandler<A, K, R>;
  /** Throws: queue a call with `ctx.delay(task, ...args)` inside a task, `client.delay(task, ...args)` elsewhere. */
  delay: NeedsACaller;
  /** Throws: queue a call with `ctx.applyAsync(task, {...})` inside a task, `client.applyAsync(task, {...})` elsewhere. */
  applyAsync: NeedsACaller;
}

export const DEFAULT_QUEUE = 'default';

const registry = new Map<string, TaskDefinition>();

function noCaller(name: string, method: 'delay' | 'applyAsync'): NeedsACaller {
  return () => {
    throw new Error(
      `${name}.${method}() has no client to queue through (seler keeps no process-wide client): ` +
        `inside a task call ctx.${method}(task, …), elsewhere client.${method}(task, …) with your TaskClient`,
    );
  };
}

export function defineTask<N extends TaskName>(
  name: N,
  options: TaskOptions,
  handler: TaskHandler<ArgsOf<N>, KwargsOf<N>, ResultOf<N>>,
): TaskDefinition<ArgsOf<N>, KwargsOf<N>, ResultOf<N>>;
export function defineTask<A extends unknown[], K extends object, R>(name: string, options: TaskOptions, handler: TaskHandler<A, K, R>): TaskDefinition<A, K, R>;
export function defineTask(name: string, options: TaskOptions, handler: TaskHandler): TaskDefinition {
  // Dotted names (thumbnails.make) are the convention; the lab's plain names (summary, test) work too.
  if (!/^[A-Za-z_][\w.-]{0,199}$/.test(name)) throw new Error(`task name "${name}" may contain letters, digits, "_", "." and "-", like "thumbnails.make"`);
  if (registry.has(name)) throw new Error(`task "${name}" is defined twice`);
  const definition: TaskDefinition = {
    name,
    options: { maxAttempts: 1, retryBackoffMs: 1000, ...options, queue: options.queue ?? DEFAULT_QUEUE },
    handler,
    delay: noCaller(name, 'delay'),
    applyAsync: noCaller(name, 'applyAsync'),
  };
  registry.set(name, definition);
  return definition;
}

export function getTaskDefinition(name: string): TaskDefinition | undefined {
  return registry.get(name);
}

export function registeredTasks(): TaskDefinition[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Imports task modules named in the configuration; each defines its tasks on import. */
export async function loadTaskModules(paths: string[]): Promise<void> {
  const { pathToFileURL } = await import('node:url');
  for (const modulePath of paths) {
    try {
      await import(pathToFileURL(modulePath).href);
    } catch (err) {
      throw new Error(`cannot load task module ${modulePath}: ${(err as Error).message}`, { cause: err });
    }
  }
}
