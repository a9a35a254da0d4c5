// Pins bull-layout.ts to the installed BullMQ: a real Queue and Worker take jobs through every state seler
// reads, and the raw keys and hash fields they leave must be exactly the ones the layout names. A BullMQ
// upgrade that renames, moves or adds one fails here, not in the monitor's index or a task's status.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, Queue, QueueKeys, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { createRedis, type Redis } from '../platform/redis.js';
import {
  BULLMQ_CHECKED,
  BULL_EVENT,
  BULL_ONLY_JOB_FIELD,
  BULL_ONLY_QUEUE_KEY,
  EVENT_FIELD,
  JOB_FIELD,
  JOB_SUBKEY,
  META_FIELD,
  QUEUE_KEY,
  bullKey,
  delayedDueAt,
} from './bull-layout.js';
import { RESERVED_TASK_IDS } from './ids.js';

const F = JOB_FIELD;
const K = QUEUE_KEY;
const OWN = BULL_ONLY_QUEUE_KEY;
const WORKER_NAME = 'layout-worker';

let redis: Redis;
let prefix: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await testRedis();
  prefix = `{${uniquePrefix('layout')}}`;
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
});

function queue(name: string): Queue {
  const q = new Queue(name, { connection: redis, prefix });
  closers.push(() => q.close());
  return q;
}

const sorted = (names: Iterable<string>) => [...names].sort();
const fieldsOf = async (queueName: string, id: string) => sorted(Object.keys(await redis.hgetall(bullKey(prefix, queueName, id))));

/** Every key of a queue as `<part>: <redis type>`, a job's id written `<job>` (so `<job>: hash`, `<job>:lock: string`). */
async function keysOf(queueName: string, jobIds: string[]): Promise<string[]> {
  const base = `${prefix}:${queueName}:`;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const [first, ...rest] = key.slice(base.length).split(':');
      const part = [jobIds.includes(first!) ? '<job>' : first, ...rest].join(':');
      found.push(`${part}: ${await redis.type(key)}`);
    }
  } while (cursor !== '0');
  return found.sort();
}

async function until<T>(what: string, read: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The fields of each entry of a queue's event stream for one job, by event name. */
async function eventsOf(queueName: string, jobId: string): Promise<Map<string, string[]>> {
  const entries = await redis.xrange(bullKey(prefix, queueName, K.events), '-', '+');
  const byEvent = new Map<string, string[]>();
  for (const [, fields] of entries) {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
    if (map.get(EVENT_FIELD.jobId) === jobId) byEvent.set(map.get(EVENT_FIELD.event)!, [...map.keys()]);
  }
  return byEvent;
}

describe('BullMQ layout (bull-layout.ts)', () => {
  it('was checked against the installed BullMQ version', () => {
    const installed = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
    const within = compareVersions(installed, BULLMQ_CHECKED.from) >= 0 && compareVersions(installed, BULLMQ_CHECKED.before) < 0;
    expect(
      within,
      `BullMQ ${installed} is installed, but src/tasks/bull-layout.ts was checked against >=${BULLMQ_CHECKED.from} <${BULLMQ_CHECKED.before}. ` +
        "Re-check what seler reads and writes beside BullMQ's API: the job hash fields (JOB_FIELD), the key types (QUEUE_KEY), " +
        'the meta hash and event stream fields, the delayed score (delayedDueAt), and the order of BullMQ\'s getStateV2 script ' +
        '(node_modules/bullmq/dist/esm/scripts/getStateV2-8.js) that lua/job-snapshot-10.lua follows; the other tests in this ' +
        'file say what moved. Then set BULLMQ_CHECKED to the range you checked.',
    ).toBe(true);
  });

  it("builds keys as BullMQ does, names only key types BullMQ has, and no task id can take one of BullMQ's key names", () => {
    const keys = new QueueKeys(prefix);
    const bullTypes = Object.keys(keys.getKeys('q')).filter(Boolean);
    for (const type of Object.values(QUEUE_KEY)) {
      expect(bullTypes, `key type ${type}`).toContain(type);
      expect(bullKey(prefix, 'q', type)).toBe(keys.toKey('q', type));
    }
    expect(bullKey(prefix, 'q', 'job-1')).toBe(keys.toKey('q', 'job-1'));
    const named = new Set<string>([...Object.values(QUEUE_KEY), ...Object.values(BULL_ONLY_QUEUE_KEY)]);
    expect(bullTypes.filter((type) => !named.has(type)), 'key types BullMQ has and bull-layout.ts does not name').toEqual([]);
    expect(bullTypes.filter((type) => !RESERVED_TASK_IDS.has(type)), 'key types a task id could take').toEqual([]);
  });

  it('waiting, delayed, prioritized, waiting-children, paused: exactly the keys and fields the layout names', async () => {
    const q = queue('idle');
    const waiting = await q.add('w', { n: 1 });
    const delayed = await q.add('d', {}, { delay: 60_000 });
    const prioritized = await q.add('p', {}, { priority: 5 });
    const flowProducer = new FlowProducer({ connection: redis, prefix });
    closers.push(() => flowProducer.close());
    const flow = await flowProducer.add({ name: 'parent', queueName: 'idle', children: [{ name: 'child', queueName: 'idle', data: {} }] });
    const parent = flow.job;
    const child = flow.children![0]!.job;
    await q.pause();

    const added = sorted([F.name, F.data, F.opts, F.timestamp, F.delay, F.priority]);
    for (const job of [waiting, delayed, prioritized, parent]) expect(await fieldsOf('idle', job.id!), job.name).toEqual(added);
    expect(await fieldsOf('idle', child.id!)).toEqual(sorted([...added, BULL_ONLY_JOB_FIELD.parent, BULL_ONLY_JOB_FIELD.parentKey]));

    expect(await keysOf('idle', [waiting, delayed, prioritized, parent, child].map((job) => job.id!))).toEqual(
      sorted([
        ...Array(5).fill('<job>: hash'),
        `<job>:${JOB_SUBKEY.dependencies}: set`,
        `${K.wait}: list`,
        `${K.delayed}: zset`,
        `${K.prioritized}: zset`,
        `${K.waitingChildren}: zset`,
        `${K.events}: stream`,
        `${K.meta}: hash`,
        `${OWN.jobIdCounter}: string`,
        `${OWN.priorityCounter}: string`,
      ]),
    );
    const wait = await redis.lrange(bullKey(prefix, 'idle', K.wait), 0, -1);
    expect(sorted(wait)).toEqual(sorted([waiting.id!, child.id!]));
    expect(await redis.zrange(bullKey(prefix, 'idle', K.prioritized), '0', '-1')).toEqual([prioritized.id]);
    expect(await redis.zrange(bullKey(prefix, 'idle', K.waitingChildren), '0', '-1')).toEqual([parent.id]);
    const due = await redis.zscore(bullKey(prefix, 'idle', K.delayed), delayed.id!);
    expect(delayedDueAt(due!)).toBe(delayed.timestamp + 60_000);
    expect(await redis.hget(bullKey(prefix, 'idle', K.meta), META_FIELD.paused)).toBe('1');
    // BullMQ 5 and later keep a paused queue's jobs in the wait list: the paused list stays empty.
    expect(await redis.exists(bullKey(prefix, 'idle', K.paused))).toBe(0);

    const addedEvent = await eventsOf('idle', waiting.id!);
    expect(addedEvent.get(BULL_EVENT.added)).toEqual(expect.arrayContaining([EVENT_FIELD.event, EVENT_FIELD.jobId, EVENT_FIELD.name]));
  });

  it('active, completed, failed, and delayed for a retry: exactly the fields the layout names', async () => {
    const q = queue('run');
    let entered: (id: string) => void = () => {};
    const holding = new Promise<string>((resolve) => (entered = resolve));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const connection = createRedis(testRedisUrl(), { name: 'seler-test-layout-worker', maxRetriesPerRequest: null });
    const worker = new Worker(
      'run',
      async (job) => {
        if (job.name === 'hold') {
          await job.updateProgress({ current: 1, total: 2 });
          entered(job.id!);
          await released;
          return { done: true };
        }
        throw new Error(`${job.name} failed`);
      },
      { connection, prefix, name: WORKER_NAME },
    );
    closers.push(async () => {
      await worker.close();
      connection.disconnect();
    });

    const held = await q.add('hold', { args: [1] });
    await holding;
    const active = sorted([F.name, F.data, F.opts, F.timestamp, F.delay, F.priority, F.processedOn, F.attemptsStarted, F.processedBy, F.progress]);
    expect(await fieldsOf('run', held.id!)).toEqual(active);
    expect(await redis.lrange(bullKey(prefix, 'run', K.active), 0, -1)).toEqual([held.id]);
    expect(await redis.hget(bullKey(prefix, 'run', held.id!), F.processedBy)).toBe(WORKER_NAME);
    expect(await redis.hget(bullKey(prefix, 'run', held.id!), F.attemptsStarted)).toBe('1');
    expect(await redis.exists(bullKey(prefix, 'run', `${held.id}:${JOB_SUBKEY.lock}`))).toBe(1);
    release();

    const finishedAt = await until('the completed set', () => redis.zscore(bullKey(prefix, 'run', K.completed), held.id!));
    expect(await fieldsOf('run', held.id!)).toEqual(sorted([...active, F.finishedOn, F.returnvalue, F.attemptsMade]));
    const done = await redis.hmget(bullKey(prefix, 'run', held.id!), F.finishedOn, F.returnvalue, F.attemptsMade, F.progress);
    expect(done).toEqual([finishedAt, JSON.stringify({ done: true }), '1', JSON.stringify({ current: 1, total: 2 })]);
    const heldEvents = await eventsOf('run', held.id!);
    for (const event of Object.values(BULL_EVENT)) expect([...heldEvents.keys()], `a ${event} event`).toContain(event);
    expect(heldEvents.get(BULL_EVENT.progress)).toEqual(expect.arrayContaining([EVENT_FIELD.event, EVENT_FIELD.jobId, EVENT_FIELD.data]));

    const failing = await q.add('boom', {});
    const failedAt = await until('the failed set', () => redis.zscore(bullKey(prefix, 'run', K.failed), failing.id!));
    const failed = sorted([F.name, F.data, F.opts, F.timestamp, F.delay, F.priority, F.processedOn, F.attemptsStarted, F.processedBy, F.finishedOn, F.failedReason, F.stacktrace, F.attemptsMade]);
    expect(await fieldsOf('run', failing.id!)).toEqual(failed);
    const [failedOn, reason, stack] = await redis.hmget(bullKey(prefix, 'run', failing.id!), F.finishedOn, F.failedReason, F.stacktrace);
    expect(failedOn).toBe(failedAt);
    expect(reason).toBe('boom failed');
    expect(JSON.parse(stack!)).toEqual([expect.stringContaining('boom failed')]);

    // A failed attempt with attempts left: back to the delayed set (seler's RETRY), with the attempt's error.
    const retrying = await q.add('again', {}, { attempts: 2, backoff: { type: 'fixed', delay: 60_000 } });
    const due = await until('the delayed set', () => redis.zscore(bullKey(prefix, 'run', K.delayed), retrying.id!));
    const retry = await redis.hgetall(bullKey(prefix, 'run', retrying.id!));
    expect(sorted(Object.keys(retry))).toEqual(
      sorted([F.name, F.data, F.opts, F.timestamp, F.delay, F.priority, F.processedOn, F.attemptsStarted, F.processedBy, F.failedReason, F.stacktrace, F.attemptsMade]),
    );
    expect(retry[F.attemptsMade]).toBe('1');
    expect(delayedDueAt(due)).toBeGreaterThanOrEqual(Date.now() + 50_000);

    // The marker (a zset waking idle workers) comes and goes with the timing: allowed, not required.
    const runKeys = await keysOf('run', [held.id!, failing.id!, retrying.id!]);
    const required = [...Array(3).fill('<job>: hash'), `${K.completed}: zset`, `${K.failed}: zset`, `${K.delayed}: zset`, `${K.events}: stream`, `${K.meta}: hash`, `${OWN.jobIdCounter}: string`];
    const allowed = new Set([...required, `${OWN.marker}: zset`, `${OWN.stalledCheck}: string`]);
    expect(runKeys.filter((key) => !allowed.has(key)), 'keys bull-layout.ts does not name').toEqual([]);
    expect(runKeys).toEqual(expect.arrayContaining(required));
  });
});

/** -1, 0 or 1 as version a is before, equal to or after b (major.minor.patch; a pre-release counts as its release). */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return Math.sign(pa[i]! - pb[i]!);
  return 0;
}
