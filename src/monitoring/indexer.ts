// The indexer: reads every task event stream (seler's own and BullMQ's of each queue, see tasks/events.ts)
// through the consumer group `mon` on each (each event is indexed once, however many web processes run), applies events to the index with scripts of 500 events, keeps the
// index bounded (retention trimming, stale entries), and reconciles it with BullMQ's finished sets for
// events the capped stream lost. Nothing here runs on a worker's hot path.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { createRedis, isRedisUnavailableError, type Redis, type RedisTarget } from '../platform/redis.js';
import { JOB_FIELDS, QUEUE_KEY, compareStreamIds, enrichEvents, finishedSetKey, jobKeyPrefix, knownQueueNames, parseStreamEntry, type EventStreamRef, type TaskClient, type TaskEvent } from '../tasks/index.js';
import { CONSUMER_GROUP, MINUTES_KEPT_MS, RUNTIME_BUCKETS_SECONDS, monKeys, type MonKeys } from './keys.js';
import { APPLY, BACKFILL, SWEEP, TRIM } from './scripts.js';

type Entry = [id: string, fields: string[] | null];

export interface IndexerOptions {
  /** The shared connection (scripts, maintenance). */
  redis: Redis;
  /** For the indexer's own blocking connection (XREADGROUP). */
  redisTarget: RedisTarget | string;
  client: TaskClient;
  logger: Logger;
  /** Unique per process; default host:pid:random. */
  consumer?: string;
  batch?: number;
  blockMs?: number;
  /** Entries another consumer received but has not acknowledged for this long are taken over. */
  claimIdleMs?: number;
  /** How often trimming, sweeping, claiming and reconciling run (one web process at a time). */
  maintenanceMs?: number;
  /** Reconciling with BullMQ's finished sets stays this far behind now, so events normally arrive first. */
  reconcileLagMs?: number;
  now?: () => number;
}

export class TaskIndexer {
  readonly consumer: string;
  readonly keys: MonKeys;
  private readonly redis: Redis;
  private blocking: Redis | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private maintaining: Promise<unknown> | undefined;
  private readonly now: () => number;
  /** Every stream read, by key; a queue's stream joins when the queue is first seen. */
  private readonly streams = new Map<string, EventStreamRef>();
  private streamsRefreshedAt = 0;
  /** Events applied by this indexer, and tasks it wrote from their jobs when their events were missing (tests, the bench). */
  applied = 0;
  reconciled = 0;

  constructor(private readonly options: IndexerOptions) {
    this.redis = options.redis;
    this.keys = monKeys(options.client.keys);
    this.consumer = options.consumer ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.now = options.now ?? Date.now;
  }

  /** Finds the streams (new queues) and makes sure each has the group. */
  async ensureGroups(): Promise<void> {
    this.streamsRefreshedAt = Date.now();
    for (const stream of await this.options.client.eventStreams()) {
      if (this.streams.has(stream.key)) continue;
      try {
        // From the start of what the stream still holds: a new index picks up recent history.
        await this.redis.xgroup('CREATE', stream.key, CONSUMER_GROUP, '0', 'MKSTREAM');
      } catch (err) {
        if (!errorMessage(err).includes('BUSYGROUP')) throw err;
      }
      this.streams.set(stream.key, stream);
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.ensureGroups();
    this.running = true;
    this.blocking = createRedis(this.options.redisTarget, { name: 'seler-monitor-indexer', maxRetriesPerRequest: null });
    this.loop = this.run();
    const every = this.options.maintenanceMs ?? 10_000;
    this.timer = setInterval(() => {
      if (this.maintaining) return;
      this.maintaining = this.maintain()
        .catch((err) => this.options.logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: errorMessage(err) }, 'monitor index maintenance failed'))
        .finally(() => (this.maintaining = undefined));
    }, every);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const batch = this.options.batch ?? 2000;
    const blockMs = this.options.blockMs ?? 2000;
    while (this.running) {
      try {
        if (Date.now() - this.streamsRefreshedAt > blockMs) await this.ensureGroups();
        const keys = [...this.streams.keys()];
        const reply = (await this.blocking!.xreadgroup('GROUP', CONSUMER_GROUP, this.consumer, 'COUNT', batch, 'BLOCK', blockMs, 'STREAMS', ...keys, ...keys.map(() => '>'))) as
          | [string, Entry[]][]
          | null;
        if (!reply) continue;
        for (const [key, entries] of reply) await this.applyEntries(entries, { stream: this.streams.get(key) });
      } catch (err) {
        if (!this.running) break;
        const message = errorMessage(err);
        if (message.includes('NOGROUP')) {
          // A stream was deleted (and its group with it): create them again.
          this.streams.clear();
          await this.ensureGroups().catch(() => {});
        } else this.options.logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: message }, 'monitor indexer: reading the event stream failed; retrying');
        await sleep(500);
      }
    }
  }

  /** The arguments the apply and backfill scripts share (see their headers): key prefixes, now, retention, buckets. */
  private indexArgs(): (string | number)[] {
    const { client } = this.options;
    return [
      this.keys.prefix,
      jobKeyPrefix(client),
      this.now(),
      client.retention.successSeconds * 1000,
      client.retention.failureSeconds * 1000,
      RUNTIME_BUCKETS_SECONDS.map((s) => s * 1000).join(','),
      MINUTES_KEPT_MS,
    ];
  }

  /**
   * Applies entries of one stream (seler's own unless `stream` says otherwise), each once, acknowledged
   * in the same script; `group: false` applies without the group (rebuilds, benches).
   */
  async applyEntries(entries: Entry[], options: { group?: boolean; stream?: EventStreamRef } = {}): Promise<number> {
    const useGroup = options.group ?? true;
    const stream = options.stream ?? { key: this.keys.events };
    const header = [useGroup ? CONSUMER_GROUP : '', ...this.indexArgs(), JOB_FIELDS.join(',')];
    // Entries trimmed before anyone read them, and BullMQ's entries that are not task events: acknowledged only.
    const skipped: string[] = [];
    const events: TaskEvent[] = [];
    for (const [id, fields] of entries) {
      let event: TaskEvent | null;
      try {
        event = fields ? parseStreamEntry(stream, id, fields) : null;
      } catch {
        event = fields ? parseStreamEntry(stream, id, fields.slice(0, fields.indexOf('d') >= 0 ? fields.indexOf('d') : fields.length)) : null;
      }
      if (event?.taskId) events.push(event);
      else skipped.push(id);
    }
    await enrichEvents(this.redis, jobKeyPrefix(this.options.client), events);
    const calls: Promise<unknown>[] = [];
    // Scripts of 500 events (a few ms of Redis each), sent together: one round trip per read.
    for (let i = 0; i < events.length; i += 500) {
      const args: (string | number)[] = [...header];
      for (const e of events.slice(i, i + 500))
        args.push(e.streamId!, e.type ?? '', e.taskId, e.name, e.queue, Number.isFinite(e.ts) ? e.ts : this.now(), e.data ? JSON.stringify(e.data) : '');
      calls.push(APPLY.run(this.redis, [stream.key], args));
    }
    const applied = (await Promise.all(calls)).reduce((n: number, r) => n + Number(r), 0);
    if (skipped.length && useGroup) await this.redis.xack(stream.key, CONSUMER_GROUP, ...skipped);
    this.applied += applied;
    return applied;
  }

  /** Takes over entries a dead (or stuck) consumer received but never acknowledged. */
  async claimStale(idleMs = this.options.claimIdleMs ?? 30_000): Promise<number> {
    let claimed = 0;
    for (const stream of this.streams.values()) {
      let start = '0-0';
      for (let round = 0; round < 20; round++) {
        const [next, entries, deleted] = (await this.redis.xautoclaim(stream.key, CONSUMER_GROUP, this.consumer, idleMs, start, 'COUNT', 500)) as [
          string,
          Entry[],
          string[]?,
        ];
        if (deleted?.length) await this.redis.xack(stream.key, CONSUMER_GROUP, ...deleted);
        claimed += entries.length;
        await this.applyEntries(entries, { stream });
        if (next === '0-0') break;
        start = next;
      }
    }
    return claimed;
  }

  /**
   * Walks BullMQ's finished sets of every queue from where the last walk stopped up to `reconcileLagMs`
   * ago, writing tasks whose events never reached the index (see BACKFILL). At most `rounds` scripts of
   * 1000 jobs per set and call: a first walk over a large history continues at the next maintenance.
   */
  async reconcile(options: { rounds?: number; lagMs?: number } = {}): Promise<number> {
    const { client } = this.options;
    const to = this.now() - (options.lagMs ?? this.options.reconcileLagMs ?? 30_000);
    const header = this.indexArgs();
    let written = 0;
    for (const queue of await knownQueueNames(client)) {
      for (const [set, state] of [[QUEUE_KEY.completed, 'SUCCESS'], [QUEUE_KEY.failed, 'FAILURE']] as const) {
        const field = `${queue}:${set}`;
        // Jobs past their retention are (or are about to be) removed by BullMQ: not worth indexing.
        const retained = this.now() - (state === 'SUCCESS' ? client.retention.successSeconds : client.retention.failureSeconds) * 1000;
        let from = Math.max(retained, Number((await this.redis.hget(this.keys.reconciled, field)) ?? 0));
        if (from > to) continue;
        for (let round = 0; round < (options.rounds ?? 20); round++) {
          const [n, examined, last] = (await BACKFILL.run(this.redis, [this.keys.sum, finishedSetKey(client, queue, set)], [...header, queue, state, from, to, 1000, JOB_FIELDS.join(',')])) as [number, number, string];
          written += n;
          if (examined < 1000) {
            from = to;
            break;
          }
          // The next walk starts at the last finish time seen (those jobs are skipped: already final).
          from = Number(last) > from ? Number(last) : from + 1;
        }
        await this.redis.hset(this.keys.reconciled, field, String(from));
      }
    }
    this.reconciled += written;
    return written;
  }

  /** Trims finished tasks past their retention, drops stale entries, takes over a dead consumer's entries, reconciles with BullMQ. */
  async maintain(options: { force?: boolean } = {}): Promise<{ trimmed: number; swept: number; claimed: number; reconciled: number }> {
    const result = { trimmed: 0, swept: 0, claimed: 0, reconciled: 0 };
    result.claimed = await this.claimStale();
    const every = this.options.maintenanceMs ?? 10_000;
    const mine = options.force || (await this.redis.set(this.keys.lock, this.consumer, 'PX', Math.max(1000, every - 500), 'NX')) === 'OK';
    if (!mine) return result;
    const now = this.now();
    for (let round = 0; round < 50; round++) {
      const n = Number(await TRIM.run(this.redis, [this.keys.exp], [this.keys.prefix, now, 1000]));
      result.trimmed += n;
      if (n < 1000) break;
    }
    const { successSeconds, failureSeconds } = this.options.client.retention;
    const cutoff = now - Math.max(successSeconds, failureSeconds) * 1000;
    result.swept = Number(await SWEEP.run(this.redis, [this.keys.all], [this.keys.prefix, jobKeyPrefix(this.options.client), cutoff, 500]));
    result.reconciled = await this.reconcile();
    await this.removeIdleConsumers();
    return result;
  }

  /** Consumers of processes gone for an hour, with nothing pending, are removed from the groups. */
  private async removeIdleConsumers(): Promise<void> {
    for (const { key } of this.streams.values()) {
      for (const info of await this.infoRows(['CONSUMERS', key, CONSUMER_GROUP])) {
        if (info.name !== this.consumer && Number(info.pending) === 0 && Number(info.idle) > 3600_000)
          await this.redis.xgroup('DELCONSUMER', key, CONSUMER_GROUP, String(info.name));
      }
    }
  }

  /** XINFO's rows as objects. */
  private async infoRows(args: [string, ...string[]]): Promise<Record<string, string | number>[]> {
    const rows = (await this.redis.call('XINFO', ...args)) as (string | number)[][];
    return rows.map((row) => {
      const info: Record<string, string | number> = {};
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1]!;
      return info;
    });
  }

  /** Resolves once every event appended so far, in every stream, has been applied (tests, the bench). */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    // Events this process raised may still wait for their write window: "now" includes them.
    await this.options.client.events.drain();
    await this.ensureGroups();
    const deadline = Date.now() + timeoutMs;
    for (const { key } of this.streams.values()) {
      for (;;) {
        const [stream, groups] = await Promise.all([this.redis.xrevrange(key, '+', '-', 'COUNT', 1), this.infoRows(['GROUPS', key])]);
        const last = stream[0]?.[0] ?? '0-0';
        const info = groups.find((g) => g.name === CONSUMER_GROUP) ?? {};
        if (Number(info.pending) === 0 && compareStreamIds(String(info['last-delivered-id'] ?? '0-0'), last) >= 0) break;
        if (Date.now() > deadline) throw new Error(`the monitor index did not catch up with ${key} within ${timeoutMs} ms (pending ${info.pending}, at ${info['last-delivered-id']} of ${last})`);
        await sleep(20);
      }
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    this.blocking?.disconnect();
    // A read queued while Redis is down is never settled by ioredis's disconnect(): do not wait for it.
    await Promise.race([this.loop?.catch(() => {}), sleep(1000, undefined, { ref: false })]);
    await Promise.race([this.maintaining?.catch(() => {}), sleep(1000, undefined, { ref: false })]);
    // A read cut short by the disconnect may have left entries delivered to us: apply them now
    // (not against a dead Redis: another indexer claims them later).
    if (this.redis.status !== 'ready') return;
    for (const stream of this.streams.values()) {
      try {
        const pending = (await this.redis.xpending(stream.key, CONSUMER_GROUP, '-', '+', 1000, this.consumer)) as [string, string, number, number][];
        if (pending.length) {
          const entries = (await this.redis.xclaim(stream.key, CONSUMER_GROUP, this.consumer, 0, ...pending.map((p) => p[0]))) as Entry[];
          await this.applyEntries(entries, { stream });
        }
        await this.redis.xgroup('DELCONSUMER', stream.key, CONSUMER_GROUP, this.consumer);
      } catch (err) {
        this.options.logger.warn({ err: errorMessage(err), stream: stream.key }, 'monitor indexer: could not hand over on stop; another indexer will claim its entries');
        if (isRedisUnavailableError(err)) break;
      }
    }
  }
}
