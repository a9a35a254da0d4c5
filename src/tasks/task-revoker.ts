// Revoking a task (kept in Redis for workers offline now, broadcast to running ones) and forgetting a finished one.
import { bullmq } from './bullmq.js';
import type { Keyspace, Redis } from '../platform/redis.js';
import type { TaskView } from './contract.js';
import { controlChannel } from './control.js';
import { taskError } from './errors.js';
import type { EventLog } from './events.js';
import type { Retention } from './job-shape.js';
import { isReady } from './states.js';
import type { TaskQueues } from './task-queues.js';
import type { TaskReader } from './task-reader.js';

export interface TaskRevokerDeps {
  redis: Redis;
  keys: Keyspace;
  retention: Retention;
  events: EventLog;
  queues: TaskQueues;
  reader: TaskReader;
}

export class TaskRevoker {
  constructor(private readonly deps: TaskRevokerDeps) {}

  /**
   * Revokes a task. The revoke is kept in Redis (not only broadcast), so it holds for workers
   * that are offline now; a running task has its AbortSignal aborted.
   */
  async revoke(id: string, options: { reason?: string; terminate?: boolean } = {}): Promise<TaskView | null> {
    const { redis, keys } = this.deps;
    const view = await this.deps.reader.getTask(id);
    if (!view) return null;
    if (isReady(view.status)) return view;
    const keepUntil = Date.now() + this.deps.retention.failureSeconds * 1000;
    const reason = options.reason ?? 'revoked by request';
    await redis
      .multi()
      .zadd(keys.key('revoked'), keepUntil, id)
      .zremrangebyscore(keys.key('revoked'), '-inf', Date.now())
      .publish(controlChannel(keys), JSON.stringify({ type: 'revoke', id, reason, terminate: !!options.terminate }))
      .exec();
    this.deps.events.emit({ type: 'revoked', taskId: id, name: view.name, queue: view.queue, ts: Date.now(), data: { reason } });
    return { ...view, status: 'REVOKED', error: { code: 'revoked', message: reason } };
  }

  /** Removes a finished task and its result now, instead of waiting for the retention to expire. */
  async forget(id: string): Promise<boolean> {
    const queueName = await this.deps.queues.findQueue(id);
    if (!queueName) return false;
    const job = await bullmq().Job.fromId(this.deps.queues.queue(queueName), id);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'active') throw taskError.task_running(id);
    await job.remove();
    await this.deps.redis.zrem(this.deps.keys.key('revoked'), id);
    return true;
  }
}
