// Task lifecycle events. The busy part of a task's life (sent, started, progress, succeeded) is read
// from BullMQ's own event stream of each queue, which BullMQ writes inside its scripts anyway; seler's
// stream `{prefix}:events` holds only what BullMQ does not say (revoked with its reason, retried,
// failed with its message, manual actions). A hub reads all of them once per process and fans events
// out to any number of listeners (SSE clients, result waiters).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../platform/logger.js';
import { luaScript } from '../platform/lua.js';
import { createRedis, isRedisUnavailableError, type Keyspace, type Redis, type RedisTarget } from '../platform/redis.js';
import { BULL_EVENT, EVENT_FIELD, JOB_FIELD, QUEUE_KEY, bullKey } from './bull-layout.js';

export const TASK_EVENT_TYPES = ['sent', 'received', 'started', 'progress', 'retried', 'succeeded', 'failed', 'revoked'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export interface TaskEvent {
  /** The entry's id in its stream: a reader resumes after it and misses nothing. */
  streamId?: string;
  /** The queue whose BullMQ stream holds the entry; absent for seler's own stream. */
  stream?: string;
  type: TaskEventType;
  taskId: string;
  name: string;
  queue: string;
  ts: number;
  data?: Record<string, unknown>;
}

export function eventsKey(keys: Keyspace): string {
  return keys.key('events');
}

const APPEND_BATCH = luaScript(import.meta.url, './lua/append-events-1.lua');

/** The shortest time between two writes of the event stream from one process. */
export const EVENT_FLUSH_WINDOW_MS = 5;

/**
 * The writer of seler's own stream. Events go to Redis in batches, one script call each, at most one
 * call per EVENT_FLUSH_WINDOW_MS (one command per event would cost more than a no-op task).
 */
export class EventLog {
  private batch: { fields: string[]; settle?: { resolve(id: string | null): void; reject(err: unknown): void } }[] = [];
  private lastFlushAt = -Infinity;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly maxLen: number,
  ) {}

  /** Resolves with the entry's stream id once its batch is written. */
  append(event: TaskEvent): Promise<string | null> {
    return new Promise((resolve, reject) => this.enqueue(event, { resolve, reject }));
  }

  /** Appends without waiting: events are informative, and losing one must never fail a task. */
  emit(event: TaskEvent): void {
    this.enqueue(event);
  }

  private enqueue(event: TaskEvent, settle?: { resolve(id: string | null): void; reject(err: unknown): void }): void {
    const fields = ['t', event.type, 'id', event.taskId, 'n', event.name, 'q', event.queue, 'ts', String(event.ts)];
    if (event.data) fields.push('d', JSON.stringify(event.data));
    if (this.batch.length === 0) {
      // Right away when the stream is quiet; under load at most one write per window, so a busy
      // worker pays one command for many tasks.
      const wait = this.lastFlushAt + EVENT_FLUSH_WINDOW_MS - performance.now();
      if (wait <= 0) setImmediate(() => void this.flush());
      else setTimeout(() => void this.flush(), wait);
    }
    this.batch.push({ fields, settle });
  }

  /** Writes what is waiting now and waits for a write under way (before the connection closes, or to read one's own events). */
  async drain(): Promise<void> {
    if (this.batch.length) await this.flush().catch(() => {});
    else await this.writing;
  }

  private flush(): Promise<void> {
    this.lastFlushAt = performance.now();
    const batch = this.batch;
    this.batch = [];
    if (!batch.length) return Promise.resolve();
    const args = [String(this.maxLen)];
    for (const { fields } of batch) args.push(String(fields.length), ...fields);
    const written = APPEND_BATCH.run<string[]>(this.redis, [this.key], args).then(
      (ids) => batch.forEach(({ settle }, i) => settle?.resolve(ids[i] ?? null)),
      (err: unknown) => batch.forEach(({ settle }) => settle?.reject(err)),
    );
    this.writing = written.catch(() => {});
    return written;
  }
}

/** Decodes a raw entry of the event stream (`{prefix}:events`); the EventHub and the monitor read it this way. */
export function parseEvent(streamId: string, fields: string[]): TaskEvent {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!;
  return {
    streamId,
    type: map.t as TaskEventType,
    taskId: map.id ?? '',
    name: map.n ?? '',
    queue: map.q ?? '',
    ts: Number(map.ts),
    data: map.d ? (JSON.parse(map.d) as Record<string, unknown>) : undefined,
  };
}

/** BullMQ's event stream of one queue (its prefix is seler's `{prefix}`). */
export function bullEventsKey(bullPrefix: string, queue: string): string {
  return bullKey(bullPrefix, queue, QUEUE_KEY.events);
}

/** A stream the hub and the monitor read: seler's own (no queue) or BullMQ's of one queue. */
export interface EventStreamRef {
  key: string;
  queue?: string;
}

/** BullMQ's events that are task lifecycle events; the rest (waiting, drained, delayed, failed…) seler says itself or not at all. */
const FROM_BULLMQ: Readonly<Record<string, TaskEventType>> = {
  [BULL_EVENT.added]: 'sent',
  [BULL_EVENT.active]: 'started',
  [BULL_EVENT.completed]: 'succeeded',
  [BULL_EVENT.progress]: 'progress',
};

/** Decodes an entry of BullMQ's stream of `queue`; null for events that are not lifecycle events. Name and data come from `enrichEvents`. */
export function parseBullEvent(queue: string, streamId: string, fields: string[]): TaskEvent | null {
  let kind: string | undefined;
  let jobId: string | undefined;
  let name = '';
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    if (fields[i] === EVENT_FIELD.event) kind = value;
    else if (fields[i] === EVENT_FIELD.jobId) jobId = value;
    else if (fields[i] === EVENT_FIELD.name) name = value;
    else if (fields[i] === EVENT_FIELD.data) data = value;
  }
  const type = kind !== undefined ? FROM_BULLMQ[kind] : undefined;
  if (!type || !jobId) return null;
  const event: TaskEvent = { streamId, stream: queue, type, taskId: jobId, name, queue, ts: Number(streamId.slice(0, streamId.indexOf('-'))) };
  if (type === 'progress' && data) {
    try {
      event.data = JSON.parse(data) as Record<string, unknown>;
    } catch {
      /* not JSON: no data */
    }
  }
  return event;
}

/** Decodes an entry of either kind of stream. */
export function parseStreamEntry(stream: EventStreamRef, streamId: string, fields: string[]): TaskEvent | null {
  return stream.queue === undefined ? parseEvent(streamId, fields) : parseBullEvent(stream.queue, streamId, fields);
}

const JOB_FIELDS_FOR_EVENTS = [JOB_FIELD.name, JOB_FIELD.processedBy, JOB_FIELD.attemptsStarted, JOB_FIELD.processedOn, JOB_FIELD.finishedOn, JOB_FIELD.timestamp, JOB_FIELD.delay] as const;

/**
 * Completes events read from BullMQ's streams from their jobs (one pipelined HMGET each): the task
 * name, and the data seler's own events carried — the worker and attempt of a start, the runtime of a
 * success, the ETA of a delayed task. A job already removed leaves the event as it was.
 */
export async function enrichEvents(redis: Redis, bullPrefix: string, events: TaskEvent[]): Promise<void> {
  const fromBull = events.filter((e) => e.stream !== undefined && e.type !== 'progress');
  if (!fromBull.length) return;
  const pipeline = redis.pipeline();
  for (const e of fromBull) pipeline.hmget(bullKey(bullPrefix, e.queue, e.taskId), ...JOB_FIELDS_FOR_EVENTS);
  const replies = (await pipeline.exec()) ?? [];
  fromBull.forEach((e, i) => {
    const [err, values] = replies[i] ?? [];
    if (err || !Array.isArray(values)) return;
    const [name, worker, attemptsStarted, processedOn, finishedOn, created, delay] = values as (string | null)[];
    if (!e.name && name) e.name = name;
    // The job as it is now: read late, a start reports the latest attempt.
    if (e.type === 'started') e.data = { ...(worker ? { worker } : {}), attempt: Math.max(1, Number(attemptsStarted ?? 1)) };
    else if (e.type === 'succeeded' && processedOn && finishedOn) e.data = { runtimeMs: Number(finishedOn) - Number(processedOn) };
    else if (e.type === 'sent' && Number(delay) > 0 && created) e.data = { eta: Number(created) + Number(delay) };
  });
}

/** What an SSE client gets as an event's id (and sends back as Last-Event-ID): the entry id, with the queue for BullMQ's streams. */
export function eventCursor(event: TaskEvent): string | undefined {
  if (!event.streamId) return undefined;
  return event.stream !== undefined ? `${event.streamId}/${event.stream}` : event.streamId;
}

export const EVENT_CURSOR_PATTERN = '^\\d+-\\d+(/[\\w.-]{1,100})?$';

export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  return msA !== msB ? msA - msB : Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1));
}

/** In the order they happened: every stream's ids are Redis's clock. */
function byStreamId(a: TaskEvent, b: TaskEvent): number {
  return compareStreamIds(a.streamId ?? '0-0', b.streamId ?? '0-0');
}

/**
 * Up to `count` events after a cursor (from `eventCursor`; '0-0' for all that is kept), across every
 * stream, in order. From the cursor's millisecond on in every stream: nothing is missed, and an entry
 * of another stream in that same millisecond may come again.
 */
export async function readEventsSince(redis: Redis, bullPrefix: string, streams: EventStreamRef[], cursor: string, count: number): Promise<TaskEvent[]> {
  const [afterId = '0-0', afterQueue] = cursor.split('/');
  const fromMs = afterId.slice(0, afterId.indexOf('-'));
  const pipeline = redis.pipeline();
  for (const s of streams) pipeline.xrange(s.key, `${fromMs}-0`, '+', 'COUNT', count);
  const replies = (await pipeline.exec()) ?? [];
  const events: TaskEvent[] = [];
  streams.forEach((s, i) => {
    const [err, entries] = replies[i] ?? [];
    if (err || !Array.isArray(entries)) return;
    const sameStream = s.queue === afterQueue;
    for (const [id, fields] of entries as [string, string[]][]) {
      if (sameStream && compareStreamIds(id, afterId) <= 0) continue;
      const event = parseStreamEntry(s, id, fields);
      if (event) events.push(event);
    }
  });
  const result = events.sort(byStreamId).slice(0, count);
  await enrichEvents(redis, bullPrefix, result);
  return result;
}

type Listener = (event: TaskEvent) => void;

export interface EventHubSource {
  /** For enriching events and finding queues; the hub opens its own blocking connection from redisTarget. */
  redis: Redis;
  redisTarget: RedisTarget | string;
  bullPrefix: string;
  logger: Logger;
  /** Every stream to read: seler's own and each known queue's. */
  streams(): Promise<EventStreamRef[]>;
}

/** How often the hub looks for queues it does not read yet (a queue a worker elsewhere started). */
const QUEUE_REFRESH_MS = 2000;

/**
 * One blocking XREAD loop per process over every event stream; listeners subscribe per task id or to
 * everything. Events reach listeners in the order they happened; only events someone listens to are
 * completed from their jobs.
 */
export class EventHub {
  private readonly byTask = new Map<string, Set<Listener>>();
  private readonly everything = new Set<Listener>();
  /** Stream key → where the hub has read it up to. */
  private readonly positions = new Map<string, { stream: EventStreamRef; lastId: string }>();
  private connection: Redis | undefined;
  private connectionId: number | undefined;
  private startId = '0-0';
  private refreshedAt = 0;
  private running = false;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly source: EventHubSource) {}

  /** Starts once; a start that failed is forgotten, so the next call tries again. */
  start(): Promise<void> {
    this.starting ??= this.open().catch((err: unknown) => {
      this.starting = undefined;
      this.running = false;
      this.connection?.disconnect();
      throw err;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    this.running = true;
    this.connection = createRedis(this.source.redisTarget, { name: 'seler-events', maxRetriesPerRequest: null });
    // From now on in every stream, including streams found later: Redis's clock orders them all.
    const [seconds, micros] = await this.connection.time();
    this.startId = `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}-0`;
    this.connectionId = Number(await this.connection.client('ID'));
    await this.refreshStreams();
    this.loop = this.run();
  }

  /** Starts reading a queue's stream now (a queue this process just used), without waiting for the next refresh. */
  addQueue(queue: string): void {
    if (!this.running) return;
    const key = bullEventsKey(this.source.bullPrefix, queue);
    if (this.positions.has(key)) return;
    this.positions.set(key, { stream: { key, queue }, lastId: this.startId });
    // Wake the blocked read so the next one includes the new stream.
    if (this.connectionId !== undefined) void this.source.redis.client('UNBLOCK', this.connectionId).catch(() => {});
  }

  private async refreshStreams(): Promise<void> {
    this.refreshedAt = Date.now();
    for (const stream of await this.source.streams()) {
      if (!this.positions.has(stream.key)) this.positions.set(stream.key, { stream, lastId: this.startId });
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (Date.now() - this.refreshedAt > QUEUE_REFRESH_MS) await this.refreshStreams();
        const keys = [...this.positions.keys()];
        const ids = keys.map((k) => this.positions.get(k)!.lastId);
        const reply = (await this.connection!.xread('COUNT', 1000, 'BLOCK', QUEUE_REFRESH_MS, 'STREAMS', ...keys, ...ids)) as [string, [string, string[]][]][] | null;
        if (!reply) continue;
        const events: TaskEvent[] = [];
        for (const [key, entries] of reply) {
          const position = this.positions.get(key)!;
          for (const [id, fields] of entries) {
            position.lastId = id;
            const event = parseStreamEntry(position.stream, id, fields);
            if (event) events.push(event);
          }
        }
        if (reply.length > 1) events.sort(byStreamId);
        const heard = this.everything.size ? events : events.filter((e) => this.byTask.has(e.taskId));
        await enrichEvents(this.source.redis, this.source.bullPrefix, heard);
        for (const event of heard) this.dispatch(event);
      } catch (err) {
        if (!this.running) break;
        // A lost connection is reported once for the process (watchRedisConnection), not every 500 ms.
        this.source.logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: (err as Error).message }, 'event stream read failed; retrying');
        await sleep(500);
      }
    }
  }

  private dispatch(event: TaskEvent): void {
    for (const listener of this.byTask.get(event.taskId) ?? []) safeCall(listener, event);
    for (const listener of this.everything) safeCall(listener, event);
  }

  subscribe(taskId: string | '*', listener: Listener): () => void {
    if (taskId === '*') {
      this.everything.add(listener);
      return () => this.everything.delete(listener);
    }
    let set = this.byTask.get(taskId);
    if (!set) this.byTask.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byTask.delete(taskId);
    };
  }

  async stop(): Promise<void> {
    await Promise.race([this.starting?.catch(() => {}), sleep(1000, undefined, { ref: false })]);
    this.running = false;
    this.connection?.disconnect();
    // A read queued while Redis is down is never settled by ioredis's disconnect(): do not wait for it.
    await Promise.race([this.loop?.catch(() => {}), sleep(1000, undefined, { ref: false })]);
  }
}

function safeCall(listener: Listener, event: TaskEvent): void {
  try {
    listener(event);
  } catch {
    /* a listener's failure must not stop the others */
  }
}
