// A task client's view of the event streams: which streams there are, a page of events after a cursor, the
// process's one EventHub (started on first use), and waiting for a task to finish on its events.
import type { Logger } from '../platform/logger.js';
import type { Keyspace, Redis, RedisTarget } from '../platform/redis.js';
import type { TaskView } from './contract.js';
import { EventHub, bullEventsKey, eventsKey, readEventsSince, type EventStreamRef, type TaskEvent } from './events.js';
import { isReady } from './states.js';
import type { TaskQueues } from './task-queues.js';

export interface TaskEventFeedOptions {
  redis: Redis;
  /** For the hub's blocking connection. */
  redisTarget: RedisTarget | string;
  keys: Keyspace;
  logger: Logger;
  queues: TaskQueues;
  getTask(id: string): Promise<TaskView | null>;
}

export class TaskEventFeed {
  private hub: EventHub | undefined;

  constructor(private readonly options: TaskEventFeedOptions) {}

  /** Every event stream: seler's own and BullMQ's of each known queue. */
  async eventStreams(): Promise<EventStreamRef[]> {
    const { keys, queues } = this.options;
    const names = await queues.names();
    return [{ key: eventsKey(keys) }, ...names.sort().map((queue) => ({ key: bullEventsKey(queues.bullPrefix, queue), queue }))];
  }

  /** Up to `count` task events after a cursor (an SSE event id; '0-0' for everything kept), in order. */
  async readEvents(cursor: string, count: number): Promise<TaskEvent[]> {
    return readEventsSince(this.options.redis, this.options.queues.bullPrefix, await this.eventStreams(), cursor, count);
  }

  /** The process's one event hub (started on first use, stopped by close()). */
  async eventHub(): Promise<EventHub> {
    this.hub ??= new EventHub({
      redis: this.options.redis,
      redisTarget: this.options.redisTarget,
      bullPrefix: this.options.queues.bullPrefix,
      logger: this.options.logger,
      streams: () => this.eventStreams(),
    });
    const hub = this.hub;
    await hub.start();
    return hub;
  }

  /** A queue used here for the first time: a running hub reads its stream too. */
  queueAdded(name: string): void {
    this.hub?.addQueue(name);
  }

  /**
   * Waits until the task is finished (or the timeout passes) by listening to its events, not by polling;
   * resolves to its final view, its view at the timeout, or null for an unknown id.
   */
  async waitUntilReady(id: string, timeoutMs: number): Promise<TaskView | null> {
    const hub = await this.eventHub();
    const { getTask } = this.options;
    return new Promise<TaskView | null>((resolve, reject) => {
      let settled = false;
      const finish = (view: TaskView | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(view);
      };
      const check = () => getTask(id).then((v) => (!v || isReady(v.status)) && finish(v), reject);
      // Subscribe first, then look: an event between the two cannot be missed.
      const unsubscribe = hub.subscribe(id, () => void check());
      const timer = setTimeout(() => void getTask(id).then(finish, reject), timeoutMs);
      void check();
    });
  }

  async close(): Promise<void> {
    await this.hub?.stop();
    this.hub = undefined;
  }
}
