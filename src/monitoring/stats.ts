// Figures from the index's counters: per-minute series, runtime percentiles per task name, cluster-wide
// totals and the cumulative runtime histogram (for /metrics).
import type { Redis } from '../platform/redis.js';
import { COUNTED_EVENTS, type CountedEvent, type Counts, type MonitorState, type Overview, type RuntimeStats, type Series } from './contract.js';
import { RUNTIME_BUCKETS_SECONDS, TASK_STATES, fineBucketUpperMs, type MonKeys } from './keys.js';

export { COUNTED_EVENTS, type CountedEvent, type Counts, type RuntimeStats, type Series } from './contract.js';

const zero = (): Counts => ({ sent: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0 });

export interface Minute {
  /** Start of the minute (ms). */
  at: number;
  fields: Record<string, string>;
}

/** The last `count` minutes, oldest first, the current (partial) minute last. */
export async function readMinutes(redis: Redis, mk: MonKeys, now: number, count: number): Promise<Minute[]> {
  const current = Math.floor(now / 60_000);
  const pipeline = redis.pipeline();
  for (let m = current - count + 1; m <= current; m++) pipeline.hgetall(mk.minute(m));
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([, fields], i) => ({ at: (current - count + 1 + i) * 60_000, fields: (fields as Record<string, string> | null) ?? {} }));
}

export function seriesOf(minutes: Minute[]): Series {
  const out: Series = { time: [], sent: [], succeeded: [], failed: [], retried: [], revoked: [] };
  for (const m of minutes) {
    out.time.push(m.at / 1000);
    for (const e of COUNTED_EVENTS) out[e].push(Number(m.fields[e] ?? 0));
  }
  return out;
}

/**
 * Runtime percentiles of successful runs per task name over the minutes given, from the per-minute
 * histograms (buckets 19 % wide, linear inside a bucket, never above the largest runtime seen).
 */
export function runtimePercentiles(minutes: Minute[]): RuntimeStats[] {
  const byName = new Map<string, { buckets: Map<number, number>; count: number; sum: number; max: number }>();
  const entry = (name: string) => {
    let e = byName.get(name);
    if (!e) byName.set(name, (e = { buckets: new Map(), count: 0, sum: 0, max: 0 }));
    return e;
  };
  for (const { fields } of minutes) {
    for (const [field, value] of Object.entries(fields)) {
      const kind = field.slice(0, 2);
      if (kind === 'h:') {
        const bar = field.lastIndexOf('|');
        const e = entry(field.slice(2, bar));
        const k = Number(field.slice(bar + 1));
        e.buckets.set(k, (e.buckets.get(k) ?? 0) + Number(value));
      } else if (kind === 'c:') entry(field.slice(2)).count += Number(value);
      else if (kind === 's:') entry(field.slice(2)).sum += Number(value);
      else if (kind === 'x:') {
        const e = entry(field.slice(2));
        e.max = Math.max(e.max, Number(value));
      }
    }
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return [...byName]
    .filter(([, e]) => e.count > 0)
    .map(([name, e]) => {
      const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
      const quantile = (q: number) => {
        const rank = q * e.count;
        let before = 0;
        for (const [k, c] of sorted) {
          if (before + c >= rank) {
            const lower = k <= 0 ? 0 : fineBucketUpperMs(k - 1);
            const upper = fineBucketUpperMs(k);
            return Math.min(e.max, lower + ((upper - lower) * (rank - before)) / c);
          }
          before += c;
        }
        return e.max;
      };
      return {
        name,
        count: e.count,
        meanMs: round(e.sum / e.count),
        p50Ms: round(quantile(0.5)),
        p90Ms: round(quantile(0.9)),
        p95Ms: round(quantile(0.95)),
        p99Ms: round(quantile(0.99)),
        maxMs: e.max,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Tasks a queue finished (succeeded or failed) per minute, over the minutes given. */
export function queueThroughput(minutes: Minute[], queue: string): number[] {
  return minutes.map((m) => Number(m.fields[`d:${queue}`] ?? 0));
}

/** Counts per task name since the index began (the whole cluster's, whichever process asks). */
export async function readTotals(redis: Redis, mk: MonKeys): Promise<Map<string, Counts>> {
  const raw = await redis.hgetall(mk.totals);
  const out = new Map<string, Counts>();
  for (const [field, value] of Object.entries(raw)) {
    const bar = field.indexOf('|');
    const event = field.slice(0, bar) as CountedEvent;
    const name = field.slice(bar + 1);
    if (!COUNTED_EVENTS.includes(event)) continue;
    let counts = out.get(name);
    if (!counts) out.set(name, (counts = zero()));
    counts[event] += Number(value);
  }
  return out;
}

export function sumCounts(totals: Iterable<Counts>): Counts {
  const all = zero();
  for (const c of totals) for (const e of COUNTED_EVENTS) all[e] += c[e];
  return all;
}

export interface RuntimeHistogram {
  /** Per bucket (not cumulative), RUNTIME_BUCKETS_SECONDS then +Inf. */
  buckets: number[];
  count: number;
  sumSeconds: number;
}

/** The cumulative runtime histogram of successful runs per task name. */
export async function readRuntimeHistograms(redis: Redis, mk: MonKeys): Promise<Map<string, RuntimeHistogram>> {
  const raw = await redis.hgetall(mk.rt);
  const out = new Map<string, RuntimeHistogram>();
  for (const [field, value] of Object.entries(raw)) {
    const bar = field.lastIndexOf('|');
    const name = field.slice(0, bar);
    const part = field.slice(bar + 1);
    let h = out.get(name);
    if (!h) out.set(name, (h = { buckets: new Array<number>(RUNTIME_BUCKETS_SECONDS.length + 1).fill(0), count: 0, sumSeconds: 0 }));
    if (part === 'count') h.count = Number(value);
    else if (part === 'ms') h.sumSeconds = Number(value) / 1000;
    else {
      const index = Number(part) - 1;
      if (index >= 0 && index < h.buckets.length) h.buckets[index] = Number(value);
    }
  }
  return out;
}

/** How many indexed tasks are in each state (ZCARD of each state's index). */
export async function stateCounts(redis: Redis, mk: MonKeys): Promise<Overview['tasks']> {
  const pipeline = redis.pipeline();
  pipeline.zcard(mk.all);
  for (const s of TASK_STATES) pipeline.zcard(mk.state(s));
  const replies = (await pipeline.exec()) ?? [];
  const byState = {} as Record<MonitorState, number>;
  TASK_STATES.forEach((s, i) => (byState[s] = Number(replies[i + 1]?.[1] ?? 0)));
  return { indexed: Number(replies[0]?.[1] ?? 0), byState };
}
