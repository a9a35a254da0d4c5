// The queues a task client knows: BullMQ's Queue of each (made on first use), their names (this process's
// and those every process registered in `{prefix}:queues`), and which of them holds a task id.
import { bullmq, type Queue } from './bullmq.js';
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { isRedisUnavailableError, type Keyspace, type Redis } from '../platform/redis.js';
import { bullKey } from './bull-layout.js';
import { DEFAULT_QUEUE } from './define-task.js';
import { isValidTaskId } from './ids.js';
import type { Retention } from './job-shape.js';

export interface TaskQueuesOptions {
  redis: Redis;
  keys: Keyspace;
  retention: Retention;
  eventsMaxLen: number;
  logger: Logger;
  /** Told of each queue this process uses for the first time (the event hub starts reading its stream). */
  onNewQueue(name: string): void;
}

export class TaskQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly known = new Set<string>([DEFAULT_QUEUE]);

  constructor(private readonly options: TaskQueuesOptions) {}

  /** BullMQ's prefix: every queue key starts with `{seler}` so one Redis Cluster slot holds them all. */
  get bullPrefix(): string {
    return this.options.keys.root;
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new (bullmq().Queue)(name, {
        connection: this.options.redis,
        prefix: this.bullPrefix,
        defaultJobOptions: {
          removeOnComplete: { age: this.options.retention.successSeconds },
          removeOnFail: { age: this.options.retention.failureSeconds },
        },
        // BullMQ's event stream of the queue carries seler's sent / started / progress / succeeded events.
        streams: { events: { maxLen: this.options.eventsMaxLen } },
      });
      // A lost connection is reported once for the process (watchRedisConnection), not once per queue and retry.
      queue.on('error', (err) => this.options.logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: errorMessage(err), queue: name }, 'queue error'));
      this.queues.set(name, queue);
      this.known.add(name);
      void this.options.redis.sadd(this.namesKey, name).catch(() => {});
      this.options.onNewQueue(name);
    }
    return queue;
  }

  /** A queue's keys without a BullMQ Queue: reading a task must not load BullMQ (`seler result`). */
  keysOf(name: string): { toKey(type: string): string } {
    return { toKey: (type: string) => bullKey(this.bullPrefix, name, type) };
  }

  /** Every queue name known here or registered by any process. */
  async names(): Promise<string[]> {
    return [...new Set([...this.known, ...(await this.options.redis.smembers(this.namesKey))])];
  }

  /** The queue holding a task, found among the queues seler knows about; undefined for an unknown id. */
  async findQueue(id: string): Promise<string | undefined> {
    if (!isValidTaskId(id)) return undefined;
    const registered = await this.options.redis.smembers(this.namesKey).catch(() => [] as string[]);
    for (const q of registered) this.known.add(q);
    const names = [...this.known];
    const pipeline = this.options.redis.pipeline();
    for (const q of names) pipeline.exists(bullKey(this.bullPrefix, q, id));
    const replies = (await pipeline.exec()) ?? [];
    // A pipeline reports a dead Redis per command instead of rejecting: that is "unavailable", not "no such task".
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    const index = replies.findIndex(([, exists]) => exists === 1);
    return index >= 0 ? names[index] : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    this.queues.clear();
  }

  private get namesKey(): string {
    return this.options.keys.key('queues');
  }
}
