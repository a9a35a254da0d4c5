// No-op task throughput and enqueue-to-start latency: seler's task layer next to raw BullMQ on the
// same Redis (a private redis-server unless --redis-url), at worker concurrency 1, 10 and 100.
//   npm run bench -- tasks [--tasks 20000] [--concurrency 1,10,100] [--parallel 100] [--rate 500]
//                          [--redis-url URL] [--log-level warn] [--repeat 3] [--in-process-only] [--monitor]
//                          [--code auto|dist|src]   (auto: the compiled dist/ when it is up to date, as deployed; the worker process is then `seler worker`)
//                          [--only consume,e2e,process,latency]
// Per concurrency and side: consume rate of a pre-filled queue (first processedOn → last finishedOn;
// and the enqueue rate of the fill), end to end (first enqueue → last finishedOn) with the worker in this process and in a process of
// its own, and enqueue-to-start latency (processedOn − timestamp) at a paced rate well below capacity.
// Also Redis commands, Redis CPU and Node CPU per task, from INFO commandstats / INFO cpu diffs, and raw
// BullMQ consuming jobs shaped as seler's (UUID id, args/kwargs payload): what the shape costs BullMQ itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker, type Job } from 'bullmq';
import type { Runtime } from '../src/app.js';
import { ensurePrivateRedis } from '../src/platform/private-redis.js';
import { connectRedis, createRedis, type Redis } from '../src/platform/redis.js';
import { fmt, loadAverage as load, percentile, sleep } from './util.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const DAY = 86_400;
const QUEUE = 'default';

/** raw-true: removeOnComplete true; raw-shaped: jobs shaped as seler's (UUID id, args/kwargs payload, the task's name). */
type Side = 'seler' | 'raw' | 'raw-true' | 'raw-shaped';
type Produce = 'each' | 'bulk' | 'paced';
interface Ctx {
  url: string;
  redis: Redis;
  dataDir: string;
  private: boolean;
  parallel: number;
  batch: number;
  rate: number;
  logLevel: string;
  repeat: number;
  /** Run seler as a deployment does (compiled code; the worker process as `node bin/seler.js worker`) rather than through tsx. */
  cli: boolean;
  seler: SelerModules;
}
/** The parts of seler the bench drives in its own process. */
interface SelerModules {
  openRuntime: (typeof import('../src/app.js'))['openRuntime'];
  startWorkerRole: (typeof import('../src/app.js'))['startWorkerRole'];
  loadConfig: (typeof import('../src/config.js'))['loadConfig'];
  createLogger: (typeof import('../src/platform/logger.js'))['createLogger'];
  silentLogger: (typeof import('../src/platform/logger.js'))['silentLogger'];
}

/**
 * seler as a deployment runs it: the compiled dist/ when it is up to date, else src/ through tsx
 * (whose transform gives every function it creates a name with Object.defineProperty: for the
 * closures a task makes, a cost that compiled code does not have).
 */
async function loadSeler(fromDist: boolean): Promise<SelerModules> {
  const root = fromDist ? '../dist' : '../src';
  const load = (module: string) => import(new URL(`${root}/${module}.js`, import.meta.url).href);
  const [app, config, logger] = await Promise.all([load('app'), load('config'), load('platform/logger')]);
  return { openRuntime: app.openRuntime, startWorkerRole: app.startWorkerRole, loadConfig: config.loadConfig, createLogger: logger.createLogger, silentLogger: logger.silentLogger };
}

interface Sample { created: number; started: number; finished: number }
interface Snapshot { cmds: Map<string, number>; redisCpuUs: number; nodeCpuUs: number }
/** One measured phase: its rate and what it cost per task. */
export interface Phase { n: number; perSecond: number; p50: number; p99: number; cmdsPerTask: Map<string, number>; redisUsPerTask: number; nodeUsPerTask: number }

const pct = (a: number, b: number) => `${Math.round((a / b) * 100)}%`;

function cpuOfPid(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, clock ticks of 10 ms → µs
}

async function snapshot(ctx: Ctx, childPid?: number): Promise<Snapshot> {
  const [stats, cpu] = await Promise.all([ctx.redis.info('commandstats'), ctx.redis.info('cpu')]);
  const cmds = new Map<string, number>();
  for (const m of stats.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) cmds.set(m[1]!, Number(m[2]));
  const num = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  const self = process.cpuUsage();
  return {
    cmds,
    redisCpuUs: (num('used_cpu_user') + num('used_cpu_sys')) * 1e6,
    nodeCpuUs: self.user + self.system + (childPid ? cpuOfPid(childPid) : 0),
  };
}

/** The bench's own commands (polling, snapshots, read-back) are left out of the per-task counts. */
const OWN = new Set(['info', 'zcount', 'hmget', 'hlen', 'flushall', 'client|setname', 'client|setinfo', 'ping', 'config|get', 'scan', 'unlink']);

function phase(n: number, seconds: number, a: Snapshot, b: Snapshot, latencies: number[] = []): Phase {
  const cmdsPerTask = new Map<string, number>();
  for (const [name, calls] of b.cmds) {
    const d = calls - (a.cmds.get(name) ?? 0);
    if (d > 0 && !OWN.has(name)) cmdsPerTask.set(name, d / n);
  }
  latencies.sort((x, y) => x - y);
  return {
    n,
    perSecond: n / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cmdsPerTask,
    redisUsPerTask: (b.redisCpuUs - a.redisCpuUs) / n,
    nodeUsPerTask: (b.nodeCpuUs - a.nodeCpuUs) / n,
  };
}

async function openSeler(ctx: Ctx, prefix: string): Promise<Runtime> {
  const env = { SELER_DATA_DIR: ctx.dataDir, REDIS_URL: ctx.url, SELER_REDIS_PREFIX: prefix, SELER_LOG_LEVEL: ctx.logLevel };
  const { openRuntime, loadConfig, silentLogger, createLogger } = ctx.seler;
  return openRuntime(loadConfig(env, ctx.dataDir), ctx.logLevel === 'silent' ? silentLogger : createLogger(ctx.logLevel));
}

/** True when dist/ was compiled after the last change under src/ (then `bin/seler.js` runs the code we read). */
function compiledIsFresh(): boolean {
  const info = path.join(repoRoot, 'dist', '.tsbuildinfo');
  if (!existsSync(info) || !existsSync(path.join(repoRoot, 'dist', 'main.js'))) return false;
  const newest = (p: string): number =>
    statSync(p).isDirectory()
      ? Math.max(0, ...readdirSync(p).map((e) => newest(path.join(p, e))))
      : /\.test\.ts$/.test(p) ? 0 : statSync(p).mtimeMs;
  return newest(path.join(repoRoot, 'src')) <= statSync(info).mtimeMs;
}

/** A worker in a process of its own: `seler worker` (compiled) or bench/tasks-worker.ts (seler through tsx, or raw BullMQ). */
async function startChild(ctx: Ctx, mode: 'seler' | 'raw', prefix: string, concurrency: number): Promise<ChildProcess> {
  const cli = mode === 'seler' && ctx.cli;
  const args = cli
    ? [path.join(repoRoot, 'bin', 'seler.js'), 'worker', '-Q', QUEUE, '-c', String(concurrency)]
    : ['--import', 'tsx', path.join(benchDir, 'tasks-worker.ts'), '--mode', mode, '--url', ctx.url, '--prefix', prefix, '--concurrency', String(concurrency), '--log-level', ctx.logLevel];
  const child = spawn(process.execPath, args, {
    cwd: cli ? ctx.dataDir : repoRoot,
    env: { ...process.env, SELER_DATA_DIR: ctx.dataDir, REDIS_URL: ctx.url, SELER_REDIS_PREFIX: prefix, SELER_LOG_LEVEL: ctx.logLevel },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  let exited: number | null | undefined;
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 60_000;
  // tasks-worker.ts says "ready"; `seler worker` writes its first heartbeat once it consumes.
  while (!(cli ? (await ctx.redis.hlen(`{${prefix}}:workers`)) > 0 : text.includes('ready\n'))) {
    if (exited !== undefined || Date.now() > deadline) throw new Error(`the ${mode} worker process ${exited !== undefined ? `exited (${exited})` : 'did not start'}: ${text.slice(-500)}`);
    await sleep(20);
  }
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Enqueues n tasks: one by one with `parallel` in flight, in addBulk batches, or paced at `rate`/s. */
async function produce(ctx: Ctx, how: Produce, n: number, add: () => Promise<string>, bulk?: (k: number) => Promise<string[]>): Promise<string[]> {
  const ids: string[] = [];
  if (how === 'bulk') {
    for (let done = 0; done < n; done += ctx.batch) ids.push(...(await bulk!(Math.min(ctx.batch, n - done))));
  } else if (how === 'each') {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(ctx.parallel, n) }, async () => {
        while (next < n) {
          next++;
          ids.push(await add());
        }
      }),
    );
  } else {
    const started = performance.now();
    const pending: Promise<void>[] = [];
    let sent = 0;
    while (sent < n) {
      const due = Math.min(n, Math.floor(((performance.now() - started) / 1000) * ctx.rate) + 1);
      for (; sent < due; sent++) pending.push(add().then((id) => void ids.push(id)));
      await sleep(2);
    }
    await Promise.all(pending);
  }
  return ids;
}

/** Polls the completed set (kept 24 h on both sides) until n jobs are there; fails fast on a failed job. */
async function waitCompleted(ctx: Ctx, root: string, n: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const [done, failed] = await Promise.all([ctx.redis.zcount(`${root}:completed`, '-inf', '+inf'), ctx.redis.zcount(`${root}:failed`, '-inf', '+inf')]);
    if (failed > 0) throw new Error(`${failed} job(s) failed under ${root}`);
    if (done >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${done} of ${n} jobs completed under ${root} within 300 s`);
    await sleep(10);
  }
}

async function readSamples(ctx: Ctx, root: string, ids: string[]): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < ids.length; i += 2000) {
    const pipeline = ctx.redis.pipeline();
    for (const id of ids.slice(i, i + 2000)) pipeline.hmget(`${root}:${id}`, 'timestamp', 'processedOn', 'finishedOn');
    for (const [, reply] of (await pipeline.exec()) ?? []) {
      const [created, started, finished] = (reply as string[]).map(Number);
      samples.push({ created: created!, started: started!, finished: finished! });
    }
  }
  return samples;
}

let runs = 0;

type Measured = Awaited<ReturnType<typeof measure>>;
type MeasureOptions = Parameters<typeof measure>[1];

/** The better run: the highest rate, or for paced runs the lowest p99 (on a shared machine, noise only slows things down). */
function better(o: MeasureOptions, top: Measured | undefined, r: Measured): Measured {
  if (!top) return r;
  return (o.produce === 'paced' ? r.run.p99 < top.run.p99 : r.run.perSecond > top.run.perSecond) ? r : top;
}

/** Best of `repeat` runs. */
async function best(ctx: Ctx, o: MeasureOptions): Promise<Measured> {
  let top: Measured | undefined;
  for (let i = 0; i < ctx.repeat; i++) top = better(o, top, await measure(ctx, o));
  return top!;
}

/** Best of `repeat` runs of seler and of raw BullMQ, taking turns, so that a noisy spell of the machine falls on both sides. */
async function bestPair(ctx: Ctx, o: Omit<MeasureOptions, 'side'>): Promise<{ seler: Measured; raw: Measured }> {
  let seler: Measured | undefined;
  let raw: Measured | undefined;
  for (let i = 0; i < ctx.repeat; i++) {
    seler = better({ ...o, side: 'seler' }, seler, await measure(ctx, { ...o, side: 'seler' }));
    raw = better({ ...o, side: 'raw' }, raw, await measure(ctx, { ...o, side: 'raw' }));
  }
  return { seler: seler!, raw: raw! };
}

/**
 * One run on fresh keys: a producer (seler's TaskClient.enqueue or a raw BullMQ Queue) and a worker
 * (seler's startWorker or a raw BullMQ Worker with a no-op processor), in this process or another.
 * `prefill`: enqueue everything first (measured as the enqueue phase), then start the worker.
 */
async function measure(
  ctx: Ctx,
  o: { side: Side; concurrency: number; n: number; produce: Produce; prefill?: boolean; separate?: boolean },
): Promise<{ enqueue?: Phase; run: Phase }> {
  const prefix = `bench-${o.side}-${++runs}`;
  const root = `{${prefix}}:${QUEUE}`;
  let runtime: Runtime | undefined;
  let queue: Queue | undefined;
  const connections: Redis[] = []; // BullMQ leaves connections it was given open
  const connect = (name: string, blocking = false) => {
    const c = createRedis(ctx.url, { name, ...(blocking ? { maxRetriesPerRequest: null } : {}) });
    connections.push(c);
    return c;
  };
  let add: () => Promise<string>;
  let bulk: ((k: number) => Promise<string[]>) | undefined;
  if (o.side === 'seler') {
    const rt = (runtime = await openSeler(ctx, prefix));
    add = async () => (await rt.client.enqueue('demo.noop')).id;
  } else {
    const removeOnComplete = o.side === 'raw-true' ? true : { age: DAY };
    const q = (queue = new Queue(QUEUE, {
      connection: connect('bench-raw-queue'),
      prefix: `{${prefix}}`,
      defaultJobOptions: { removeOnComplete, removeOnFail: { age: DAY } },
    }));
    await q.waitUntilReady();
    add =
      o.side === 'raw-shaped'
        ? async () => (await q.add('demo.noop', { args: [], kwargs: {} }, { jobId: randomUUID() })).id!
        : async () => (await q.add('noop', {})).id!;
    bulk = async (k) => (await q.addBulk(Array.from({ length: k }, () => ({ name: 'noop', data: {} })))).map((j) => j.id!);
  }

  // The worker, and how to know that n tasks are done and read their timestamps.
  let child: ChildProcess | undefined;
  let stopWorker = async () => {};
  let rawCollect: (() => Promise<Sample[]>) | undefined;
  const startWorker = async () => {
    if (o.separate) {
      child = await startChild(ctx, o.side === 'seler' ? 'seler' : 'raw', prefix, o.concurrency);
      stopWorker = () => stopChild(child!);
    } else if (runtime) {
      const worker = await ctx.seler.startWorkerRole(runtime, { queues: [QUEUE], concurrency: o.concurrency });
      stopWorker = () => worker.close();
    } else {
      const samples: Sample[] = [];
      let finish: () => void;
      const finished = new Promise<void>((r) => (finish = r));
      const worker = new Worker(QUEUE, async () => null, {
        connection: connect('bench-raw-worker', true),
        prefix: `{${prefix}}`,
        concurrency: o.concurrency,
        removeOnComplete: o.side === 'raw-true' ? { count: 0 } : { age: DAY },
        removeOnFail: { age: DAY },
      });
      worker.on('completed', (job: Job) => {
        samples.push({ created: job.timestamp, started: job.processedOn!, finished: job.finishedOn! });
        if (samples.length === o.n) finish();
      });
      worker.on('failed', (_job, err) => process.stderr.write(`raw job failed: ${err.message}\n`));
      await worker.waitUntilReady();
      rawCollect = async () => (await finished, samples);
      stopWorker = async () => {
        await worker.close();
        await worker.disconnect();
      };
    }
  };
  // Waits until every task is done; the timestamps are read afterwards, outside the measured CPU.
  const finish = async (): Promise<() => Promise<Sample[]>> => {
    if (rawCollect) {
      const samples = await rawCollect();
      return async () => samples;
    }
    await waitCompleted(ctx, root, o.n);
    return () => readSamples(ctx, root, ids);
  };
  let ids: string[] = [];

  try {
    let enqueue: Phase | undefined;
    if (!o.prefill) await startWorker();
    const a = await snapshot(ctx, child?.pid);
    const t0 = Date.now();
    ids = await produce(ctx, o.produce, o.n, add, bulk);
    let b = a;
    if (o.prefill) {
      b = await snapshot(ctx);
      enqueue = phase(o.n, (Date.now() - t0) / 1000, a, b);
      await startWorker();
    }
    const read = await finish();
    const c = await snapshot(ctx, child?.pid);
    const samples = await read();
    const end = samples.reduce((m, s) => Math.max(m, s.finished), 0);
    // A pre-filled queue is consumed from the first task's start: the worker's start-up is not throughput.
    const tRun = o.prefill ? samples.reduce((m, s) => Math.min(m, s.started), Infinity) : t0;
    const latencies = o.prefill ? [] : samples.map((s) => s.started - s.created);
    return { enqueue, run: phase(o.n, (end - tRun) / 1000, b, c, latencies) };
  } finally {
    await stopWorker();
    await runtime?.close();
    await queue?.close();
    for (const c of connections) c.disconnect();
    await cleanup(ctx, prefix);
  }
}

async function cleanup(ctx: Ctx, prefix: string): Promise<void> {
  if (ctx.private) {
    await ctx.redis.flushall();
    return;
  }
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await ctx.redis.unlink(...keys);
  } while (cursor !== '0');
}

function costLine(label: string, p: Phase): string {
  const cmds = [...p.cmdsPerTask].sort((x, y) => y[1] - x[1]).filter(([, v]) => v >= 0.01);
  const total = cmds.reduce((s, [, v]) => s + v, 0);
  const list = cmds.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  return `    ${label.padEnd(34)} Redis CPU ${p.redisUsPerTask.toFixed(0).padStart(3)} µs, Node CPU ${p.nodeUsPerTask.toFixed(0).padStart(4)} µs, ${total.toFixed(1)} cmds (incl. inside Lua): ${list}`;
}

/** Client round trips per task by command (MONITOR; Lua-internal calls counted apart). Slows Redis: counts only. */
async function monitorCounts(ctx: Ctx, n: number): Promise<void> {
  for (const side of ['raw', 'seler'] as const) {
    const conn = await connectRedis(ctx.url, { name: 'bench-monitor' });
    const mon = await conn.monitor();
    const client = new Map<string, number>();
    let lua = 0;
    mon.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua') lua++;
      else if (!OWN.has(args[0]!.toLowerCase())) client.set(args[0]!.toLowerCase(), (client.get(args[0]!.toLowerCase()) ?? 0) + 1);
    });
    await measure(ctx, { side, concurrency: 10, n, produce: 'each' });
    await sleep(200);
    mon.disconnect();
    conn.disconnect();
    const total = [...client.values()].reduce((s, v) => s + v, 0);
    const list = [...client].sort((x, y) => y[1] - x[1]).filter(([, v]) => v / n >= 0.005).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ');
    console.log(`  ${side.padEnd(6)} ${(total / n).toFixed(2)} client commands/task (${list}); ${(lua / n).toFixed(1)} calls inside Lua/task`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '1,10,100' },
      parallel: { type: 'string', default: '100' },
      batch: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '500' },
      'latency-seconds': { type: 'string', default: '4' },
      'redis-url': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
      repeat: { type: 'string', default: '3' },
      'in-process-only': { type: 'boolean', default: false },
      code: { type: 'string', default: 'auto' },
      only: { type: 'string', default: 'consume,e2e,process,latency' },
      monitor: { type: 'boolean', default: false },
    },
  });
  const n = Number(values.tasks);
  const levels = values.concurrency.split(',').map(Number);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-tasks-'));
  const server = values['redis-url'] ? undefined : await ensurePrivateRedis(dataDir);
  const url = values['redis-url'] ?? server!.url;
  const redis = await connectRedis(url, { name: 'bench-control' });
  if (!['auto', 'dist', 'src'].includes(values.code!)) throw new Error(`--code must be auto, dist or src, not "${values.code}"`);
  const cli = values.code === 'dist' || (values.code === 'auto' && compiledIsFresh());
  const ctx: Ctx = {
    url,
    redis,
    dataDir,
    private: !!server,
    parallel: Number(values.parallel),
    batch: Number(values.batch),
    rate: Number(values.rate),
    logLevel: values['log-level']!,
    repeat: Number(values.repeat),
    cli,
    seler: await loadSeler(cli),
  };
  const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
  console.log(
    `no-op tasks: ${fmt(n)} per run, best of ${ctx.repeat}; one-by-one enqueues ${ctx.parallel} in flight; worker log level ${ctx.logLevel}; ` +
      `seler: ${ctx.cli ? 'compiled dist/ (worker process: `seler worker`)' : 'src/ through tsx (dist/ missing or older than src/)'}; ` +
      `Redis ${version} at ${server ? 'a private redis-server (unix socket, appendonly everysec)' : url}; node ${process.version}`,
  );
  try {
    if (values.monitor) {
      console.log(`\nRedis commands per task, end to end at concurrency 10 (MONITOR over ${fmt(Math.min(n, 2000))} tasks):`);
      await monitorCounts(ctx, Math.min(n, 2000));
    }
    // Warm-up (not reported): lets the JIT compile both code paths before anything is measured.
    for (const side of ['seler', 'raw'] as const) await measure(ctx, { side, concurrency: 10, n: Math.min(n, 3000), produce: 'each' });
    const rows: string[] = [];
    const enqueueRates: Record<string, number[]> = { seler: [], raw: [], bulk: [] };
    const only = new Set(values.only.split(','));
    if (values['in-process-only']) only.delete('process');
    const cell = (x: string) => x.padStart(13);
    for (const c of levels) {
      console.log(`\n== worker concurrency ${c} (load average ${load()})`);
      const row = (label: string, s: string, r: string, ratio = '') => rows.push(`${String(c).padStart(4)}  ${label.padEnd(40)} ${cell(s)} ${cell(r)} ${ratio.padStart(7)}`);
      const rates = (label: string, s: Phase, r: Phase) => row(label, fmt(s.perSecond), fmt(r.perSecond), pct(s.perSecond, r.perSecond));
      if (only.has('consume')) {
        const { seler: sel, raw } = await bestPair(ctx, { concurrency: c, n, produce: 'each', prefill: true });
        const rawTrue = await best(ctx, { side: 'raw-true', concurrency: c, n, produce: 'bulk', prefill: true });
        const rawShaped = await best(ctx, { side: 'raw-shaped', concurrency: c, n, produce: 'each', prefill: true });
        enqueueRates.seler!.push(sel.enqueue!.perSecond);
        enqueueRates.raw!.push(raw.enqueue!.perSecond);
        enqueueRates.bulk!.push(rawTrue.enqueue!.perSecond);
        console.log(costLine('seler enqueue()', sel.enqueue!));
        console.log(costLine('raw Queue.add()', raw.enqueue!));
        console.log(costLine('seler consume', sel.run));
        console.log(costLine('raw consume', raw.run));
        rates('consume a pre-filled queue (tasks/s)', sel.run, raw.run);
        const us = (p: Phase) => `${p.nodeUsPerTask.toFixed(0)} / ${p.redisUsPerTask.toFixed(0)}`;
        row('  consume CPU µs/task, Node / Redis', us(sel.run), us(raw.run), pct(sel.run.nodeUsPerTask, raw.run.nodeUsPerTask));
        row('  raw, removeOnComplete true: consume', '', fmt(rawTrue.run.perSecond));
        // What seler's job shape costs BullMQ itself: the rest of the gap is seler's own code.
        row("  raw, seler's job shape: consume", fmt(sel.run.perSecond), fmt(rawShaped.run.perSecond), pct(sel.run.perSecond, rawShaped.run.perSecond));
        row("    its CPU µs/task, Node / Redis", us(sel.run), us(rawShaped.run), pct(sel.run.nodeUsPerTask, rawShaped.run.nodeUsPerTask));
      }
      if (only.has('e2e')) {
        const { seler: e2eSel, raw: e2eRaw } = await bestPair(ctx, { concurrency: c, n, produce: 'each' });
        const e2eBulk = await best(ctx, { side: 'raw', concurrency: c, n, produce: 'bulk' });
        console.log(costLine('seler end to end, same process', e2eSel.run));
        console.log(costLine('raw end to end, same process', e2eRaw.run));
        rates('end to end, same process (tasks/s)', e2eSel.run, e2eRaw.run);
        row('  latency p50 / p99 (ms), saturated', `${e2eSel.run.p50} / ${e2eSel.run.p99}`, `${e2eRaw.run.p50} / ${e2eRaw.run.p99}`);
        row('  raw, addBulk end to end', '', fmt(e2eBulk.run.perSecond));
      }
      if (only.has('process')) {
        const { seler: procSel, raw: procRaw } = await bestPair(ctx, { concurrency: c, n, produce: 'each', separate: true });
        console.log(costLine('seler end to end, worker process', procSel.run));
        console.log(costLine('raw end to end, worker process', procRaw.run));
        rates('end to end, worker process (tasks/s)', procSel.run, procRaw.run);
      }
      if (only.has('latency')) {
        const paced = Math.round(ctx.rate * Number(values['latency-seconds']));
        const { seler: latSel, raw: latRaw } = await bestPair(ctx, { concurrency: c, n: paced, produce: 'paced' });
        row(`latency p50 / p99 at ${ctx.rate}/s (ms)`, `${latSel.run.p50} / ${latSel.run.p99}`, `${latRaw.run.p50} / ${latRaw.run.p99}`);
      }
      console.log(`   (load average after: ${load()})`);
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    console.log(`\n   c  ${'measure'.padEnd(40)} ${cell('seler')} ${cell('raw BullMQ')} ${'ratio'.padStart(7)}`);
    for (const r of rows) console.log(r);
    if (enqueueRates.seler!.length) {
      const [es, er, eb] = [mean(enqueueRates.seler!), mean(enqueueRates.raw!), mean(enqueueRates.bulk!)];
      console.log(`      ${`enqueue, one by one, ${ctx.parallel} in flight (tasks/s)`.padEnd(40)} ${cell(fmt(es))} ${cell(fmt(er))} ${pct(es, er).padStart(7)}`);
      console.log(`      ${`  raw, addBulk in batches of ${ctx.batch}`.padEnd(40)} ${cell('')} ${cell(fmt(eb))}`);
    }
    console.log(`load average at the end: ${load()} (2 cores: figures are only comparable within one run)`);
  } finally {
    redis.disconnect();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`bench tasks: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
