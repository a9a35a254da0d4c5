// What a call becomes: the options of an enqueue and the job BullMQ stores for it (the task client
// makes them, the canvas adds them as flows, the worker reads them).
import type { JobsOptions } from './bullmq.js';
import type { CallOptions } from './define-task.js';
import type { TaskOwner } from './owner.js';

export interface Retention {
  successSeconds: number;
  failureSeconds: number;
}

export interface EnqueueOptions extends CallOptions {
  /** An explicit task id (beat uses deterministic ids). */
  taskId?: string;
  /** The canvas prepends results of earlier tasks, so the schema cannot judge the arguments yet. */
  skipArgsCheck?: boolean;
  /**
   * Set by the server's own upload routes (never from a request): the task belongs to an anonymous
   * uploader, so the public task routes serve it to whoever holds its id, and enqueue returns a
   * cancel token (only its SHA-256 is stored in the job).
   */
  anonymousOwner?: boolean;
}

export interface PreparedJob {
  id: string;
  name: string;
  queue: string;
  payload: JobPayload;
  opts: JobsOptions & { jobId: string };
  /** The secret that lets an anonymous owner cancel the task (anonymousOwner only); never stored. */
  cancelToken?: string;
}

/** What a job carries besides BullMQ's own fields. */
export interface JobPayload {
  args: unknown[];
  kwargs: Record<string, unknown>;
  expiresAt?: number;
  /** Explicit retries requested by the task so far. */
  retries?: number;
  /** Canvas: the results of the tasks this one waited for are prepended to its args (chain: one; chord: a list in this order). */
  receives?: { kind: 'chain' } | { kind: 'chord'; order: string[] };
  /** Who may see and cancel the task without staff permissions (see access.ts); absent: staff only. */
  owner?: TaskOwner;
}
