// The monitor with 100,000 retained finished tasks: how fast the task list (its filters, search and
// pagination) and the dashboard answer over HTTP.
//   npm run bench -- monitor [--tasks 100000] [--concurrency 100] [--parallel 200] [--requests 200] [--redis-url URL]
//                            [--events-maxlen N]   (a shorter event stream: the index then loses events and reconciles)
// The tasks are filled the realistic way: real jobs enqueued through seler's TaskClient, run by seler's
// worker in this process (4 task names on 3 queues, 10 % of one name failing), their events indexed by
// the web role's indexer as in production. A private redis-server is used unless --redis-url is given.
// Then the worker stops, and the request kinds are timed in turns (after a warm-up) on the idle system, one request at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createToken, createUser } from '../src/admin/index.js';
import { openRuntime, startWeb, startWorkerRole } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { TaskIndexer, monKeys } from '../src/monitoring/index.js';
import { createLogger } from '../src/platform/logger.js';
import { ensurePrivateRedis } from '../src/platform/private-redis.js';
import { defineTask } from '../src/tasks/index.js';
import { fmt, loadAverage as load, percentile, sleep } from './util.js';

const QUEUES = ['default', 'mail', 'reports'];
defineTask('bench.mail.send', { queue: 'mail' }, ([n, to]: [number, string]) => ({ n, to, accepted: true }));
defineTask('bench.report.build', { queue: 'reports' }, ([n, region]: [number, string]) => ({ n, region, rows: n % 97 }));
defineTask('bench.flaky', { queue: 'default' }, ([n]: [number]) => {
  if (n % 10 === 0) throw new Error(`flaky failure on ${n}`);
  return n;
});

const REGIONS = ['north', 'south', 'east', 'west', 'central'];

/** The n-th call of the fill: its task, arguments and queue. */
function call(n: number): { name: string; args: unknown[] } {
  switch (n % 4) {
    case 0:
      return { name: 'bench.mail.send', args: [n, `customer-${n % 1000}@example.com`] };
    case 1:
      return { name: 'bench.report.build', args: [n, REGIONS[n % REGIONS.length]] };
    case 2:
      return { name: 'bench.flaky', args: [n] };
    default:
      return { name: 'demo.add', args: [n, 1] };
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '100' },
      parallel: { type: 'string', default: '200' },
      requests: { type: 'string', default: '200' },
      'redis-url': { type: 'string' },
      'events-maxlen': { type: 'string' },
    },
  });
  const total = Number(values.tasks);
  const requests = Number(values.requests);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-monitor-'));
  const server = values['redis-url'] ? undefined : await ensurePrivateRedis(dataDir);
  const url = values['redis-url'] ?? server!.url;
  const prefix = `bench-monitor-${process.pid}`;
  const env: Record<string, string> = { SELER_DATA_DIR: dataDir, REDIS_URL: url, SELER_REDIS_PREFIX: prefix, SELER_LOG_LEVEL: 'warn', PORT: '0' };
  if (values['events-maxlen']) env.SELER_EVENTS_MAXLEN = values['events-maxlen'];
  const config = loadConfig(env, dataDir);
  // Fatal only: the failing tenth of bench.flaky would log an error line each.
  const runtime = await openRuntime(config, createLogger('fatal'), { database: true });
  const { redis, client } = runtime;
  const web = await startWeb(runtime, { port: 0, host: '127.0.0.1' });
  const mk = monKeys(client.keys);
  try {
    const user = await createUser(runtime.db!, { username: 'bench', password: null, isStaff: true, isSuperuser: true });
    const { token } = await createToken(runtime.db!, user.id, 'bench');
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    console.log(
      `monitor: ${fmt(total)} tasks through seler's worker (concurrency ${values.concurrency}, ${values.parallel} enqueues in flight); ` +
        `Redis ${version} at ${server ? 'a private redis-server (unix socket)' : url}; node ${process.version}; load ${load()}`,
    );

    // Fill: real jobs, a real worker, the real indexer.
    const worker = await startWorkerRole(runtime, { queues: QUEUES, concurrency: Number(values.concurrency) });
    const t0 = Date.now();
    let next = 0;
    let lastReport = Date.now();
    const finished = async () => {
      const pipeline = redis.pipeline();
      for (const q of QUEUES) pipeline.zcard(`${client.bullPrefix}:${q}:completed`).zcard(`${client.bullPrefix}:${q}:failed`);
      return ((await pipeline.exec()) ?? []).reduce((s, [, n]) => s + Number(n), 0);
    };
    await Promise.all(
      Array.from({ length: Number(values.parallel) }, async () => {
        while (next < total) {
          const n = next++;
          const c = call(n);
          await client.enqueue(c.name, { args: c.args });
          if (Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: enqueued ${fmt(next)}, finished ${fmt(await finished())}, indexed ${fmt(await redis.zcard(mk.all))}`);
          }
        }
      }),
    );
    const enqueuedIn = (Date.now() - t0) / 1000;
    while ((await finished()) < total) {
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: finished ${fmt(await finished())}, indexed ${fmt(await redis.zcard(mk.all))}`);
      }
      await sleep(100);
    }
    const ranIn = (Date.now() - t0) / 1000;
    await worker.close();
    const checker = new TaskIndexer({ redis, redisTarget: runtime.redisTarget, client, logger: runtime.logger });
    await checker.caughtUp(300_000);
    const fromEvents = await redis.zcard(mk.all);
    // What the web role's maintenance does every 10 s (30 s behind): tasks whose events the capped stream lost, from BullMQ.
    let reconciled = 0;
    for (let n = -1; n !== 0; ) reconciled += n = await checker.reconcile({ lagMs: 0, rounds: 100 });
    const indexedIn = (Date.now() - t0) / 1000;
    const [indexed, failures, totals] = await Promise.all([redis.zcard(mk.all), redis.zcard(mk.state('FAILURE')), redis.hgetall(mk.totals)]);
    const counted = (event: string) => Object.entries(totals).reduce((n, [field, v]) => n + (field.startsWith(`${event}|`) ? Number(v) : 0), 0);
    const memoryAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    let indexBytes = 0;
    for (const key of [mk.all, mk.exp, mk.sum, mk.args, ...['SUCCESS', 'FAILURE'].map(mk.state), ...QUEUES.map(mk.queue), ...['bench.mail.send', 'bench.report.build', 'bench.flaky', 'demo.add'].map(mk.name)])
      indexBytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    console.log(
      `filled in ${ranIn.toFixed(1)} s (${fmt(total / ranIn)} tasks/s; enqueue done at ${enqueuedIn.toFixed(1)} s; index caught up at ${indexedIn.toFixed(1)} s): ` +
        `${fmt(indexed)} tasks indexed (${fmt(fromEvents)} seen through events; the reconciler completed ${fmt(reconciled)} from BullMQ), ${fmt(failures)} FAILURE; ` +
        `counted ${fmt(counted('sent'))} sent, ${fmt(counted('succeeded'))} succeeded, ${fmt(counted('failed'))} failed. Redis memory +${fmt((memoryAfter - memoryBefore) / 1048576)} MB in all, ` +
        `of which the monitor index ${fmt(indexBytes / 1048576)} MB (${fmt(indexBytes / indexed)} bytes/task)`,
    );
    if (indexed !== total) console.log(`  WARNING: ${fmt(total - indexed)} tasks are missing from the index`);

    // Queries: a time window covering the middle tenth of the fill, an id, an argument text.
    const [first, last] = await Promise.all([redis.zrange(mk.all, '0', '0', 'WITHSCORES'), redis.zrange(mk.all, '-1', '-1', 'WITHSCORES')]);
    const [start, end] = [Number(first[1]), Number(last[1])];
    const from = Math.round(start + (end - start) * 0.45);
    const to = Math.round(start + (end - start) * 0.55);
    const someId = (await redis.zrange(mk.all, String(Math.floor(indexed / 3)), String(Math.floor(indexed / 3))))[0]!;
    const cases: [string, string][] = [
      ['list, no filter', '/api/v1/monitor/tasks'],
      ['by state (FAILURE)', '/api/v1/monitor/tasks?state=FAILURE'],
      ['by name (bench.mail.send)', '/api/v1/monitor/tasks?name=bench.mail.send'],
      ['by queue (reports)', '/api/v1/monitor/tasks?queue=reports'],
      ['time range (a tenth)', `/api/v1/monitor/tasks?from=${from}&to=${to}`],
      ['page 50 (offset 2,450)', '/api/v1/monitor/tasks?page=50'],
      ['cursor, 2nd page', ''],
      ['state + name (walk)', '/api/v1/monitor/tasks?state=SUCCESS&name=bench.flaky'],
      ['search: exact id', `/api/v1/monitor/tasks?q=${someId}`],
      ['search: args, common', '/api/v1/monitor/tasks?q=south'],
      ['search: args, rare', '/api/v1/monitor/tasks?q=customer-424@'],
      ['dashboard (overview)', '/api/v1/monitor/overview'],
      ['queues', '/api/v1/monitor/queues'],
    ];
    const headers = { authorization: `Bearer ${token}` };
    const get = async (p: string) => {
      const res = await fetch(`${web.url}${p}`, { headers });
      const body = (await res.json()) as { items?: unknown[]; nextCursor?: string; total?: number | null; scan?: { examined: number; truncated: boolean } };
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    };
    cases[6]![1] = `/api/v1/monitor/tasks?cursor=${(await get('/api/v1/monitor/tasks')).nextCursor}`;
    // Let the fill's after-effects pass: Redis rewriting its append-only file, Node collecting the fill's garbage.
    while (/(aof_rewrite|rdb_bgsave)_in_progress:1/.test(await redis.info('persistence'))) await sleep(200);
    await sleep(2000);
    console.log(`\n${requests} sequential requests per kind, the kinds taking turns, after 20 warm-up rounds; limit 50 (ms; load ${load()}):`);
    console.log(`  ${'request'.padEnd(28)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}   answer`);
    const times = cases.map(() => [] as number[]);
    const bodies = new Array<Awaited<ReturnType<typeof get>>>(cases.length);
    for (let round = 0; round < requests + 20; round++) {
      for (const [i, [, p]] of cases.entries()) {
        const t = performance.now();
        bodies[i] = await get(p);
        if (round >= 20) times[i]!.push(performance.now() - t);
      }
    }
    for (const [i, [label]] of cases.entries()) {
      const body = bodies[i]!;
      const sorted = times[i]!.sort((a, b) => a - b);
      const answer = body.items
        ? `${body.items.length} rows, total ${body.total ?? 'n/a'}${body.scan ? `, examined ${fmt(body.scan.examined)}${body.scan.truncated ? ' (bounded)' : ''}` : ''}`
        : '';
      const cell = (x: number) => x.toFixed(1).padStart(7);
      console.log(`  ${label.padEnd(28)} ${cell(percentile(sorted, 50))} ${cell(percentile(sorted, 95))} ${cell(percentile(sorted, 99))} ${cell(sorted.at(-1)!)}   ${answer}`);
    }
    console.log(`load average at the end: ${load()} (2 cores: the client, the server and Redis share them)`);
  } finally {
    await web.close();
    await runtime.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
