// Beat lateness and duplicates: 1 and then 3 beat processes (bench/beat-runner.ts) share one
// database and a private Redis; one periodic task fires every second for --seconds (60) each.
//   npm run bench -- beat [--seconds 60] [--dialect sqlite|postgres|both] [--beats 1,3]
// Lateness = when the enqueue call returned (Redis acknowledged the job) − the tick's due time; also
// shown by BullMQ's job timestamp (set as the job is built, before the round trip). Duplicates = enqueue calls for a
// tick beyond the first, across all processes; missed = ticks in the window never enqueued.
// PostgreSQL: a fresh database on SELER_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { PeriodicTasks, notifyScheduleChanged } from '../src/beat/index.js';
import type { Dialect } from '../src/platform/db/index.js';
import { ensurePrivateRedis } from '../src/platform/private-redis.js';
import { silentLogger } from '../src/platform/logger.js';
import { connectRedis, keyspace, type Redis } from '../src/platform/redis.js';
import { TaskClient } from '../src/tasks/index.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { repoRoot } from '../test/helpers/cli.js';
import { loadAverage, percentile, sleep } from './util.js';

interface Call {
  taskId: string;
  /** When the enqueue call returned. */
  at: number;
  pid: number;
}

export interface BeatBenchResult {
  dialect: Dialect;
  beats: number;
  ticks: number;
  p50: number;
  p99: number;
  max: number;
  /** The same measured with BullMQ's job timestamp (taken when the job is built, before the Redis round trip). */
  jobP50: number;
  jobP99: number;
  jobMax: number;
  duplicates: number;
  missed: number;
  /** Ticks enqueued by each process. */
  perProcess: number[];
}

function spawnBeat(env: Record<string, string>, calls: Call[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'beat-runner.ts')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SELER_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => code && reject(new Error(`a beat process exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { ready?: number; taskId?: string; at?: number };
      if (msg.ready) resolve(child);
      else calls.push({ taskId: msg.taskId!, at: msg.at!, pid: child.pid! });
    });
  });
}

async function runOnce(db: TestDatabase, redis: Redis, redisUrl: string, beats: number, seconds: number): Promise<BeatBenchResult> {
  const prefix = `bench-beat-${beats}-${Date.now()}`;
  const keys = keyspace(prefix);
  const calls: Call[] = [];
  const children = await Promise.all(
    Array.from({ length: beats }, () => spawnBeat({ DATABASE_URL: db.url, REDIS_URL: redisUrl, SELER_REDIS_PREFIX: prefix }, calls)),
  );
  try {
    const tasks = new PeriodicTasks(db.db);
    const task = await tasks.create({ name: `bench ${beats} beats ${prefix}`, task: 'demo.noop', queue: 'bench-beat', schedule: { interval: { every: 1, period: 'seconds' } } });
    await notifyScheduleChanged(redis, keys);
    const from = Date.now() + 2000; // after the first ticks (cold caches, first connections)
    await sleep(seconds * 1000 + 2500);
    const to = Date.now() - 500;
    await tasks.setEnabled([task.id], false);

    const mine = calls.filter((c) => c.taskId.startsWith(`beat-${task.id}-`));
    // Run ids are HMACs (beat/run-ids.ts): the claims in the database say which tick each id is.
    const claimed = await db.db.db.selectFrom('beat_run').select(['task_id', 'scheduled_for']).where('periodic_task_id', '=', task.id).execute();
    const tickOf = new Map(claimed.map((r) => [r.task_id, Number(r.scheduled_for)]));
    const due = (c: Call) => tickOf.get(c.taskId) ?? NaN;
    const inWindow = mine.filter((c) => due(c) >= from && due(c) <= to);
    const perTick = new Map<number, Call[]>();
    for (const c of inWindow) perTick.set(due(c), [...(perTick.get(due(c)) ?? []), c]);
    const expected = Math.floor(to / 1000) - Math.ceil(from / 1000) + 1;
    const firsts = [...perTick.values()].map((cs) => cs.reduce((a, b) => (a.at <= b.at ? a : b)));
    const lateness = firsts.map((c) => c.at - due(c)).sort((a, b) => a - b);
    const client = new TaskClient({ redis, redisTarget: redisUrl, keys, retention: { successSeconds: 3600, failureSeconds: 3600 }, eventsMaxLen: 10, logger: silentLogger });
    const jobs = await client.queue('bench-beat').getJobs(['waiting', 'prioritized']);
    await client.close();
    const stamps = new Map(jobs.map((j) => [j.id, j.timestamp]));
    const byJob = firsts.map((c) => (stamps.get(c.taskId) ?? NaN) - due(c)).sort((a, b) => a - b);
    return {
      dialect: db.dialect,
      beats,
      ticks: perTick.size,
      p50: percentile(lateness, 50),
      p99: percentile(lateness, 99),
      max: lateness.at(-1) ?? NaN,
      jobP50: percentile(byJob, 50),
      jobP99: percentile(byJob, 99),
      jobMax: byJob.at(-1) ?? NaN,
      duplicates: inWindow.length - perTick.size,
      missed: expected - perTick.size,
      perProcess: children.map((ch) => firsts.filter((c) => c.pid === ch.pid).length),
    };
  } finally {
    for (const ch of children) ch.kill('SIGTERM');
    await Promise.all(children.map((ch) => new Promise((r) => (ch.exitCode !== null ? r(null) : ch.once('exit', r)))));
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '60' },
      dialect: { type: 'string', default: 'sqlite' },
      beats: { type: 'string', default: '1,3' },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds >= 5)) throw new Error('--seconds must be at least 5');
  const dialects: Dialect[] = values.dialect === 'both' ? ['sqlite', 'postgres'] : [values.dialect as Dialect];
  if (!dialects.every((d) => d === 'sqlite' || d === 'postgres')) throw new Error('--dialect must be sqlite, postgres or both');
  const counts = values.beats.split(',').map(Number);

  const dir = mkdtempSync(path.join(tmpdir(), 'seler-bench-beat-'));
  const server = await ensurePrivateRedis(dir);
  const redis = await connectRedis(server.url, { name: 'bench-beat' });
  process.stdout.write(`beat bench: a 1 s interval for ${seconds} s per run; load average ${loadAverage()}\n`);
  try {
    for (const dialect of dialects) {
      const db = await createTestDatabase(dialect);
      try {
        for (const beats of counts) {
          const r = await runOnce(db, redis, server.url, beats, seconds);
          process.stdout.write(
            `${r.dialect.padEnd(8)} ${r.beats} beat${r.beats > 1 ? 's' : ' '}  ticks ${r.ticks}  lateness p50 ${r.p50} ms  p99 ${r.p99} ms  max ${r.max} ms  ` +
              `duplicates ${r.duplicates}  missed ${r.missed}  enqueued per process ${r.perProcess.join('/')}  ` +
              `(by BullMQ job timestamp: p50 ${r.jobP50} ms, p99 ${r.jobP99} ms, max ${r.jobMax} ms)\n`,
          );
        }
      } finally {
        await db.drop();
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
