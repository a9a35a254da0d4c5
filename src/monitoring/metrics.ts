// GET /metrics in Prometheus' text format (prom-client, on a registry of our own). Task counters and
// runtime histograms come from the index's cluster-wide totals, so every web process reports the same
// numbers (scrape one, or aggregate with max()); HTTP and process metrics are this process's own.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { AppError } from '../platform/errors.js';
import { monitoringError } from './errors.js';
import { knownQueueNames, queueStats, type QueueStats, type TaskClient } from '../tasks/index.js';
import { collectWorkers, type WorkerView } from './collectors.js';
import { RUNTIME_BUCKETS_SECONDS, type MonKeys } from './keys.js';
import type { MonitorGuard } from './routes.js';
import { readRuntimeHistograms, readTotals, stateCounts, type Counts, type RuntimeHistogram } from './stats.js';

export interface MetricsAuth {
  /** none: open; token: `Authorization: Bearer <token>`; admin: the admin's auth with view_task (an admin API token works too). */
  auth: 'none' | 'token' | 'admin';
  token?: string;
}

interface Snapshot {
  totals: Map<string, Counts>;
  runtimes: Map<string, RuntimeHistogram>;
  queues: QueueStats[];
  workers: WorkerView[];
  states: { indexed: number; byState: Record<string, number> };
  now: number;
}

type Value = { labels?: Record<string, string | number>; value: number; metricName?: string };

/** A metric whose values are computed from the scrape's snapshot. */
function snapshotMetric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: (s: Snapshot) => Value[], current: () => Snapshot | undefined): Metric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => {
      const s = current();
      return { name, help, type, aggregator: 'sum', values: s ? values(s) : [] };
    },
  } as unknown as Metric;
}

export function registerMetrics(app: FastifyInstance, deps: { client: TaskClient; keys: MonKeys; auth: MetricsAuth; guard?: MonitorGuard }): Registry {
  const { client, keys: mk, auth } = deps;
  if (auth.auth === 'token' && !auth.token) throw new Error('metrics auth "token" needs a token');
  if (auth.auth === 'admin' && !deps.guard) throw new Error('metrics auth "admin" needs the admin (a database)');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({ name: 'seler_http_requests_total', help: 'HTTP requests answered by this process, by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const httpDuration = new Histogram({
    name: 'seler_http_request_duration_seconds',
    help: 'Time to answer HTTP requests in this process, by route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern (/api/v1/tasks/:id), never the raw URL: label values stay few.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  let snapshot: Snapshot | undefined;
  const current = () => snapshot;
  const add = (m: Metric) => registry.registerMetric(m);
  const perName = (event: keyof Counts) => (s: Snapshot) => [...s.totals].map(([task, c]) => ({ labels: { task }, value: c[event] }));
  add(
    snapshotMetric(
      'seler_tasks_total',
      'Tasks finished, by task name and final state (succeeded, failed, revoked), cluster-wide',
      'counter',
      (s) => [...s.totals].flatMap(([task, c]) => (['succeeded', 'failed', 'revoked'] as const).map((state) => ({ labels: { task, state }, value: c[state] }))),
      current,
    ),
  );
  add(snapshotMetric('seler_tasks_sent_total', 'Tasks enqueued, by task name, cluster-wide', 'counter', perName('sent'), current));
  add(snapshotMetric('seler_task_retries_total', 'Task retries (automatic, asked by the task, or by an operator), by task name, cluster-wide', 'counter', perName('retried'), current));
  add(
    snapshotMetric(
      'seler_task_runtime_seconds',
      'Runtime of successful task runs, by task name, cluster-wide',
      'histogram',
      (s) =>
        [...s.runtimes].flatMap(([task, h]) => {
          let cumulative = 0;
          const buckets = h.buckets.map((n, i) => {
            cumulative += n;
            return { metricName: 'seler_task_runtime_seconds_bucket', labels: { task, le: i < RUNTIME_BUCKETS_SECONDS.length ? RUNTIME_BUCKETS_SECONDS[i]! : '+Inf' }, value: cumulative };
          });
          return [
            ...buckets,
            { metricName: 'seler_task_runtime_seconds_sum', labels: { task }, value: h.sumSeconds },
            { metricName: 'seler_task_runtime_seconds_count', labels: { task }, value: h.count },
          ];
        }),
      current,
    ),
  );
  add(
    snapshotMetric(
      'seler_queue_jobs',
      'Tasks in each queue by BullMQ state (waiting, active, delayed, prioritized, completed, failed, waiting-children)',
      'gauge',
      (s) => s.queues.flatMap((q) => Object.entries(q.counts).map(([state, value]) => ({ labels: { queue: q.name, state: state === 'waitingChildren' ? 'waiting-children' : state }, value }))),
      current,
    ),
  );
  add(
    snapshotMetric(
      'seler_queue_oldest_waiting_seconds',
      'Age of the task at the head of each queue’s wait list (0 when none waits)',
      'gauge',
      (s) => s.queues.map((q) => ({ labels: { queue: q.name }, value: q.oldestWaitingAt === null ? 0 : Math.max(0, (s.now - q.oldestWaitingAt) / 1000) })),
      current,
    ),
  );
  add(snapshotMetric('seler_workers_online', 'Workers with a recent heartbeat', 'gauge', (s) => [{ value: s.workers.filter((w) => w.status === 'online').length }], current));
  add(
    snapshotMetric('seler_worker_active_tasks', 'Tasks running on online workers', 'gauge', (s) => [{ value: s.workers.filter((w) => w.status === 'online').reduce((n, w) => n + w.active, 0) }], current),
  );
  add(
    snapshotMetric('seler_monitor_indexed_tasks', 'Tasks in the monitor’s index, by Celery state', 'gauge', (s) => Object.entries(s.states.byState).map(([state, value]) => ({ labels: { state }, value })), current),
  );

  const tokenDigest = auth.token ? createHash('sha256').update(auth.token).digest() : undefined;
  const authorize = async (request: FastifyRequest) => {
    if (auth.auth === 'admin') return void (await deps.guard!(request, 'view_task'));
    if (auth.auth !== 'token') return;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const given = match ? createHash('sha256').update(match[1]!).digest() : undefined;
    if (!given || !timingSafeEqual(given, tokenDigest!))
      throw match ? monitoringError.invalid_token() : monitoringError.not_authenticated();
  };

  app.get(
    '/metrics',
    {
      config: { produces: { type: 'text/plain', description: 'The Prometheus text format (version 0.0.4)', errors: [401, 403] } },
      schema: { tags: ['metrics'], summary: 'Prometheus metrics: tasks by name and final state, runtime histograms, queue depths, workers online, HTTP requests, process' },
    },
    async (request, reply) => {
      try {
        await authorize(request);
      } catch (err) {
        if (err instanceof AppError && err.status === 401) reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw err;
      }
      const now = Date.now();
      const [totals, runtimes, queues, workers, states] = await Promise.all([
        readTotals(client.redis, mk),
        readRuntimeHistograms(client.redis, mk),
        knownQueueNames(client).then((names) => queueStats(client, names)),
        collectWorkers(client.redis, client.keys, mk, now),
        stateCounts(client.redis, mk),
      ]);
      snapshot = { totals, runtimes, queues, workers, states, now };
      // Every metric's get() is called synchronously here, so a concurrent scrape cannot mix snapshots.
      const text = registry.metrics();
      return reply.type(registry.contentType).send(await text);
    },
  );
  return registry;
}
