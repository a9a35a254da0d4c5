// A BullMQ worker whose "task finished" write outlasts a Redis failover.
//
// BullMQ retries the write that records a finished task (moveToCompleted / moveToFailed) only when the
// connection reports "closed" or ECONNREFUSED. A Sentinel or Cluster switch answers other things for a
// few seconds: READONLY from a demoted master, MOVED redirections until the slot map settles,
// CLUSTERDOWN, a command timeout. BullMQ then treats the task as having failed: a task that ran fine
// spends an attempt per answer and, in a 3 s failover, ends FAILURE with "Too many Cluster redirections".
// Here such a write is retried until Redis takes it or the task's lock would have run out; after that the
// task is left active, so the stalled check queues it again (at least once), and it is never failed for it.
//
// A failure also carries fields of the caller's own (seler's error) into that same write: BullMQ's script
// sets the job's failedReason and stacktrace as it changes the state, and sets these with them, so no reader
// ever sees the task FAILURE or RETRY without them.
import { setTimeout as sleep } from 'node:timers/promises';
import { isRedisUnavailableError } from '../platform/redis.js';
import type { IQueueBackend, Job, Worker } from './bullmq.js';

/** Thrown in place of the last Redis error when recording a finished task was given up. */
class FinishNotRecorded extends Error {
  override name = 'FinishNotRecorded';
}

export interface DurableFinishOptions {
  /** Stop retrying after this long (keep it under the lock duration: past it another worker may own the task). */
  giveUpAfterMs: number;
  /** Told when Redis first refuses a task's finish write that will be tried again. */
  onFirstRetry?: (job: Job, what: 'completed' | 'failed', err: Error) => void;
  /** Job hash fields written in the same script call that records the failure (failed, or delayed / waiting for a retry). */
  failureFields?: (err: Error) => Record<string, string> | undefined;
}

export function withDurableFinish(Base: typeof Worker, options: DurableFinishOptions): typeof Worker {
  /** BullMQ's own write, as it is; only a refused one goes into the retry loop (a wrapper per task costs more than a no-op task's processor). */
  const retrying = <T>(worker: Worker, job: Job, what: 'completed' | 'failed', write: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + options.giveUpAfterMs;
    return write().catch((err: unknown) => retryAfter(worker, job, what, write, err, deadline));
  };
  const retryAfter = async <T>(worker: Worker, job: Job, what: 'completed' | 'failed', write: () => Promise<T>, firstError: unknown, deadline: number): Promise<T> => {
    let err = firstError;
    for (let attempt = 0; ; attempt++) {
      if (!isRedisUnavailableError(err) || worker.closing) throw err;
      if (Date.now() >= deadline) throw new FinishNotRecorded(`could not record task ${job.id} as ${what}: ${(err as Error).message}`);
      if (attempt === 0) options.onFirstRetry?.(job, what, err as Error);
      await sleep(Math.min(50 * 2 ** attempt, 1000));
      try {
        return await write();
      } catch (next) {
        err = next;
      }
    }
  };

  class DurableFinishWorker extends Base {
    protected override handleCompleted(result: unknown, job: Job, token: string, fetchNext?: () => boolean, span?: unknown): Promise<Job> {
      return retrying(this, job, 'completed', () => super.handleCompleted(result, job, token, fetchNext, span as never));
    }

    protected override async handleFailed(err: Error, job: Job, token: string, fetchNext?: () => boolean, span?: unknown): Promise<Job> {
      // The task did not fail: Redis would not take its result. It stays active for the stalled check.
      if (err instanceof FinishNotRecorded) return undefined as unknown as Job;
      const fields = options.failureFields?.(err);
      if (fields) writeWithFailure(job, fields);
      return retrying(this, job, 'failed', () => super.handleFailed(err, job, token, fetchNext, span as never));
    }
  }
  return DurableFinishWorker as unknown as typeof Worker;
}

/**
 * BullMQ's Job.moveToFailed builds the fields its script sets (failedReason, stacktrace) and hands them to
 * one of three backend calls: moveToFailed, or moveToDelayed / retryJob when it retries. This job's backend
 * adds `fields` to them; every other call goes to the queue's backend unchanged.
 */
function writeWithFailure(job: Job, fields: Record<string, string>): void {
  const holder = job as unknown as { backend: IQueueBackend };
  const backend = holder.backend;
  const withFields = (fieldsToUpdate: Record<string, unknown> | undefined) => ({ ...fieldsToUpdate, ...fields });
  const overrides: Pick<IQueueBackend, 'moveToFailed' | 'moveToDelayed' | 'retryJob'> = {
    moveToFailed: (failed, reason, removeOnFail, token, fetchNext, fieldsToUpdate) =>
      backend.moveToFailed(failed, reason, removeOnFail, token, fetchNext, withFields(fieldsToUpdate)),
    moveToDelayed: (jobId, timestamp, delay, token, opts) =>
      backend.moveToDelayed(jobId, timestamp, delay, token, { ...opts, fieldsToUpdate: withFields(opts?.fieldsToUpdate) }),
    retryJob: (jobId, lifo, token, opts) => backend.retryJob(jobId, lifo, token, { ...opts, fieldsToUpdate: withFields(opts?.fieldsToUpdate) }),
  };
  holder.backend = Object.assign(Object.create(backend) as IQueueBackend, overrides);
}
