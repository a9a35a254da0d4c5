// The monitor's keys: a small index of tasks kept beside BullMQ's own sets, all under `{prefix}:mon:`.
//
//   mon:all                zset  task id → time it was enqueued (ms): every indexed task
//   mon:state:<STATE>      zset  the same, per Celery state (PENDING STARTED PROGRESS RETRY SUCCESS FAILURE REVOKED)
//   mon:name:<task name>   zset  the same, per task name
//   mon:queue:<queue>      zset  the same, per queue
//   mon:exp                zset  finished task id → when it leaves the index (finish time + retention of its state)
//   mon:sum                hash  task id → JSON summary (see TaskSummary in index-store.ts)
//   mon:args               hash  task id → the first 300 characters of the job's data JSON (args, kwargs): listed and searched
//   mon:names, mon:queues  zset  task names / queues seen → last seen (ms), for filter choices
//   mon:m:<minute>         hash  per-minute counters and runtime histograms (expire after 2 h)
//   mon:totals             hash  `<event>|<task name>` → count since the index began (cluster-wide counters)
//   mon:rt                 hash  `<task name>|<bucket>`, `|count`, `|ms` → cumulative runtime histogram (Prometheus)
//   mon:workers            hash  worker name → last heartbeat seen, and when it stopped
//   mon:lock               string  which web process runs the periodic trimming now
//   mon:reconciled         hash  `<queue>:completed|failed` → finish time up to which BullMQ's finished sets were reconciled
// The indexer reads `{prefix}:events` through the consumer group `mon`.
import type { Keyspace } from '../platform/redis.js';

export { TASK_STATES } from '../tasks/contract.js';
export type { MonitorState } from './contract.js';

export const CONSUMER_GROUP = 'mon';

export function monKeys(keys: Keyspace) {
  const base = keys.key('mon');
  const k = (...parts: string[]) => [base, ...parts].join(':');
  return {
    /** `{prefix}:mon:`, for keys the scripts build themselves. */
    prefix: `${base}:`,
    events: keys.key('events'),
    all: k('all'),
    state: (state: string) => k('state', state),
    name: (name: string) => k('name', name),
    queue: (queue: string) => k('queue', queue),
    exp: k('exp'),
    sum: k('sum'),
    args: k('args'),
    names: k('names'),
    queues: k('queues'),
    minute: (minute: number) => k('m', String(minute)),
    totals: k('totals'),
    rt: k('rt'),
    workers: k('workers'),
    lock: k('lock'),
    reconciled: k('reconciled'),
  };
}
export type MonKeys = ReturnType<typeof monKeys>;

/** Upper bounds (seconds) of the Prometheus runtime histogram's buckets; +Inf follows. */
export const RUNTIME_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The per-minute histograms use finer buckets: bucket k holds runtimes in (2^((k-1)/4), 2^(k/4)] ms (k = 0: ≤ 1 ms). */
export function fineBucketUpperMs(k: number): number {
  return 2 ** (k / 4);
}

/** Per-minute data is kept this long (the dashboard shows at most the last hour). */
export const MINUTES_KEPT_MS = 2 * 3600_000;
