// The threads and process pools: each child runs one task at a time (like Celery's prefork). A child
// is killed and replaced on a hard time limit or a terminate, and recycled after a number of tasks or
// past a memory ceiling (Celery's --max-tasks-per-child and --max-memory-per-child).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker as ThreadWorker } from 'node:worker_threads';
import type { Logger } from '../platform/logger.js';
import type { CallOptions } from './define-task.js';
import {
  TimeLimitExceeded,
  WorkerLostError,
  reviveError,
  serializeForTransport,
  type ExecutionHooks,
  type ExecutionRequest,
  type Executor,
} from './execute.js';
import type { ChildMessage, HostOptions, ParentMessage } from './pool-host.js';

export interface PoolOptions {
  kind: 'threads' | 'process';
  size: number;
  /** A module URL exporting bootstrapPoolChild(payload), which loads the tasks inside a child and answers their ctx.resources. */
  bootstrap: string;
  /** Handed to bootstrapPoolChild (the configuration, so a child sees what its parent sees). */
  bootstrapPayload: unknown;
  maxTasksPerChild?: number;
  /** Process pool: the child's RSS; threads pool: the thread's heap. */
  maxMemoryPerChildBytes?: number;
  logger: Logger;
  logLevel: string;
  /** Queues what a child's task asks for with ctx.delay / ctx.applyAsync (the worker's client). */
  enqueue(name: string, options: CallOptions): Promise<{ id: string }>;
}

interface Running {
  request: ExecutionRequest;
  hooks: ExecutionHooks;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

interface Child {
  id: number;
  send(message: ParentMessage): void;
  kill(): void;
  ready: Promise<void>;
  tasksRun: number;
  running?: Running;
  dead: boolean;
}

const fromSource = import.meta.url.endsWith('.ts');
const hostUrl = new URL(`./pool-host${fromSource ? '.ts' : '.js'}`, import.meta.url);
/** Run from source (development, tests), a child needs tsx to load TypeScript. */
const childExecArgv = fromSource ? ['--import', 'tsx'] : [];

export function childPool(options: PoolOptions): Executor {
  const idle: Child[] = [];
  const all = new Set<Child>();
  const waiting: ((child: Child) => void)[] = [];
  let nextId = 1;
  let closed = false;
  let size = options.size;

  function spawnChild(): Child {
    const hostOptions: HostOptions = { bootstrap: options.bootstrap, payload: options.bootstrapPayload, logLevel: options.logLevel };
    let readyResolve!: () => void;
    let readyReject!: (err: Error) => void;
    const child: Child = {
      id: nextId++,
      ready: new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej))),
      tasksRun: 0,
      dead: false,
      send: () => {},
      kill: () => {},
    };
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'ready') return readyResolve();
      if (message.type === 'boot-failed') return readyReject(new Error(`a pool child could not load the tasks: ${message.message}`));
      // Answered even after the task ended: a call it did not wait for still gets its id.
      if (message.type === 'enqueue') return answerEnqueue(child, message.callId, message.name, message.options);
      const running = child.running;
      if (!running || running.request.id !== message.id) return;
      if (message.type === 'progress') return void Promise.resolve(running.hooks.progress(message.progress as never)).catch(() => {});
      if (message.type === 'log') return running.hooks.keepLogLine?.(message.line);
      if (message.type === 'log-dropped') return running.hooks.keepLogDropped?.(message.count);
      finish(child, running, message.type === 'done' ? { ok: true, value: message.result } : { ok: false, error: reviveError(message.error) }, message.memory);
    };
    const onExit = (code: number | null) => {
      if (child.dead) return;
      child.dead = true;
      all.delete(child);
      const index = idle.indexOf(child);
      if (index >= 0) idle.splice(index, 1);
      readyReject(new Error(`a pool child exited during start-up (code ${code})`));
      const running = child.running;
      if (running) finish(child, running, { ok: false, error: new WorkerLostError(`the ${options.kind} pool child running the task exited (code ${code})`) }, 0);
    };

    if (options.kind === 'process') {
      const proc: ChildProcess = fork(fileURLToPath(hostUrl), [], {
        env: { ...process.env, SELER_POOL_HOST: JSON.stringify(hostOptions) },
        execArgv: childExecArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      proc.on('message', onMessage);
      proc.on('exit', onExit);
      child.send = (m) => proc.connected && proc.send(m);
      child.kill = () => proc.kill('SIGKILL');
    } else {
      // A thread does not inherit loader hooks, and --import in a thread's execArgv is not honoured, so a
      // thread run from source registers tsx itself before loading the host.
      const thread = fromSource
        ? new ThreadWorker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(hostUrl.href)}); })`, {
            eval: true,
            workerData: hostOptions,
          })
        : new ThreadWorker(fileURLToPath(hostUrl), { workerData: hostOptions });
      thread.on('message', onMessage);
      thread.on('exit', onExit);
      thread.on('error', (err) => options.logger.error({ err: err.message }, 'pool thread error'));
      child.send = (m) => thread.postMessage(m);
      child.kill = () => void thread.terminate();
    }
    all.add(child);
    return child;
  }

  function answerEnqueue(child: Child, callId: number, name: string, callOptions: CallOptions) {
    options.enqueue(name, callOptions).then(
      ({ id }) => child.send({ type: 'enqueued', callId, id }),
      (err: unknown) => child.send({ type: 'enqueued', callId, error: serializeForTransport(err) }),
    );
  }

  function finish(child: Child, running: Running, outcome: { ok: true; value: unknown } | { ok: false; error: Error }, memory: number) {
    clearTimeout(running.timer);
    child.running = undefined;
    child.tasksRun++;
    if (outcome.ok) running.resolve(outcome.value);
    else running.reject(outcome.error);
    if (child.dead) return;
    const tooMany = options.maxTasksPerChild && child.tasksRun >= options.maxTasksPerChild;
    const tooBig = options.maxMemoryPerChildBytes && memory > options.maxMemoryPerChildBytes;
    if (tooMany || tooBig || closed || all.size > size) {
      options.logger.info({ child: child.id, tasksRun: child.tasksRun, memory, reason: tooMany ? 'max tasks' : tooBig ? 'max memory' : closed ? 'closing' : 'pool shrunk' }, 'recycling a pool child');
      retire(child);
      return;
    }
    release(child);
  }

  function retire(child: Child) {
    child.dead = true;
    all.delete(child);
    child.send({ type: 'exit' });
    setTimeout(() => child.kill(), 2000).unref();
  }

  function release(child: Child) {
    const next = waiting.shift();
    if (next) next(child);
    else idle.push(child);
  }

  async function acquire(): Promise<Child> {
    const child = idle.pop() ?? (all.size < size ? spawnChild() : await new Promise<Child>((resolve) => waiting.push(resolve)));
    await child.ready;
    return child;
  }

  return {
    kind: options.kind,
    async run(request, hooks) {
      const child = await acquire();
      return new Promise((resolve, reject) => {
        const running: Running = { request, hooks, resolve, reject };
        child.running = running;
        if (request.timeLimitMs) {
          running.timer = setTimeout(() => {
            options.logger.warn({ taskId: request.id, child: child.id }, 'hard time limit: killing the pool child');
            killRunning(child, new TimeLimitExceeded(`hard time limit of ${request.timeLimitMs} ms exceeded`));
          }, request.timeLimitMs);
        }
        const onAbort = () => child.running === running && child.send({ type: 'abort', id: request.id, reason: String(hooks.signal.reason ?? 'aborted') });
        hooks.signal.addEventListener('abort', onAbort, { once: true });
        child.send({ type: 'run', request });
      });
    },
    terminate(taskId, reason) {
      for (const child of all) {
        if (child.running?.request.id === taskId) {
          killRunning(child, Object.assign(new Error(reason), { name: 'Terminated', code: 'terminated' }));
          return true;
        }
      }
      return false;
    },
    resize(newSize) {
      size = newSize;
      while (all.size > size && idle.length) retire(idle.pop()!);
      // Busy children beyond the size retire when their task finishes (finish() compares).
    },
    async close() {
      closed = true;
      for (const child of [...idle]) retire(child);
      idle.length = 0;
      // Busy children retire when their task finishes (finish() sees `closed`).
    },
  };

  function killRunning(child: Child, error: Error) {
    const running = child.running;
    child.dead = true;
    all.delete(child);
    child.kill();
    if (running) {
      clearTimeout(running.timer);
      child.running = undefined;
      running.reject(error);
    }
  }
}
