// Workers (online or gone, from heartbeats) and queues (BullMQ counts, throughput, oldest waiting task).
import type { Keyspace, Redis } from '../platform/redis.js';
import { HEARTBEAT_MS, WORKER_GONE_MS, knownQueueNames, queueStats, workerHeartbeats, type TaskClient, type WorkerInfo } from '../tasks/index.js';
import type { QueueView, WorkerView } from './contract.js';
import type { MonKeys } from './keys.js';
import { queueThroughput, readMinutes } from './stats.js';

export type { QueueView, WorkerView } from './contract.js';

/** A worker that stopped (or was lost) is still listed, as gone, for this long. */
export const GONE_KEPT_MS = 3600_000;

type Heartbeat = WorkerInfo;

interface Remembered {
  info: Heartbeat;
  stoppedAt?: number;
}

function view(info: Heartbeat, now: number, gone: { reason: 'stopped' | 'lost'; at: number } | null): WorkerView {
  const until = gone ? Math.min(now, info.heartbeatAt) : now;
  return {
    name: info.name,
    host: info.host,
    pid: info.pid,
    queues: info.queues,
    concurrency: info.concurrency,
    pool: info.pool,
    status: gone ? 'gone' : 'online',
    goneReason: gone?.reason ?? null,
    goneAt: gone ? new Date(gone.at).toISOString() : null,
    active: gone ? 0 : info.active,
    processed: info.processed,
    failed: info.failed,
    startedAt: new Date(info.startedAt).toISOString(),
    lastHeartbeat: new Date(info.heartbeatAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((until - info.startedAt) / 1000)),
    memoryRss: info.rss,
  };
}

/**
 * Reads the heartbeats and remembers them in `mon:workers`, so a worker that shut down cleanly (and
 * removed its heartbeat) is still shown as gone for an hour. The web role runs this every heartbeat
 * period, so even a short-lived worker is seen.
 */
export async function collectWorkers(redis: Redis, keys: Keyspace, mk: MonKeys, now = Date.now()): Promise<WorkerView[]> {
  const [current, remembered] = await Promise.all([workerHeartbeats(redis, keys), redis.hgetall(mk.workers)]);
  const writes = redis.pipeline();
  let dirty = false;
  const views: WorkerView[] = [];
  const seen = new Set<string>();
  for (const info of current) {
    seen.add(info.name);
    const prev = parse(remembered[info.name]);
    if (!prev || prev.stoppedAt || prev.info.heartbeatAt !== info.heartbeatAt) {
      writes.hset(mk.workers, info.name, JSON.stringify({ info } satisfies Remembered));
      dirty = true;
    }
    const online = now - info.heartbeatAt <= WORKER_GONE_MS;
    views.push(view(info, now, online ? null : { reason: 'lost', at: info.heartbeatAt }));
  }
  for (const [name, json] of Object.entries(remembered)) {
    if (seen.has(name)) continue;
    const rec = parse(json);
    if (!rec || now - rec.info.heartbeatAt > GONE_KEPT_MS || (rec.stoppedAt && now - rec.stoppedAt > GONE_KEPT_MS)) {
      writes.hdel(mk.workers, name);
      dirty = true;
      continue;
    }
    if (!rec.stoppedAt) {
      rec.stoppedAt = now;
      writes.hset(mk.workers, name, JSON.stringify(rec));
      dirty = true;
    }
    // Its heartbeat had already stopped before the entry went: it was lost, not stopped.
    const lost = rec.stoppedAt - rec.info.heartbeatAt > WORKER_GONE_MS + HEARTBEAT_MS;
    views.push(view(rec.info, now, lost ? { reason: 'lost', at: rec.info.heartbeatAt } : { reason: 'stopped', at: rec.stoppedAt }));
  }
  if (dirty) await writes.exec();
  return views.sort((a, b) => (a.status === b.status ? a.name.localeCompare(b.name) : a.status === 'online' ? -1 : 1));
}

function parse(json: string | undefined): Remembered | null {
  if (!json) return null;
  try {
    const rec = JSON.parse(json) as Remembered;
    return rec?.info?.name ? rec : null;
  } catch {
    return null;
  }
}

export async function collectQueues(client: TaskClient, mk: MonKeys, workers: WorkerView[], now = Date.now()): Promise<QueueView[]> {
  const names = await knownQueueNames(client);
  const [stats, minutes] = await Promise.all([queueStats(client, names), readMinutes(client.redis, mk, now, 60)]);
  return stats.map((q) => {
    const series = queueThroughput(minutes, q.name);
    const complete = series.slice(0, -1);
    return {
      name: q.name,
      paused: q.paused,
      counts: q.counts,
      oldestWaitingAgeMs: q.oldestWaitingAt === null ? null : Math.max(0, now - q.oldestWaitingAt),
      oldestWaitingSince: q.oldestWaitingAt === null ? null : new Date(q.oldestWaitingAt).toISOString(),
      throughput: {
        lastMinute: complete.at(-1) ?? 0,
        perMinute: Math.round((complete.slice(-5).reduce((s, x) => s + x, 0) / 5) * 10) / 10,
        lastHour: series.reduce((s, x) => s + x, 0),
        series,
      },
      workers: workers.filter((w) => w.status === 'online' && w.queues.includes(q.name)).length,
    };
  });
}
