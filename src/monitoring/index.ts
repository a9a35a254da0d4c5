// The monitor (Flower's and Bull Board's views, inside the admin): the task index and its indexer,
// worker and queue collectors, the JSON API under /api/v1/monitor, the live event stream, GET /metrics.
// It knows nothing of the admin: the composition root passes the admin's guard and audit log in.
import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { isRedisUnavailableError, type RedisTarget } from '../platform/redis.js';
import { HEARTBEAT_MS, type EventHub, type TaskClient } from '../tasks/index.js';
import { collectWorkers } from './collectors.js';
import type { LiveWorkersEvent } from './contract.js';
import { TaskIndexer, type IndexerOptions } from './indexer.js';
import { monKeys } from './keys.js';
import { registerMetrics, type MetricsAuth } from './metrics.js';
import { registerControlRoutes } from './controls.js';
import { registerJobRoutes } from './jobs-routes.js';
import { registerMonitorRoutes, type MonitorAudit, type MonitorGuard } from './routes.js';

export { TaskIndexer, type IndexerOptions } from './indexer.js';
export { monKeys, TASK_STATES as MONITOR_STATES, type MonKeys, type MonitorState } from './keys.js';
export { listTasks, type ListQuery, type ListResult, type TaskRow } from './store.js';
export { collectWorkers, collectQueues, type WorkerView, type QueueView } from './collectors.js';
export type { MetricsAuth } from './metrics.js';
export type { MonitorGuard, MonitorAudit, MonitorChange, MonitorPermission } from './routes.js';
export type { Actor as MonitorActor, TaskDetail } from './tasks.js';

export interface MonitoringOptions {
  client: TaskClient;
  /** The process's one EventHub: the live stream fans out from it. */
  hub: EventHub;
  redisTarget: RedisTarget | string;
  logger: Logger;
  metrics: MetricsAuth;
  /** The admin's permission check; without it the JSON API is not served (GET /metrics still is, unless its auth is "admin"). */
  guard?: MonitorGuard;
  audit?: MonitorAudit;
  indexer?: Partial<Omit<IndexerOptions, 'redis' | 'redisTarget' | 'client' | 'logger'>>;
  /** Worker heartbeats are remembered this often (so a worker that stops cleanly shows as gone). */
  workersEveryMs?: number;
}

export interface Monitoring {
  indexer: TaskIndexer;
  stop(): Promise<void>;
}

/** Registers the routes (call before listen) and starts the indexer; stop() ends both background loops. */
export async function registerMonitoring(app: FastifyInstance, options: MonitoringOptions): Promise<Monitoring> {
  const { client, logger } = options;
  const keys = monKeys(client.keys);
  registerMetrics(app, { client, keys, auth: options.metrics, guard: options.guard });
  const workerListeners = new Set<(workers: LiveWorkersEvent) => void>();
  const onWorkersChanged = (listener: (workers: LiveWorkersEvent) => void) => {
    workerListeners.add(listener);
    return () => void workerListeners.delete(listener);
  };
  if (options.guard) {
    const audit = options.audit ?? (async () => {});
    registerMonitorRoutes(app, { client, hub: options.hub, keys, guard: options.guard, audit, onWorkersChanged });
    registerControlRoutes(app, { client, redisTarget: options.redisTarget, guard: options.guard, audit });
    registerJobRoutes(app, { client, keys, guard: options.guard, audit });
  }

  const indexer = new TaskIndexer({ redis: client.redis, redisTarget: options.redisTarget, client, logger, ...options.indexer });
  await indexer.start();
  let lastWorkers = '';
  const timer = setInterval(
    () =>
      void collectWorkers(client.redis, client.keys, keys)
        .then((views) => {
          const workers = {
            online: views.filter((w) => w.status === 'online').map((w) => w.name).sort(),
            gone: views.filter((w) => w.status === 'gone').map((w) => w.name).sort(),
          };
          const signature = JSON.stringify(workers);
          if (signature === lastWorkers) return;
          lastWorkers = signature;
          for (const listener of workerListeners) listener(workers);
        })
        .catch((err) => logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ err: errorMessage(err) }, 'monitor: reading worker heartbeats failed')),
    options.workersEveryMs ?? HEARTBEAT_MS,
  );
  timer.unref();
  return {
    indexer,
    async stop() {
      clearInterval(timer);
      await indexer.stop();
    },
  };
}
