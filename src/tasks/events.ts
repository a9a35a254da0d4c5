// Task lifecycle events on one capped Redis stream, and a hub that reads it once per process
// and fans events out to any number of listeners (SSE clients, result waiters).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../platform/logger.js';
import { createRedis, type Keyspace, type Redis } from '../platform/redis.js';

export const TASK_EVENT_TYPES = ['sent', 'received', 'started', 'progress', 'retried', 'succeeded', 'failed', 'revoked'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export interface TaskEvent {
  /** The stream entry id: a reader resumes after it and misses nothing. */
  streamId?: string;
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

/**
 * KEYS[1] the stream; ARGV[1] its approximate MAXLEN; then per entry: the number of field/value
 * items n, followed by those n items. Appends every entry in order and returns their ids.
 */
const APPEND_BATCH_LUA = `
local i = 2
local ids = {}
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return ids`;

/** The shortest time between two writes of the event stream from one process. */
export const EVENT_FLUSH_WINDOW_MS = 5;

type BatchingRedis = Redis & { selerAppendEvents(key: string, ...args: string[]): Promise<string[]> };

/**
 * The event stream's writer. Events go to Redis in batches, one script call each, at most one call
 * per EVENT_FLUSH_WINDOW_MS (a busy worker emits two per task; one command per event cost more than the task).
 */
export class EventLog {
  private batch: { fields: string[]; settle?: { resolve(id: string | null): void; reject(err: unknown): void } }[] = [];
  private readonly redis: BatchingRedis;
  private lastFlushAt = -Infinity;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    redis: Redis,
    private readonly key: string,
    private readonly maxLen: number,
  ) {
    if (!('selerAppendEvents' in redis)) redis.defineCommand('selerAppendEvents', { numberOfKeys: 1, lua: APPEND_BATCH_LUA });
    this.redis = redis as BatchingRedis;
  }

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
    const written = this.redis.selerAppendEvents(this.key, ...args).then(
      (ids) => batch.forEach(({ settle }, i) => settle?.resolve(ids[i] ?? null)),
      (err: unknown) => batch.forEach(({ settle }) => settle?.reject(err)),
    );
    this.writing = written.catch(() => {});
    return written;
  }

  async range(fromExclusive: string, count: number): Promise<TaskEvent[]> {
    const entries = await this.redis.xrange(this.key, `(${fromExclusive}`, '+', 'COUNT', count);
    return entries.map(([id, fields]) => parseEvent(id, fields));
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

type Listener = (event: TaskEvent) => void;

/** One blocking XREAD loop per process; listeners subscribe per task id or to everything. */
export class EventHub {
  private readonly byTask = new Map<string, Set<Listener>>();
  private readonly everything = new Set<Listener>();
  private client: Redis | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  lastId = '$';

  constructor(
    private readonly redisUrl: string,
    private readonly key: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.client = createRedis(this.redisUrl, { name: 'seler-events', maxRetriesPerRequest: null });
    // Start from the current end so a resumed loop (after a Redis restart) continues from the last id seen.
    const last = await this.client.xrevrange(this.key, '+', '-', 'COUNT', 1);
    this.lastId = last[0]?.[0] ?? '0-0';
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const reply = (await this.client!.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', this.key, this.lastId)) as
          | [string, [string, string[]][]][]
          | null;
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            this.dispatch(parseEvent(id, fields));
          }
        }
      } catch (err) {
        if (!this.running) break;
        this.logger.warn({ err: (err as Error).message }, 'event stream read failed; retrying');
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
    this.running = false;
    this.client?.disconnect();
    await this.loop?.catch(() => {});
  }
}

function safeCall(listener: Listener, event: TaskEvent): void {
  try {
    listener(event);
  } catch {
    /* a listener's failure must not stop the others */
  }
}
