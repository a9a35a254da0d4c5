// TaskClient: what a process uses to queue, read, wait for and revoke tasks, over the modules that do each
// (task-queues, task-enqueue, task-reader, task-revoker, task-event-feed, canvas). The only place (with
// worker.ts) that speaks BullMQ.
import type { Queue } from './bullmq.js';
import type { Logger } from '../platform/logger.js';
import { parseRedisUrl, type Keyspace, type Redis, type RedisTarget } from '../platform/redis.js';
import { ReplicaAcknowledgement } from '../platform/replica-ack.js';
import { taskCaller, type TaskCaller } from './define-task.js';
import { AsyncResult } from './async-result.js';
import { Canvas } from './canvas.js';
import { EventLog, eventsKey, type EventHub, type EventStreamRef, type TaskEvent } from './events.js';
import type { TaskView } from './contract.js';
import type { EnqueueOptions, PreparedJob, Retention } from './job-shape.js';
import type { TaskOwner } from './owner.js';
import { PublicTaskQueues } from './public-queues.js';
import { TaskEnqueuer, prepareCall } from './task-enqueue.js';
import { TaskEventFeed } from './task-event-feed.js';
import { TaskQueues } from './task-queues.js';
import { TaskReader } from './task-reader.js';
import { TaskRevoker } from './task-revoker.js';

export type { TaskError } from './contract.js';

export type { EnqueueOptions, JobPayload, PreparedJob, Retention } from './job-shape.js';

export type { TaskView };

export { ERROR_FIELD, serializeError } from './stored-error.js';

export interface TaskClientOptions {
  redis: Redis;
  /** For the blocking connection that waits on events (get with a timeout). */
  redisTarget: RedisTarget | string;
  keys: Keyspace;
  retention: Retention;
  eventsMaxLen: number;
  logger: Logger;
}

export class TaskClient implements TaskCaller {
  readonly events: EventLog;
  /** Every write that creates tasks goes through it (Sentinel's waitReplicas). */
  readonly replicaAck: ReplicaAcknowledgement;
  /** Celery's `task.delay(*args)` through this client: `client.delay(add, 2, 2)`. */
  readonly delay: TaskCaller['delay'];
  /** Celery's `task.apply_async(...)` through this client: `client.applyAsync(add, { args: [2, 2], countdown: 60 })`. */
  readonly applyAsync: TaskCaller['applyAsync'];
  private readonly queues: TaskQueues;
  private readonly enqueuer: TaskEnqueuer;
  private readonly reader: TaskReader;
  private readonly revoker: TaskRevoker;
  private readonly feed: TaskEventFeed;
  private canvasInstance: Canvas | undefined;

  constructor(private readonly options: TaskClientOptions) {
    const { redis, keys, logger } = options;
    const target = typeof options.redisTarget === 'string' ? parseRedisUrl(options.redisTarget) : options.redisTarget;
    this.replicaAck = new ReplicaAcknowledgement(redis, target.kind === 'single' ? 0 : target.waitReplicas, keys.root);
    this.events = new EventLog(redis, eventsKey(keys), options.eventsMaxLen);
    const publicQueues = new PublicTaskQueues();
    this.queues = new TaskQueues({ ...options, onNewQueue: (name) => this.feed.queueAdded(name) });
    this.enqueuer = new TaskEnqueuer(this.queues, this.replicaAck, publicQueues);
    this.reader = new TaskReader(redis, keys, this.queues, publicQueues);
    this.revoker = new TaskRevoker({ redis, keys, retention: options.retention, events: this.events, queues: this.queues, reader: this.reader });
    this.feed = new TaskEventFeed({ redis, redisTarget: options.redisTarget, keys, logger, queues: this.queues, getTask: (id) => this.reader.getTask(id) });
    ({ delay: this.delay, applyAsync: this.applyAsync } = taskCaller((name, callOptions) => this.enqueue(name, callOptions)));
  }

  get keys(): Keyspace {
    return this.options.keys;
  }

  get retention(): Retention {
    return this.options.retention;
  }

  get redis(): Redis {
    return this.options.redis;
  }

  /** BullMQ's prefix: every queue key starts with `{seler}` so one Redis Cluster slot holds them all. */
  get bullPrefix(): string {
    return this.queues.bullPrefix;
  }

  queue(name: string): Queue {
    return this.queues.queue(name);
  }

  /** Validates a call and turns it into what BullMQ stores; shared by enqueue and the canvas. */
  prepare(name: string, options: EnqueueOptions = {}): PreparedJob {
    return prepareCall(name, options);
  }

  enqueue(name: string, options: EnqueueOptions = {}): Promise<{ id: string; cancelToken?: string }> {
    return this.enqueuer.enqueue(name, options);
  }

  /** Who owns a task (the job's `owner`), for the public routes' access check; the same cost for an unknown id. */
  taskOwner(id: string): Promise<TaskOwner | undefined> {
    return this.reader.taskOwner(id);
  }

  /** The queue holding a task, found among the queues seler knows about; undefined for an unknown id. */
  findQueue(id: string): Promise<string | undefined> {
    return this.queues.findQueue(id);
  }

  getTask(id: string): Promise<TaskView | null> {
    return this.reader.getTask(id);
  }

  /** A task and its anonymous owner in one snapshot; one round trip when `queue` is given (see TaskReader). */
  readTask(id: string, options: { queue?: string } = {}): Promise<{ view: TaskView; owner?: TaskOwner } | null> {
    return this.reader.readTask(id, options);
  }

  /** Revokes a task, for workers offline now too; a running task has its AbortSignal aborted. */
  revoke(id: string, options: { reason?: string; terminate?: boolean } = {}): Promise<TaskView | null> {
    return this.revoker.revoke(id, options);
  }

  /** Removes a finished task and its result now, instead of waiting for the retention to expire. */
  forget(id: string): Promise<boolean> {
    return this.revoker.forget(id);
  }

  /** Waits on the task's events until it is finished or the timeout passes; null for an unknown id. */
  waitUntilReady(id: string, timeoutMs: number): Promise<TaskView | null> {
    return this.feed.waitUntilReady(id, timeoutMs);
  }

  /** Every event stream: seler's own and BullMQ's of each known queue. */
  eventStreams(): Promise<EventStreamRef[]> {
    return this.feed.eventStreams();
  }

  /** Up to `count` task events after a cursor (an SSE event id; '0-0' for everything kept), in order. */
  readEvents(cursor: string, count: number): Promise<TaskEvent[]> {
    return this.feed.readEvents(cursor, count);
  }

  /** The process's one event hub (started on first use, stopped by close()). */
  eventHub(): Promise<EventHub> {
    return this.feed.eventHub();
  }

  /** chain, group and chord (Celery's canvas). */
  get canvas(): Canvas {
    this.canvasInstance ??= new Canvas(this);
    return this.canvasInstance;
  }

  asyncResult<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this);
  }

  async close(): Promise<void> {
    // Events waiting to be written go out when Redis answers; against a dead Redis closing must not wait.
    if (this.options.redis.status === 'ready') await this.events.drain();
    await this.feed.close();
    await this.canvasInstance?.close();
    await this.queues.close();
  }
}
