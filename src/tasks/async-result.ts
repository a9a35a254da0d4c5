// Celery's AsyncResult: a handle on one task id.
import { taskError } from './errors.js';
import type { TaskView } from './contract.js';
import { isReady, type TaskState } from './states.js';

export class TaskFailedError extends Error {
  override name = 'TaskFailedError';
  readonly code: string;
  constructor(readonly view: TaskView) {
    super(`task ${view.id} (${view.name}) ended ${view.status}: ${view.error?.message ?? 'no message'}`);
    this.code = view.error?.code ?? view.status.toLowerCase();
  }
}

/** What a result handle uses of the task client (its TaskClient, described here so neither module needs the other to load). */
export interface ResultClient {
  getTask(id: string): Promise<TaskView | null>;
  waitUntilReady(id: string, timeoutMs: number): Promise<TaskView | null>;
  forget(id: string): Promise<boolean>;
}

export class AsyncResult<R = unknown> {
  constructor(
    readonly id: string,
    private readonly client: ResultClient,
  ) {}

  /** The Celery state, or undefined for an id that never existed or has expired (Celery would say PENDING). */
  async state(): Promise<TaskState | undefined> {
    return (await this.client.getTask(this.id))?.status;
  }

  async ready(): Promise<boolean> {
    const state = await this.state();
    return state !== undefined && isReady(state);
  }

  /** Waits on the task's events (no polling) and returns its result; a failure or revoke throws TaskFailedError. */
  async get(options: { timeoutSeconds?: number; propagate?: boolean } = {}): Promise<R> {
    const timeoutSeconds = options.timeoutSeconds ?? 30;
    const view = await this.client.waitUntilReady(this.id, timeoutSeconds * 1000);
    if (!view) throw taskError.task_not_found(this.id);
    if (!isReady(view.status)) throw taskError.timeout(this.id, view.status, timeoutSeconds);
    if (view.status !== 'SUCCESS' && options.propagate !== false) throw new TaskFailedError(view);
    return view.result as R;
  }

  forget(): Promise<boolean> {
    return this.client.forget(this.id);
  }
}
