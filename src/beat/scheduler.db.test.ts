// The tick loop against a real Redis (BullMQ) and a real database, on both dialects.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import '../demo/tasks.js';
import { keyspace, type Redis } from '../platform/redis.js';
import { TaskClient, type EnqueueOptions } from '../tasks/index.js';
import { beatTaskId, fireDue, notifyScheduleChanged, planClaim, recoverStaleClaims, runHistory, runNow, startBeat, type RunningBeat } from './scheduler.js';
import { RunClaims } from './claims.js';
import { PeriodicTasks } from './periodic-tasks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const every = (n: number, period = 'seconds') => ({ interval: { every: n, period } });

describe.each(DIALECTS)('beat on %s', (dialect) => {
  let t: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let client: TaskClient;
  let tasks: PeriodicTasks;
  let claims: RunClaims;
  const beats: RunningBeat[] = [];
  const enqueued: { name: string; at: number; options: EnqueueOptions }[] = [];
  const logLines: { level: string; msg: string }[] = [];
  const logger = pino({ level: 'info', formatters: { level: (label) => ({ level: label }) } }, new Writable({
    write(chunk, _enc, done) {
      logLines.push(JSON.parse(String(chunk)) as { level: string; msg: string });
      done();
    },
  }));
  // A queue no worker reads: runs stay PENDING (what overlap skipping looks at).
  const queue = `beat-test-${Math.random().toString(36).slice(2, 8)}`;
  const spy = {
    enqueue: async (name: string, options: EnqueueOptions = {}) => {
      const r = await client.enqueue(name, options);
      enqueued.push({ name, at: Date.now(), options });
      return r;
    },
    getTask: (id: string) => client.getTask(id),
  };
  const ctx = () => ({ tasks, claims, client: spy, logger });
  const callsFor = (id: number) => enqueued.filter((e) => e.options.taskId?.startsWith(`beat-${id}-`));
  const start = async (options: { recheckMs?: number; staleClaimMs?: number } = {}) => {
    const beat = await startBeat({ claims: new RunClaims(t.open()), client: spy, redis, redisTarget: testRedisUrl(), keys: keyspace(prefix), logger, ...options });
    beats.push(beat);
    return beat;
  };
  const create = (name: string, fields: Record<string, unknown>) => tasks.create({ name, task: 'demo.noop', queue, ...fields });

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    redis = await testRedis();
    prefix = uniquePrefix('beat');
    const keys = keyspace(prefix);
    client = new TaskClient({ redis, redisTarget: testRedisUrl(), keys, retention: { successSeconds: 3600, failureSeconds: 3600 }, eventsMaxLen: 10_000, logger });
    tasks = new PeriodicTasks(t.db, { onChange: () => notifyScheduleChanged(redis, keys) });
    claims = new RunClaims(t.db);
  });
  afterAll(async () => {
    await Promise.all(beats.map((b) => b.close()));
    await client?.close();
    if (redis) {
      await deleteKeys(redis, `{${prefix}}*`);
      await redis.quit();
    }
    await t?.drop();
  });

  it('picks up a task added to the database within a second, without restart (change notification)', async () => {
    await start({ recheckMs: 60_000 }); // the fallback re-check cannot be what wakes it
    await sleep(200);
    const created = Date.now();
    const clocked = await create('clocked soon', { schedule: { clocked: { at: new Date(created + 300).toISOString() } } });
    const interval = await create('every second', { schedule: every(1) });
    await waitFor(async () => callsFor(clocked.id).length === 1 && callsFor(interval.id).length >= 1, 3000, 10);
    expect(callsFor(clocked.id)[0]!.at - created).toBeLessThan(1000);
    expect(callsFor(interval.id)[0]!.at - created).toBeLessThan(1000 + 150);
    expect(callsFor(clocked.id)[0]!.at).toBeGreaterThanOrEqual(created + 300);
    // An edit is picked up at once too.
    await tasks.setEnabled([interval.id], false);
    await sleep(200);
    const count = callsFor(interval.id).length;
    await sleep(1500);
    expect(callsFor(interval.id).length).toBe(count);
    // The job carries the task's options and a deterministic id.
    const job = await client.getTask(callsFor(clocked.id)[0]!.options.taskId!);
    expect(job).toMatchObject({ name: 'demo.noop', queue, status: 'PENDING' });
  });

  it('falls back to a periodic re-check when no notification comes', async () => {
    const quiet = new PeriodicTasks(t.db);
    await sleep(100);
    const task = await quiet.create({ name: 'unannounced', task: 'demo.noop', queue, schedule: { clocked: { at: new Date(Date.now() + 100).toISOString() } } });
    // The running beat sleeps up to its 60 s re-check; a beat with a short one finds the task.
    await start({ recheckMs: 500 });
    await waitFor(async () => callsFor(task.id).length === 1, 3000, 20);
  });

  it('a one-off task runs once and disables itself', async () => {
    const task = await create('one-off', { schedule: every(1), oneOff: true });
    await waitFor(async () => callsFor(task.id).length === 1, 3000, 20);
    await sleep(1500);
    expect(callsFor(task.id)).toHaveLength(1);
    expect(await tasks.get(task.id)).toMatchObject({ enabled: false, nextRunAt: null, totalRunCount: 1, oneOff: true });
  });

  it('nothing runs before the start time', async () => {
    const startTime = Date.now() + 1700;
    const task = await create('starts later', { schedule: every(1), startTime: new Date(startTime).toISOString() });
    await waitFor(async () => callsFor(task.id).length >= 1, 4000, 20);
    const first = callsFor(task.id)[0]!;
    expect(first.at).toBeGreaterThanOrEqual(startTime);
    expect(first.options.taskId).toBe(beatTaskId(await claims.runIdKey(), task.id, Date.parse(new Date(startTime).toISOString())));
  });

  it('runs until it expires, then disables itself; expireSeconds reaches the job', async () => {
    const expires = Math.ceil(Date.now() / 1000) * 1000 + 1500;
    const task = await create('expiring', { schedule: every(1), expires: new Date(expires).toISOString() });
    await waitFor(async () => (await tasks.get(task.id))!.enabled === false, 5000, 50);
    const calls = callsFor(task.id);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    const tickOf = new Map((await tasks.runs(task.id, { pageSize: 200 })).items.map((r) => [r.taskId, Date.parse(r.scheduledFor)]));
    expect(calls.every((c) => tickOf.get(c.options.taskId!)! <= expires)).toBe(true);
    expect((calls[0]!.options.expires as Date).getTime()).toBe(expires);

    const short = await create('short-lived runs', { schedule: every(1), expireSeconds: 7 });
    await waitFor(async () => callsFor(short.id).length >= 1, 3000, 20);
    expect(callsFor(short.id)[0]!.options.expires).toBe(7);
    await tasks.setEnabled([short.id], false);
  });

  it('a task that expired while every beat was down is not run, and is disabled', async () => {
    const task = await create('expired while down', { schedule: every(1) });
    await t.db.db.updateTable('beat_periodic_task').set({ next_run_at: Date.now() - 60_000, expires: Date.now() - 30_000, enabled: 1 }).where('id', '=', task.id).execute();
    await waitFor(async () => (await tasks.get(task.id))!.enabled === false, 3000, 20);
    expect(callsFor(task.id)).toHaveLength(0);
    expect((await tasks.runs(task.id)).items).toMatchObject([{ status: 'expired', taskId: null }]);
  });

  it('overlap skip: no new run while the previous one is still queued', async () => {
    const skipping = await create('no overlap', { schedule: every(1), overlapPolicy: 'skip' });
    const allowing = await create('overlap ok', { schedule: every(1) });
    const skipped = async () => (await tasks.runs(skipping.id)).items.filter((r) => r.status === 'skipped');
    await waitFor(async () => (await skipped()).length >= 2, 5000, 20);
    await tasks.setEnabled([skipping.id, allowing.id], false);
    expect(callsFor(skipping.id)).toHaveLength(1);
    expect((await skipped())[0]!.note).toMatch(/still PENDING/);
    expect(callsFor(allowing.id).length).toBeGreaterThanOrEqual(2);
  });

  it('run now: enqueues with the full options, recorded as manual', async () => {
    const task = await create('manual', { task: 'demo.add', args: [2, 3], priority: 7, expireSeconds: 60, schedule: every(1, 'days'), enabled: false });
    const { taskId } = await runNow(ctx(), task.id);
    expect(taskId).toMatch(new RegExp(`^beat-${task.id}-manual-`));
    const call = enqueued.find((e) => e.options.taskId === taskId)!;
    expect(call).toMatchObject({ name: 'demo.add', options: { args: [2, 3], queue, priority: 7, expires: 60 } });
    expect(await client.getTask(taskId)).toMatchObject({ status: 'PENDING', args: [2, 3] });
    expect((await runHistory(tasks, spy, task.id)).items).toMatchObject([{ trigger: 'manual', status: 'PENDING', taskId }]);
    // It is the task's last run, as the list and the change page show it.
    expect(await tasks.getRecord(task.id)).toMatchObject({ lastTaskId: taskId, totalRunCount: 1, lastRunAt: expect.any(Number) });
    // Arguments the task refuses: a 400, and the run is recorded as failed.
    await tasks.update(task.id, { args: ['x'] });
    await expect(runNow(ctx(), task.id)).rejects.toMatchObject({ status: 400 });
    expect((await tasks.runs(task.id)).items[0]).toMatchObject({ trigger: 'manual', status: 'failed', note: expect.stringContaining('arguments of demo.add') });
    await expect(runNow(ctx(), 987_654)).rejects.toMatchObject({ status: 404 });
  });

  it('a task that cannot be claimed (a corrupted row) does not hold up the others', async () => {
    const broken = await create('broken', { schedule: every(1, 'hours') });
    const bad = JSON.stringify({ crontab: { minute: '99', hour: '*', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*', timezone: 'UTC' } });
    await t.db.db.updateTable('beat_periodic_task').set({ schedule: bad, schedule_kind: 'crontab', next_run_at: Date.now() }).where('id', '=', broken.id).execute();
    const healthy = await create('healthy', { schedule: every(1) });
    await waitFor(async () => callsFor(healthy.id).length >= 2, 4000, 20);
    expect(logLines.some((l) => l.level === 'warn' && l.msg.startsWith('claim failed'))).toBe(true);
    await tasks.setEnabled([healthy.id], false);
    await t.db.db.deleteFrom('beat_periodic_task').where('id', '=', broken.id).execute();
  });

  // These drive fireDue and recovery by hand, so no running beat may race them.
  describe('with every beat stopped', () => {
    beforeAll(async () => {
      await Promise.all(beats.splice(0).map((b) => b.close()));
    });

    const downFor = async (name: string, policy: string, minutes = 1) => {
      const task = await tasks.create({ name, task: 'demo.noop', queue, schedule: every(1), missedRunPolicy: policy, enabled: false });
      await t.db.db.updateTable('beat_periodic_task').set({ enabled: 1, next_run_at: Math.floor(Date.now() / 1000) * 1000 - minutes * 60_000 }).where('id', '=', task.id).execute();
      return (await tasks.getRecord(task.id))!;
    };

    it('missed runs, skip: warns, records a skipped run, runs nothing until the next tick', async () => {
      const task = await downFor('missed skip', 'skip');
      expect(await fireDue(ctx(), task, Date.now())).toBe(true);
      expect(callsFor(task.id)).toHaveLength(0);
      expect((await tasks.runs(task.id)).items).toMatchObject([{ status: 'skipped', trigger: 'catch-up', note: expect.stringMatching(/^6[01] run\(s\) missed/) }]);
      expect(logLines.some((l) => l.level === 'warn' && /skipped 6[01] missed run\(s\) of "missed skip"/.test(l.msg))).toBe(true);
      expect((await tasks.getRecord(task.id))!.nextRunAt).toBeGreaterThan(Date.now() - 1000);
    });

    it('missed runs, once: one catch-up run', async () => {
      const task = await downFor('missed once', 'once');
      await fireDue(ctx(), task, Date.now());
      expect(callsFor(task.id)).toHaveLength(1);
      const runs = await runHistory(tasks, spy, task.id);
      expect(runs.items).toMatchObject([{ trigger: 'catch-up', status: 'PENDING', taskId: beatTaskId(await claims.runIdKey(), task.id, task.nextRunAt!) }]);
      expect((await tasks.getRecord(task.id))!.totalRunCount).toBe(1);
    });

    it('missed runs, all: every missed run, capped at 100', async () => {
      const task = await downFor('missed all', 'all');
      await fireDue(ctx(), task, Date.now());
      expect(callsFor(task.id).length).toBeGreaterThanOrEqual(60);
      expect(callsFor(task.id).length).toBeLessThanOrEqual(61);
      const capped = await downFor('missed all capped', 'all', 5);
      await fireDue(ctx(), capped, Date.now());
      expect(callsFor(capped.id)).toHaveLength(100);
      expect((await tasks.runs(capped.id, { pageSize: 1 })).items[0]).toMatchObject({ status: 'skipped', note: expect.stringContaining('more than 100') });
    });

    it('a claim whose enqueue never happened (crash) is enqueued later, once', async () => {
      const task = await create('crashed', { schedule: every(1, 'hours'), enabled: false });
      const due = Date.now() - 1000;
      await t.db.db.updateTable('beat_periodic_task').set({ enabled: 1, next_run_at: due }).where('id', '=', task.id).execute();
      const record = (await tasks.getRecord(task.id))!;
      // The claim commits, then the process "dies" before enqueueing.
      expect(await claims.claim(record, planClaim(record, Date.now(), await claims.runIdKey()))).not.toBeNull();
      expect(callsFor(task.id)).toHaveLength(0);
      const recovery = { staleMs: 0, windowMs: 3_600_000 };
      await sleep(5);
      await recoverStaleClaims(ctx(), Date.now(), recovery);
      expect(callsFor(task.id).map((c) => c.options.taskId)).toEqual([beatTaskId(await claims.runIdKey(), task.id, due)]);
      expect((await tasks.runs(task.id)).items[0]).toMatchObject({ status: 'enqueued' });
      // Crash after the enqueue but before it was recorded: the job exists, so it is not enqueued again.
      await t.db.db.updateTable('beat_run').set({ enqueued_at: null }).where('task_id', '=', beatTaskId(await claims.runIdKey(), task.id, due)).execute();
      await sleep(5);
      await recoverStaleClaims(ctx(), Date.now(), recovery);
      expect(callsFor(task.id)).toHaveLength(1);
      expect((await tasks.runs(task.id)).items[0]).toMatchObject({ status: 'enqueued' });
      // Too old to be safe: marked failed, not enqueued.
      await t.db.db.updateTable('beat_run').set({ enqueued_at: null, claimed_at: Date.now() - 2 * 3_600_000 }).where('task_id', '=', beatTaskId(await claims.runIdKey(), task.id, due)).execute();
      await recoverStaleClaims(ctx(), Date.now(), recovery);
      expect(callsFor(task.id)).toHaveLength(1);
      expect((await tasks.runs(task.id)).items[0]).toMatchObject({ status: 'failed' });
    });
  });
});
