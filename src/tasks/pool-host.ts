// The program inside a pool child (a child process or a worker thread): it loads the tasks through the
// bootstrap module its parent names, then runs one task at a time on request.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../platform/logger.js';
import { taskCaller, type CallOptions, type TaskResources } from './define-task.js';
import { reviveError, runInProcess, serializeForTransport, type ExecutionRequest, type SerializedError, type TaskServices } from './execute.js';
import { TASK_LOG_MAX_LINES } from './task-log.js';

export type ParentMessage =
  | { type: 'run'; request: ExecutionRequest }
  | { type: 'abort'; id: string; reason: string }
  | { type: 'enqueued'; callId: number; id?: string; error?: SerializedError }
  | { type: 'exit' };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'progress'; id: string; progress: Record<string, unknown> }
  | { type: 'log'; id: string; line: string }
  | { type: 'log-dropped'; id: string; count: number }
  | { type: 'enqueue'; callId: number; name: string; options: CallOptions }
  | { type: 'done'; id: string; result: unknown; memory: number }
  | { type: 'failed'; id: string; error: ReturnType<typeof serializeForTransport>; memory: number }
  | { type: 'boot-failed'; message: string };

export interface HostOptions {
  bootstrap: string;
  payload: unknown;
  logLevel: string;
}

/** ctx.delay in a child: the parent queues the call through its worker's client and answers with the id. */
const pendingCalls = new Map<number, { resolve(value: { id: string }): void; reject(err: Error): void }>();
let nextCallId = 1;
const caller = taskCaller(
  (name, callOptions) =>
    new Promise((resolve, reject) => {
      const callId = nextCallId++;
      pendingCalls.set(callId, { resolve, reject });
      try {
        send({ type: 'enqueue', callId, name, options: callOptions });
      } catch (err) {
        // Arguments that cannot cross to the parent (a function, a socket) refuse the call here.
        pendingCalls.delete(callId);
        reject(err as Error);
      }
    }),
);

/** The tasks' ctx.resources (what the bootstrap module answered) and caller in this child. */
const services: TaskServices = { resources: {}, caller };

const send = (message: ChildMessage): void => {
  if (isMainThread) process.send!(message);
  else parentPort!.postMessage(message);
};
const options: HostOptions = isMainThread ? JSON.parse(process.env.SELER_POOL_HOST ?? '{}') : workerData;
// The format is the parent's (SELER_LOG_FORMAT, which the parent sets for its children).
const log = createLogger(options.logLevel ?? 'info', { role: 'pool-child' });
const controllers = new Map<string, AbortController>();

/** Threads share the process's RSS, so a thread is measured by its own heap. */
const memory = () => (isMainThread ? process.memoryUsage().rss : process.memoryUsage().heapUsed);

async function handle(message: ParentMessage): Promise<void> {
  if (message.type === 'exit') {
    if (isMainThread) process.exit(0);
    else parentPort!.close();
    return;
  }
  if (message.type === 'abort') {
    controllers.get(message.id)?.abort(new Error(message.reason));
    return;
  }
  if (message.type === 'enqueued') {
    const call = pendingCalls.get(message.callId);
    pendingCalls.delete(message.callId);
    if (message.error) call?.reject(reviveError(message.error));
    else call?.resolve({ id: message.id! });
    return;
  }
  const { request } = message;
  const controller = new AbortController();
  controllers.set(request.id, controller);
  // The cap applies here too, so a chatty task does not cost a message per line past it.
  let logLines = 0;
  let logDropped = 0;
  const keepLogLine = (line: string) => {
    if (logLines++ < TASK_LOG_MAX_LINES) send({ type: 'log', id: request.id, line });
    else logDropped++;
  };
  const flushLog = () => logDropped && send({ type: 'log-dropped', id: request.id, count: logDropped });
  try {
    const result = await runInProcess(request, {
      signal: controller.signal,
      log: log.child({ taskId: request.id, task: request.name }),
      progress: (progress) => send({ type: 'progress', id: request.id, progress }),
      // The parent keeps the lines with the job; messages arrive in order, before 'done'.
      keepLogLine,
    }, services);
    flushLog();
    send({ type: 'done', id: request.id, result, memory: memory() });
  } catch (err) {
    flushLog();
    send({ type: 'failed', id: request.id, error: serializeForTransport(err), memory: memory() });
  } finally {
    controllers.delete(request.id);
  }
}

try {
  const bootstrap = (await import(options.bootstrap)) as { bootstrapPoolChild(payload: unknown): Promise<Partial<TaskResources> | void> };
  services.resources = (await bootstrap.bootstrapPoolChild(options.payload)) ?? {};
  const onMessage = (message: ParentMessage) => void handle(message);
  if (isMainThread) {
    process.on('message', onMessage);
    process.on('disconnect', () => process.exit(0)); // the parent is gone: never outlive it
  } else {
    parentPort!.on('message', onMessage);
  }
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'boot-failed', message: (err as Error).message });
}
