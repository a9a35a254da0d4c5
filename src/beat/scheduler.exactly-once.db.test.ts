// Exactly once with three beats at a time, for 30 s of a 1 s interval: in one process (three
// connections each) and as three real processes (one killed with SIGKILL and replaced midway).
// The task uses missedRunPolicy "all" so that a CI machine stalling every beat past the 5 s grace
// period shows up as late catch-up runs, not as a collapsed (missing) tick.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/helpers/cli.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import type { Dialect } from '../platform/db/index.js';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { silentLogger } from '../platform/logger.js';
import { connectRedis, keyspace, type Redis } from '../platform/redis.js';
import { TaskClient, type EnqueueOptions } from '../tasks/index.js';
import { notifyScheduleChanged, startBeat, type RunningBeat } from './scheduler.js';
import { RunClaims } from './claims.js';
import { PeriodicTasks } from './periodic-tasks.js';

const RUN_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  taskId: string;
  at: number;
}

/**
 * Every tick between the two moments enqueued exactly once: no duplicate call, no gap. `from` is
 * taken once the task exists: its first run is the first whole second after it was created, which
 * a slow insert on a loaded machine can push past a moment taken before the insert.
 */
async function expectExactlyOnce(t: TestDatabase, id: number, calls: Call[], from: number, to: number) {
  const mine = calls.filter((c) => c.taskId.startsWith(`beat-${id}-`));
  const perId = new Map<string, number>();
  for (const c of mine) perId.set(c.taskId, (perId.get(c.taskId) ?? 0) + 1);
  const duplicates = [...perId.entries()].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  // Run ids are HMACs (not derivable from the tick): the claims recorded in the database say which tick each one is.
  const runs = await t.db.db.selectFrom('beat_run').select(['task_id', 'scheduled_for', 'enqueued_at', 'trigger']).where('periodic_task_id', '=', id).execute();
  const tickOf = new Map(runs.map((r) => [r.task_id, Number(r.scheduled_for)]));
  const unknown = [...perId.keys()].filter((k) => !tickOf.has(k));
  expect(unknown).toEqual([]);
  const ticks = [...perId.keys()].map((k) => tickOf.get(k)!).sort((a, b) => a - b);
  const gaps = ticks.slice(1).flatMap((tick, i) => (tick - ticks[i]! !== 1000 ? [`${ticks[i]} +${tick - ticks[i]!}`] : []));
  expect(gaps).toEqual([]);
  expect(ticks[0]!).toBeLessThanOrEqual(from + 1000);
  expect(ticks.at(-1)!).toBeGreaterThanOrEqual(to - 1000);
  expect(ticks.length).toBeGreaterThanOrEqual(RUN_MS / 1000);
  expect(runs).toHaveLength(ticks.length);
  expect(runs.every((r) => r.enqueued_at !== null)).toBe(true);
  const lateness = mine.map((c) => c.at - tickOf.get(c.taskId)!).sort((a, b) => a - b);
  const p = (q: number) => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))];
  const late = runs.filter((r) => r.trigger !== 'schedule').length;
  console.log(`${t.dialect}: ${ticks.length} ticks (${late} enqueued as catch-up after a stall over the grace period), lateness p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${lateness.at(-1)} ms`);
}

describe('exactly once with three beats (both dialects at once)', () => {
  // Each test has its own database: beats would otherwise also claim the other tests' tasks.
  const databases: TestDatabase[] = [];
  const database = async (dialect: Dialect) => {
    const db = await createTestDatabase(dialect);
    databases.push(db);
    return db;
  };
  let redis: Redis;
  const prefixes: string[] = [];
  const newPrefix = () => {
    prefixes.push(uniquePrefix('beat-x1'));
    return prefixes.at(-1)!;
  };
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    if (redis) {
      for (const prefix of prefixes) await deleteKeys(redis, `{${prefix}}*`);
      await redis.quit();
    }
    await Promise.all(databases.map((d) => d.drop()));
  });

  it.concurrent.each(DIALECTS)('three beats in one process, each on its own connections (%s)', { timeout: RUN_MS + 30_000 }, async (dialect) => {
    const t = await database(dialect);
    const keys = keyspace(newPrefix());
    const queue = 'beat-x1';
    const calls: Call[] = [];
    const parts: { beat: RunningBeat; client: TaskClient; redis: Redis }[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await connectRedis(testRedisUrl(), { name: `beat-${i}` });
      const client = new TaskClient({ redis: r, redisTarget: testRedisUrl(), keys, retention: { successSeconds: 3600, failureSeconds: 3600 }, eventsMaxLen: 100_000, logger: silentLogger });
      const counting = {
        enqueue: async (name: string, options: EnqueueOptions = {}) => {
          const res = await client.enqueue(name, options);
          calls.push({ taskId: options.taskId!, at: Date.now() });
          return res;
        },
        getTask: (id: string) => client.getTask(id),
      };
      const beat = await startBeat({ claims: new RunClaims(t.open()), client: counting, redis: r, redisTarget: testRedisUrl(), keys, logger: silentLogger });
      parts.push({ beat, client, redis: r });
    }
    const tasks = new PeriodicTasks(t.db, { onChange: () => notifyScheduleChanged(redis, keys) });
    const task = await tasks.create({ name: 'every second', task: 'demo.noop', queue, schedule: { interval: { every: 1, period: 'seconds' } }, missedRunPolicy: 'all' });
    const from = Date.now();
    await sleep(RUN_MS / 2);
    // One beat goes away; the others carry on.
    await parts[0]!.beat.close();
    await sleep(RUN_MS / 2);
    const to = Date.now();
    await sleep(300);
    for (const p of parts.slice(1)) await p.beat.close();
    for (const p of parts) {
      await p.client.close();
      p.redis.disconnect();
    }
    await expectExactlyOnce(t, task.id, calls, from, to);
    const jobs = await new TaskClient({ redis, redisTarget: testRedisUrl(), keys, retention: { successSeconds: 1, failureSeconds: 1 }, eventsMaxLen: 10, logger: silentLogger }).queue(queue).getJobCountByTypes('waiting', 'prioritized');
    expect(jobs).toBe(new Set(calls.map((c) => c.taskId)).size);
  });

  it.concurrent.each(DIALECTS)('three beat processes, one killed (SIGKILL) and replaced midway (%s)', { timeout: RUN_MS + 60_000 }, async (dialect) => {
    const t = await database(dialect);
    const xprefix = newPrefix();
    const calls: Call[] = [];
    const children: ChildProcess[] = [];
    const spawnBeat = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'beat-runner.ts')], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: t.url, REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: xprefix, SELER_LOG_LEVEL: 'error' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        child.on('error', reject);
        child.on('exit', (code) => code !== 0 && code !== null && reject(new Error(`beat process exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const msg = JSON.parse(line) as Call & { ready?: number };
          if (msg.ready) resolve(child);
          else calls.push(msg);
        });
      });
    const stopAll = async () => {
      const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
      const closed = alive.map((c) => new Promise((r) => c.once('close', r)));
      for (const c of alive) c.kill('SIGTERM');
      await Promise.all(closed);
    };
    try {
      const procs = await Promise.all([spawnBeat(), spawnBeat(), spawnBeat()]);
      const tasks = new PeriodicTasks(t.db);
      const task = await tasks.create({ name: 'every second, processes', task: 'demo.noop', queue: 'beat-x1', schedule: { interval: { every: 1, period: 'seconds' } }, missedRunPolicy: 'all' });
      const from = Date.now();
      await notifyScheduleChanged(redis, keyspace(xprefix));
      await sleep(RUN_MS / 3);
      procs[0]!.kill('SIGKILL');
      await sleep(RUN_MS / 3);
      await spawnBeat();
      await sleep(RUN_MS / 3);
      const to = Date.now();
      await stopAll(); // a consistent picture: every claim made has been enqueued and reported
      await expectExactlyOnce(t, task.id, calls, from, to);
    } finally {
      await stopAll();
    }
  });
});
