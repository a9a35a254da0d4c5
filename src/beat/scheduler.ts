// The tick loop. Any number of beats may run: each due tick is claimed in the database (claims.ts,
// a compare-and-set on the task's cursor) and enqueued under a deterministic id, so a tick is
// enqueued once however many beats see it, and BullMQ collapses a repeated enqueue of the same id.
import { randomUUID } from 'node:crypto';
import { AppError, errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { closeRedis, createRedis, isRedisUnavailableError, type Keyspace, type Redis, type RedisTarget } from '../platform/redis.js';
import type { TaskClient, TaskState } from '../tasks/index.js';
import { beatError } from './errors.js';
import { computeNextRun, pickFields, type PeriodicTaskRecord } from './model.js';
import { beatTaskId } from './run-ids.js';
import { dueTimesBetween } from './schedules/index.js';
import type { RunClaims } from './claims.js';
import type { Page } from '../platform/json-api.js';
import type { PeriodicTasks } from './periodic-tasks.js';
import type { BeatRun, Claim, NewRun } from './rows.js';

/** What beat needs of the task client (tests wrap it to count enqueue calls). */
export type BeatClient = Pick<TaskClient, 'enqueue' | 'getTask'>;

export interface BeatTiming {
  /** A tick later than this when claimed counts as missed (every beat was down): its policy applies. */
  graceMs: number;
  /** At most this many catch-up runs for policy `all`. */
  catchUpCap: number;
}
export const DEFAULT_TIMING: BeatTiming = { graceMs: 5_000, catchUpCap: 100 };

const ACTIVE_STATES: ReadonlySet<TaskState> = new Set(['PENDING', 'STARTED', 'RETRY', 'PROGRESS']);

export const beatChangesChannel = (keys: Keyspace) => keys.key('beat-changes');

/** Wakes every beat at once (the admin calls this after a change; beats also re-check every few seconds). */
export async function notifyScheduleChanged(redis: Redis, keys: Keyspace): Promise<void> {
  await redis.publish(beatChangesChannel(keys), String(Date.now()));
}

// The broker id of the run of periodic task `id` due at `scheduledFor`: the same in every beat, unguessable
// without the database's key (run-ids.ts). No ':' in it: BullMQ refuses custom ids with colons.
export { beatTaskId } from './run-ids.js';

const stamp = (ms: number) => new Date(ms).toISOString();

/**
 * What claiming `task` at `now` does (pure). `activeStatus` is the state of the task's previous run
 * when it is still queued or running. Ticks in [cursor, now] within the grace period all run; once
 * the cursor is older than that, the missed-run policy decides.
 */
export function planClaim(
  task: PeriodicTaskRecord,
  now: number,
  runIdKey: string,
  timing: BeatTiming = DEFAULT_TIMING,
  activeStatus?: string,
): Claim & { warning?: string } {
  const cursor = task.nextRunAt!;
  const id = (t: number) => beatTaskId(runIdKey, task.id, t);
  const expiresAt = task.expires ? Date.parse(task.expires) : null;
  if (expiresAt !== null && now >= expiresAt) {
    return { now, next: null, disable: true, runs: [{ taskId: id(cursor), scheduledFor: cursor, trigger: 'schedule', status: 'expired', note: `expired at ${task.expires}` }] };
  }
  const anchor = task.startTime ? new Date(task.startTime) : undefined;
  const cap = timing.catchUpCap;
  const ticks = [cursor, ...dueTimesBetween(task.schedule, new Date(cursor), new Date(now), cap, anchor).map((d) => d.getTime())];
  const count = ticks.length > cap ? `more than ${cap}` : String(ticks.length);
  let runs: NewRun[];
  let warning: string | undefined;
  if (cursor >= now - timing.graceMs) {
    runs = ticks.slice(0, cap).map((t) => ({ taskId: id(t), scheduledFor: t, trigger: 'schedule' }));
  } else {
    const span = `between ${stamp(cursor)} and ${stamp(now)}`;
    switch (task.missedRunPolicy) {
      case 'skip':
        warning = `skipped ${count} missed run(s) of "${task.name}" ${span} (missedRunPolicy skip)`;
        runs = [{ taskId: id(cursor), scheduledFor: cursor, trigger: 'catch-up', status: 'skipped', note: `${count} run(s) missed ${span}` }];
        break;
      case 'all':
        runs = ticks.slice(0, cap).map((t) => ({ taskId: id(t), scheduledFor: t, trigger: 'catch-up' }));
        if (ticks.length > cap) {
          const t = ticks[cap]!;
          warning = `"${task.name}" missed more than ${cap} runs ${span}; the first ${cap} run now, the rest are skipped`;
          runs.push({ taskId: id(t), scheduledFor: t, trigger: 'catch-up', status: 'skipped', note: `more than ${cap} runs missed ${span}` });
        }
        break;
      default:
        runs = [{ taskId: id(cursor), scheduledFor: cursor, trigger: 'catch-up', note: ticks.length > 1 ? `one run for ${count} missed ${span}` : undefined }];
    }
  }
  if (activeStatus && task.overlapPolicy === 'skip' && runs.some((r) => !r.status)) {
    const first = runs.find((r) => !r.status)!;
    runs = [{ ...first, status: 'skipped', note: `the previous run ${task.lastTaskId} is still ${activeStatus} (overlapPolicy skip)` }];
  }
  const ran = runs.some((r) => !r.status);
  if (task.oneOff && ran) {
    const first = runs.find((r) => !r.status)!;
    return { now, next: null, disable: true, runs: [first] };
  }
  const next = computeNextRun(pickFields(task), now);
  return { now, next, disable: next === null && expiresAt !== null, runs, warning };
}

/**
 * Enqueues claimed runs with the task's options and records which made it to the broker; returns
 * the runs the task refused (marked failed), by task id, with why.
 */
async function enqueueRuns(claims: RunClaims, client: BeatClient, logger: Logger, task: PeriodicTaskRecord, runs: NewRun[]): Promise<Map<string, string>> {
  const done: string[] = [];
  const refused = new Map<string, string>();
  for (const run of runs) {
    try {
      await client.enqueue(task.task, {
        args: task.args,
        kwargs: task.kwargs,
        queue: task.queue ?? undefined,
        priority: task.priority ?? undefined,
        expires: task.expireSeconds ?? (task.expires ? new Date(task.expires) : undefined),
        taskId: run.taskId,
      });
      done.push(run.taskId);
    } catch (err) {
      if (err instanceof AppError) {
        // Bad arguments for the task: retrying cannot help.
        logger.error({ periodicTask: task.name, taskId: run.taskId, err: err.message }, 'periodic task could not be enqueued');
        await claims.markFailed(run.taskId, err.message);
        refused.set(run.taskId, err.message);
      } else {
        // The broker is unreachable: the claim stays recorded and a beat re-enqueues it later (recoverStaleClaims).
        logger.warn({ periodicTask: task.name, taskId: run.taskId, err: errorMessage(err) }, 'enqueue failed; will retry');
      }
    }
  }
  await claims.markEnqueued(done, Date.now());
  return refused;
}

/** Resolves at `t` (epoch ms), not before: a timer to about 2 ms before, then a short spin. */
async function waitUntil(t: number): Promise<void> {
  const ahead = t - Date.now();
  if (ahead > 2) await new Promise((r) => setTimeout(r, ahead - 2));
  while (Date.now() < t) await new Promise((r) => setImmediate(r));
}

/**
 * Claims and enqueues one due task; false when another beat or an edit got there first. A tick may
 * be claimed a little before it is due (the beat wakes `leadMs` early, so the database round trips
 * are done by then); it is enqueued at its due time, never before.
 */
export async function fireDue(
  ctx: { claims: RunClaims; client: BeatClient; logger: Logger; timing?: BeatTiming },
  task: PeriodicTaskRecord,
  now: number,
): Promise<boolean> {
  let active: string | undefined;
  if (task.overlapPolicy === 'skip' && task.lastTaskId) {
    const previous = await ctx.client.getTask(task.lastTaskId);
    if (previous && ACTIVE_STATES.has(previous.status)) active = previous.status;
  }
  const plan = planClaim(task, Math.max(now, task.nextRunAt!), await ctx.claims.runIdKey(), ctx.timing, active);
  const recorded = await ctx.claims.claim(task, plan);
  if (!recorded) return false;
  if (plan.warning) ctx.logger.warn({ periodicTask: task.name }, plan.warning);
  for (const r of plan.runs.filter((x) => x.status)) ctx.logger.info({ periodicTask: task.name, scheduledFor: stamp(r.scheduledFor), status: r.status, note: r.note }, 'periodic run not enqueued');
  if (plan.disable) ctx.logger.info({ periodicTask: task.name }, 'periodic task disabled (one-off done or expired)');
  const runs = plan.runs.filter((r) => !r.status && recorded.has(r.taskId));
  if (runs.length) await waitUntil(runs[0]!.scheduledFor);
  await enqueueRuns(ctx.claims, ctx.client, ctx.logger, task, runs);
  return true;
}

/**
 * Re-enqueues runs claimed more than `staleMs` ago but never marked enqueued (the claiming beat
 * crashed, or the broker was down). If the job exists it was enqueued after all; otherwise it is
 * enqueued under its claimed id. A claim older than `windowMs` is not re-enqueued: its job may have
 * run and been removed already (results are kept SELER_RESULT_TTL, 24 h by default), so it is marked failed.
 */
export async function recoverStaleClaims(
  ctx: { claims: RunClaims; client: BeatClient; logger: Logger },
  now: number,
  options: { staleMs: number; windowMs: number },
): Promise<number> {
  let recovered = 0;
  for (const { run, claimedAt, task } of await ctx.claims.staleClaims(now - options.staleMs)) {
    const taskId = run.taskId!;
    if (now - claimedAt > options.windowMs) {
      ctx.logger.warn({ periodicTask: task.name, taskId }, 'a claimed run was never enqueued and is too old to enqueue now');
      await ctx.claims.markFailed(taskId, `claimed at ${run.claimedAt} but never enqueued (every beat was down or the broker unreachable)`);
      continue;
    }
    if (!(await ctx.claims.retakeClaim(taskId, claimedAt, now))) continue;
    if (await ctx.client.getTask(taskId)) {
      await ctx.claims.markEnqueued([taskId], now);
      continue;
    }
    ctx.logger.warn({ periodicTask: task.name, taskId }, 're-enqueuing a run that was claimed but not enqueued');
    await enqueueRuns(ctx.claims, ctx.client, ctx.logger, task, [{ taskId, scheduledFor: Date.parse(run.scheduledFor), trigger: run.trigger }]);
    recovered++;
  }
  return recovered;
}

/** Enqueues a periodic task now, with its full options, recorded as a manual run. Works on disabled tasks too. */
export async function runNow(ctx: { tasks: PeriodicTasks; claims: RunClaims; client: BeatClient; logger: Logger }, id: number): Promise<{ taskId: string }> {
  const task = await ctx.tasks.getRecord(id);
  if (!task) throw beatError.periodic_task_not_found(id);
  const now = Date.now();
  // Random (122 bits), never derived from the time: a manual run's id cannot be guessed either.
  const taskId = `beat-${id}-manual-${randomUUID().replaceAll('-', '')}`;
  await ctx.claims.recordRun(id, { taskId, scheduledFor: now, trigger: 'manual' }, now);
  const refused = await enqueueRuns(ctx.claims, ctx.client, ctx.logger, task, [{ taskId, scheduledFor: now, trigger: 'manual' }]);
  const why = refused.get(taskId);
  if (why !== undefined) throw beatError.run_failed(why);
  return { taskId };
}

export interface RunView extends Omit<BeatRun, 'status'> {
  /** A Celery state once enqueued (while the result is kept), else claimed | enqueued | skipped | expired | failed. */
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The run history of a periodic task with each run's outcome from the result store. */
export async function runHistory(tasks: PeriodicTasks, client: BeatClient, id: number, page: { page?: number; pageSize?: number } = {}): Promise<Page<RunView>> {
  const runs = await tasks.runs(id, page);
  const items = await Promise.all(
    runs.items.map(async (run): Promise<RunView> => {
      const view = run.status === 'enqueued' && run.taskId ? await client.getTask(run.taskId).catch(() => null) : null;
      return { ...run, status: view?.status ?? run.status, startedAt: view?.dateStarted ?? null, finishedAt: view?.dateDone ?? null };
    }),
  );
  return { ...runs, items };
}

export interface BeatOptions {
  claims: RunClaims;
  client: BeatClient;
  /** Used for the change-notification subscriber (a duplicate connection) when redisTarget is not given. */
  redis: Redis;
  redisTarget?: RedisTarget | string;
  keys: Keyspace;
  logger: Logger;
  /** The fallback re-check when no notification arrives. */
  recheckMs?: number;
  /** Wake this long before a tick to claim it, so it is enqueued on time (default 100 ms). */
  leadMs?: number;
  staleClaimMs?: number;
  recoveryWindowMs?: number;
  timing?: Partial<BeatTiming>;
}

export interface RunningBeat {
  close(): Promise<void>;
}

const BATCH = 100;

export async function startBeat(options: BeatOptions): Promise<RunningBeat> {
  const { claims, client, logger } = options;
  const recheckMs = options.recheckMs ?? 5_000;
  const leadMs = options.leadMs ?? 100;
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  // A claim is normally enqueued within ~100 ms. Taking over one that is a few seconds old is safe even if
  // its beat is only slow, because the enqueue uses the tick's deterministic task id and BullMQ keeps one
  // job per id; a short threshold means a tick whose beat was killed runs seconds late instead of missed.
  const recovery = { staleMs: options.staleClaimMs ?? 5_000, windowMs: options.recoveryWindowMs ?? 3_600_000 };
  const ctx = { claims, client, logger, timing };

  let closed = false;
  let woken = false;
  let interrupt: (() => void) | undefined;
  const wake = () => {
    woken = true;
    interrupt?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || closed) return resolve();
      const timer = setTimeout(done, ms);
      interrupt = done;
      function done() {
        clearTimeout(timer);
        interrupt = undefined;
        resolve();
      }
    });

  const subscriber = options.redisTarget ? createRedis(options.redisTarget, { name: 'seler-beat', maxRetriesPerRequest: null }) : options.redis.duplicate();
  subscriber.on('error', () => {});
  subscriber.on('message', wake);
  await subscriber.subscribe(beatChangesChannel(options.keys));

  let lastRecovery = 0;
  let failing = false;
  /** Tasks whose claim threw, left alone until the time given (a broken row must not spin the loop). */
  const backoff = new Map<number, number>();
  /** One pass: recover stale claims now and then, fire what is due; returns when to look again. */
  const pass = async (): Promise<number | null> => {
    const now = Date.now();
    if (now - lastRecovery >= recheckMs) {
      lastRecovery = now;
      await recoverStaleClaims(ctx, now, recovery);
    }
    for (const [id, until] of backoff) if (until <= now) backoff.delete(id);
    const due = (await claims.due(now + leadMs, BATCH)).filter((t) => !backoff.has(t.id));
    const outcomes = await Promise.all(
      due.map((t) =>
        fireDue(ctx, t, now).then(
          (won) => (won ? 'won' : 'lost'),
          (err: unknown) => {
            // Redis down is reported once for the process (watchRedisConnection), not once a second per task.
            logger[isRedisUnavailableError(err) ? 'debug' : 'warn']({ periodicTask: t.name, err: errorMessage(err) }, 'claim failed; retrying in a second');
            backoff.set(t.id, Date.now() + 1000);
            return 'error';
          },
        ),
      ),
    );
    // A lost claim or a full batch: look again at once (the task may still be due).
    if (due.length === BATCH || outcomes.includes('lost')) return now;
    const next = await claims.nextDueAt([...backoff.keys()]);
    const candidates = [...backoff.values(), ...(next === null ? [] : [next - leadMs])];
    return candidates.length ? Math.min(...candidates) : null;
  };

  const loop = (async () => {
    while (!closed) {
      woken = false;
      let next: number | null;
      try {
        next = await pass();
        if (failing) logger.info('beat recovered');
        failing = false;
      } catch (err) {
        if (!failing) logger.error({ err: errorMessage(err) }, 'beat pass failed; retrying every second');
        failing = true;
        next = Date.now() + 1000;
      }
      const delay = next === null ? recheckMs : Math.min(recheckMs, Math.max(0, next - Date.now()));
      await sleep(delay);
    }
  })();
  logger.info({ database: claims.database.description }, 'beat started');

  return {
    async close() {
      closed = true;
      interrupt?.();
      await loop;
      await closeRedis(subscriber);
    },
  };
}
