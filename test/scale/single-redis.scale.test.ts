// The bed on one Redis: 2 web hosts, 2 worker hosts, 3 beat hosts, PostgreSQL, a client host, every
// one a network namespace with its own data directory, every seler role a real process. Faults: a
// worker host's link cut mid-burst and restored, a worker killed (-9), a beat host cut off. Each
// scenario counts acknowledged work against what ended and prints its figures ([scale] lines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Bed, repoRoot, inFlightAt, inFlightIds, readExecutions, report, startPostgres, startSeler, startSingleRedis, tally, waitForEnds, type BedPostgres, type Host, type SelerProcess } from './bed/index.js';
import { scaleConfig } from './bed/seler.js';

const CONCURRENCY = 4;
const LOCK_SECONDS = 4;
const TASK_MS = 25;
const PASSWORD = 'scale bed password 1';
let jarForMonitor = '';
/** Tasks the client enqueued in this file (the beat's ticks come on top). */
let enqueued = 0;

let bed: Bed;
let pg: BedPostgres;
let agent: Agent;
let env: Record<string, string>;
const hosts: Record<string, Host> = {};
const roles: Record<string, SelerProcess> = {};

async function startWorker(name: string): Promise<SelerProcess> {
  roles[name] = await startSeler(hosts[name]!, 'worker', { env, args: ['-c', String(CONCURRENCY)] });
  return roles[name];
}

const workerHosts = () => [hosts['worker-1']!, hosts['worker-2']!];

beforeAll(async () => {
  bed = await Bed.create('single');
  for (const name of ['redis', 'db', 'client', 'web-a', 'web-b', 'worker-1', 'worker-2', 'beat-1', 'beat-2', 'beat-3']) hosts[name] = await bed.addHost(name);
  const [redis, postgres] = await Promise.all([startSingleRedis(hosts.redis!), startPostgres(hosts.db!)]);
  pg = postgres;
  env = { REDIS_URL: redis.url, DATABASE_URL: pg.url, SELER_LOCK_DURATION: String(LOCK_SECONDS), SELER_SHUTDOWN_TIMEOUT: '5' };
  // The first web migrates the database; the rest start side by side.
  roles['web-a'] = await startSeler(hosts['web-a']!, 'web', { env });
  const started = await Promise.all([
    startSeler(hosts['web-b']!, 'web', { env }),
    startWorker('worker-1'),
    startWorker('worker-2'),
    ...['beat-1', 'beat-2', 'beat-3'].map((b) => startSeler(hosts[b]!, 'beat', { env })),
  ]);
  roles['web-b'] = started[0];
  for (const [i, b] of ['beat-1', 'beat-2', 'beat-3'].entries()) roles[b] = started[3 + i]!;
  agent = await Agent.start(hosts.client!, { REDIS_URL: redis.url });
});

afterAll(async () => {
  await agent?.close();
  await bed?.teardown();
});

describe('worker hosts', () => {
  it('a worker host cut off mid-burst, then restored: nothing acknowledged is lost, duplicates ≤ its tasks in flight, and it works again', async () => {
    const loading = agent.load({ task: 'scale.record', args: [TASK_MS], idPrefix: 'cut', count: 3000, concurrency: 8 });
    await until(() => readExecutions([hosts['worker-1']!]).filter((e) => e.id.startsWith('cut-')).length > 100, 30_000);
    await hosts['worker-1']!.cut();
    // Longer than the lock: worker-2's stalled check hands worker-1's tasks over.
    await sleep(LOCK_SECONDS * 2000);
    await hosts['worker-1']!.restore();
    const restoredAt = Date.now();
    const burst = await loading;
    // A second burst after the restore: worker-1 must take its share again.
    const after = await agent.load({ task: 'scale.record', args: [TASK_MS], idPrefix: 'cut-after', count: 400, concurrency: 8 });
    const acked = [...burst.acked, ...after.acked];
    enqueued += acked.length;
    const executions = await waitForEnds(acked, workerHosts(), 90_000);
    const settled = await agent.settle(acked, 30_000);
    const t = tally(acked, executions);
    const worker1After = executions.filter((e) => e.host === 'worker-1' && e.event === 'start' && e.at > restoredAt && e.id.startsWith('cut-after')).length;
    report('worker host cut 8 s mid-burst', {
      acknowledged: t.acknowledged, refused: burst.refused + after.refused, lost: t.lost, redisStates: settled.states, duplicatedTasks: t.duplicatedTasks,
      extraExecutions: t.extraExecutions, bound: CONCURRENCY, perHost: t.perHost, longestStallMs: t.longestStallMs, worker1TasksAfterRestore: worker1After,
    });
    expect(t.lost, `lost: ${t.lostIds.join(' ')}`).toBe(0);
    expect(settled.missing).toEqual([]);
    expect(settled.states.SUCCESS).toBe(acked.length);
    // A worker holds at most CONCURRENCY locks: only those tasks can run twice.
    expect(t.extraExecutions).toBeLessThanOrEqual(CONCURRENCY);
    expect(t.maxExecutionsPerTask).toBeLessThanOrEqual(2);
    expect(worker1After).toBeGreaterThan(0);
    // worker-2 kept working the whole time.
    expect(t.longestStallMs).toBeLessThan(LOCK_SECONDS * 1000);
  });

  it('a worker host killed (-9) mid-burst: its tasks run elsewhere after the lock expires, none lost', async () => {
    // Longer tasks, so the killed worker surely holds some (a busy machine may starve it between short ones).
    const loading = agent.load({ task: 'scale.record', args: [100], idPrefix: 'kill', count: 800, concurrency: 8 });
    // Kill it while it holds tasks of this burst (the moment it is seen holding some).
    await until(() => {
      const mine = readExecutions([hosts['worker-2']!]).filter((e) => e.id.startsWith('kill-'));
      return mine.length > 10 && inFlightAt(mine, 'worker-2', Date.now()) > 0;
    }, 30_000);
    const killedAt = Date.now();
    await roles['worker-2']!.kill('SIGKILL');
    const burst = await loading;
    enqueued += burst.acked.length;
    const executions = await waitForEnds(burst.acked, workerHosts(), 90_000);
    const settled = await agent.settle(burst.acked, 30_000);
    const t = tally(burst.acked, executions);
    const inFlight = inFlightAt(executions, 'worker-2', killedAt);
    const recoveredMs = Math.max(0, ...executions.filter((e) => e.event === 'end' && e.host === 'worker-1' && inFlightIds(executions, 'worker-2', killedAt).has(e.id)).map((e) => e.at - killedAt));
    report('worker host killed -9 mid-burst', {
      acknowledged: t.acknowledged, refused: burst.refused, lost: t.lost, redisStates: settled.states, inFlightAtKill: inFlight, duplicatedTasks: t.duplicatedTasks,
      extraExecutions: t.extraExecutions, bound: CONCURRENCY, perHost: t.perHost, longestStallMs: t.longestStallMs, killedTasksDoneAfterMs: recoveredMs,
    });
    expect(inFlight).toBeGreaterThan(0);
    expect(t.lost, `lost: ${t.lostIds.join(' ')}`).toBe(0);
    expect(settled.states.SUCCESS).toBe(burst.acked.length);
    expect(t.extraExecutions).toBeLessThanOrEqual(CONCURRENCY);
    expect(t.longestStallMs).toBeLessThan(LOCK_SECONDS * 1000);
    await startWorker('worker-2');
  });
});

describe('beat hosts', () => {
  it('a beat host of 3 cut off, another cut from Redis only: every tick is enqueued and run exactly once by the others', async () => {
    const from = Date.now();
    await sleep(3000);
    await hosts['beat-1']!.cut();
    await sleep(8000);
    await hosts['beat-1']!.restore();
    // nftables between two hosts: beat-2 still claims ticks in the database but cannot enqueue them.
    await hosts['beat-2']!.dropTraffic(hosts.redis!);
    await sleep(6000);
    await hosts['beat-2']!.allowTraffic(hosts.redis!);
    await sleep(4000);
    const to = Date.now() - 1500;
    const readRuns = async () =>
      (
        await pg.query(
          `select r.task_id, r.scheduled_for, coalesce(r.enqueued_at, 0), coalesce(r.status, '') from beat_run r join beat_periodic_task t on t.id = r.periodic_task_id ` +
            `where t.name = 'scale.tick' and r.scheduled_for between ${from} and ${to} order by r.scheduled_for`,
        )
      )
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [taskId, scheduledFor, enqueuedAt, status] = line.split('|');
          return { taskId: taskId!, scheduledFor: Number(scheduledFor), enqueuedAt: Number(enqueuedAt), status: status! };
        });
    let rows = await readRuns();
    const pendingAtFirstLook = rows.filter((r) => !r.enqueuedAt).length;
    const ticks = rows.map((r) => r.scheduledFor);
    const expected = Math.floor((to - from) / 1000) - 1;
    const gaps = ticks.slice(1).filter((t, i) => t - ticks[i]! !== 1000).length;
    const ids = rows.map((r) => r.taskId);
    const executions = await waitForEnds(ids, workerHosts(), 60_000);
    const starts = new Map<string, number[]>();
    for (const e of executions) if (e.event === 'start' && ids.includes(e.id)) starts.set(e.id, [...(starts.get(e.id) ?? []), e.at]);
    const runsPerTick = ids.map((id) => starts.get(id)?.length ?? 0);
    // A beat that was cut from Redis records its enqueue once its connection is back (TCP's
    // retransmission backoff can take seconds): the run may be done before its row says so.
    const settleBy = Date.now() + 30_000;
    while (rows.some((r) => !r.enqueuedAt) && Date.now() < settleBy) {
      await sleep(1000);
      rows = await readRuns();
    }
    const lateness = rows.map((r) => (starts.get(r.taskId)?.[0] ?? Infinity) - r.scheduledFor);
    report('beat host of 3 cut 8 s, another cut from Redis 6 s (1 s interval)', {
      ticks: ticks.length, expectedAtLeast: expected, gaps, pendingAtFirstLook, notEnqueued: rows.filter((r) => !r.enqueuedAt).length, ranOnce: runsPerTick.filter((n) => n === 1).length,
      ranTwice: runsPerTick.filter((n) => n > 1).length, neverRan: runsPerTick.filter((n) => n === 0).length, maxLatenessMs: Math.max(...lateness),
    });
    expect(ticks.length).toBeGreaterThanOrEqual(expected);
    expect(gaps).toBe(0);
    expect(runsPerTick.every((n) => n === 1), `runs per tick: ${runsPerTick.join(',')}`).toBe(true);
    expect(rows.every((r) => r.enqueuedAt > 0 && r.status === '')).toBe(true);
  });
});

describe('web hosts', () => {
  it('a log-in on web A works on web B, with its CSRF token; a forged token is refused', async () => {
    const created = await hosts['web-a']!.exec([process.execPath, `${repoRoot}/bin/seler.js`, 'createsuperuser', '--username', 'scale', '--email', 'scale@example.com', '--password-stdin'], {
      input: `${PASSWORD}\n`,
      env: { ...env, SELER_DATA_DIR: hosts['web-a']!.dir, SELER_CONFIG: scaleConfig, SELER_LOG_LEVEL: 'warn' },
      timeoutMs: 60_000,
    });
    expect(created.code, created.stderr).toBe(0);
    const a = roles['web-a']!.url!;
    const b = roles['web-b']!.url!;
    const jar = new Map<string, string>();
    const keep = (setCookie: string[]) => setCookie.forEach((c) => jar.set(c.split('=')[0]!, c.split(';')[0]!.slice(c.indexOf('=') + 1)));
    const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const page = await agent.http(`${a}/admin/login`);
    keep(page.setCookie);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const login = await agent.http(`${a}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
      body: new URLSearchParams({ username: 'scale', password: PASSWORD, _csrf: token }).toString(),
    });
    expect(login.status, login.body).toBe(303);
    keep(login.setCookie);
    const me = await agent.http(`${b}/api/v1/admin/me`, { headers: { cookie: cookie() } });
    expect(me.status, me.body).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ username: 'scale' });
    // A change on web A with a CSRF token web B gave out, then the same with a forged token on web B.
    const csrf = JSON.parse((await agent.http(`${b}/api/v1/admin/csrf`, { headers: { cookie: cookie() } })).body) as { token: string; header: string };
    const body = JSON.stringify({ name: 'scale.web', task: 'scale.record', args: [1], enabled: false, schedule: { interval: { every: 1, period: 'hours' } } });
    const made = await agent.http(`${a}/api/v1/admin/periodic-tasks`, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/json', [csrf.header]: csrf.token }, body });
    expect(made.status, made.body).toBe(201);
    const forged = await agent.http(`${b}/api/v1/admin/periodic-tasks`, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/json', [csrf.header]: `${csrf.token.slice(0, -4)}AAAA` }, body });
    expect(forged.status).toBe(403);
    const anonymous = await agent.http(`${b}/api/v1/admin/me`);
    expect(anonymous.status).toBe(401);
    report('log-in across web hosts', { loginOnA: login.status, meOnB: me.status, changeOnAWithTokenFromB: made.status, forgedTokenOnB: forged.status });
    jarForMonitor = cookie();
  });

  it("the monitor's counts on both web hosts equal BullMQ's", async () => {
    const bull = async () => {
      const [completed, failed, waiting, active, delayed] = await Promise.all(
        ['completed', 'failed', 'wait', 'active', 'delayed'].map((k) => agent.redis<number>(k === 'wait' || k === 'active' ? 'LLEN' : 'ZCARD', `{seler}:default:${k}`)),
      );
      return { SUCCESS: completed!, FAILURE: failed!, waiting: waiting!, active: active!, delayed: delayed! };
    };
    const monitor = async (url: string) => {
      const res = await agent.http(`${url}/api/v1/monitor/overview`, { headers: { cookie: jarForMonitor } });
      expect(res.status, res.body).toBe(200);
      const o = JSON.parse(res.body) as { tasks: { byState: Record<string, number> }; queues: { waiting: number; active: number; delayed: number } };
      return { SUCCESS: o.tasks.byState.SUCCESS ?? 0, FAILURE: o.tasks.byState.FAILURE ?? 0, waiting: o.queues.waiting, active: o.queues.active, delayed: o.queues.delayed };
    };
    // Ticks keep coming (one a second): compare when a reading of all three is stable.
    let last: unknown;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const before = await bull();
      const [onA, onB] = await Promise.all([monitor(roles['web-a']!.url!), monitor(roles['web-b']!.url!)]);
      const after = await bull();
      last = { bullmq: after, webA: onA, webB: onB };
      if (JSON.stringify(before) === JSON.stringify(after) && JSON.stringify(onA) === JSON.stringify(after) && JSON.stringify(onB) === JSON.stringify(after)) break;
      if (Date.now() > deadline) break;
      await sleep(300);
    }
    report('monitor on two web hosts vs BullMQ', last as Record<string, unknown>);
    const { bullmq, webA, webB } = last as Record<string, unknown>;
    expect(webA).toEqual(bullmq);
    expect(webB).toEqual(bullmq);
    expect((bullmq as { SUCCESS: number }).SUCCESS).toBeGreaterThan(enqueued);
  });
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
