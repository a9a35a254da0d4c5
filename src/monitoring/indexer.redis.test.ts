import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { deleteKeys } from '../../test/helpers/redis.js';
import { silentLogger } from '../platform/logger.js';
import { bullEventsKey } from '../tasks/index.js';
import { TaskIndexer, type IndexerOptions } from './indexer.js';
import { CONSUMER_GROUP } from './keys.js';
import { getSummary, listTasks } from './store.js';
import { readMinutes, readRuntimeHistograms, readTotals } from './stats.js';

const DAY = 86_400_000;

describe('the monitor indexer', () => {
  let app: TestApp;
  const indexers: TaskIndexer[] = [];
  const indexer = (options: Partial<IndexerOptions> = {}) => {
    const i = new TaskIndexer({ redis: app.runtime.redis, redisTarget: app.runtime.redisTarget, client: app.runtime.client, logger: silentLogger, blockMs: 200, ...options });
    indexers.push(i);
    return i;
  };
  const settled = (id: string) =>
    waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(v.status) ? v : undefined;
    });
  const ids = async (key: string) => (await app.runtime.redis.zrange(key, '0', '-1')).sort();

  beforeAll(async () => {
    app = await startTestApp({ web: false, worker: { concurrency: 2 } });
  });
  afterEach(async () => {
    await Promise.all(indexers.splice(0).map((i) => i.stop()));
    await app.runtime.client.events.drain(); // no late write of this test's events into the next one's stream
    // Each test starts from an empty index and stream, and no finished jobs (the reconciler would index them).
    await Promise.all(['completed', 'failed'].map((set) => app.runtime.client.queue('default').clean(0, 0, set as 'completed' | 'failed')));
    await deleteKeys(app.runtime.redis, `${app.runtime.client.keys.key('mon')}*`);
    await app.runtime.redis.del(app.runtime.client.keys.key('events'), bullEventsKey(app.runtime.client.bullPrefix, 'default'));
  });
  afterAll(async () => app?.close());

  it('clears an earlier attempt’s error once the task succeeds (the timeline keeps it)', async () => {
    const ix = indexer();
    await ix.start();
    const { id } = await app.runtime.client.enqueue('demo.flaky', { args: [2], kwargs: { countdown: 0.05 } });
    await settled(id);
    await ix.caughtUp();
    const summary = (await getSummary(app.runtime.redis, ix.keys, id))!;
    expect(summary.s).toBe('SUCCESS');
    expect(summary.e).toBeUndefined();
    expect((summary.tl as unknown[][]).find((e) => e[0] === 'retried')?.[2]).toBe('attempt 1 is too early');
  });

  it('indexes real tasks by state, name and queue, with their summary, counters and runtimes', async () => {
    const ix = indexer();
    await ix.start();
    const client = app.runtime.client;
    const ok = await client.enqueue('demo.add', { args: [2, 3] });
    const bad = await client.enqueue('demo.fail', { args: ['it broke'] });
    const later = await client.enqueue('demo.add', { args: [1, 1], countdown: 600 });
    await Promise.all([settled(ok.id), settled(bad.id)]);
    await ix.caughtUp();
    const mk = ix.keys;

    expect(await ids(mk.state('SUCCESS'))).toEqual([ok.id]);
    expect(await ids(mk.state('FAILURE'))).toEqual([bad.id]);
    expect(await ids(mk.state('PENDING'))).toEqual([later.id]);
    expect(await ids(mk.name('demo.add'))).toEqual([ok.id, later.id].sort());
    expect(await ids(mk.queue('default'))).toEqual([ok.id, bad.id, later.id].sort());
    expect(await ids(mk.all)).toEqual([ok.id, bad.id, later.id].sort());
    // Only finished tasks have an expiry.
    expect(await ids(mk.exp)).toEqual([ok.id, bad.id].sort());

    const okSum = (await getSummary(app.runtime.redis, mk, ok.id))!;
    expect(okSum).toMatchObject({ n: 'demo.add', q: 'default', s: 'SUCCESS', w: app.worker!.name, at: 1 });
    expect(okSum.rt).toBeGreaterThanOrEqual(0);
    expect((okSum.tl as unknown[][]).map((e) => e[0])).toEqual(['sent', 'started', 'succeeded']);
    const job = await app.runtime.redis.hget(`${client.bullPrefix}:default:${ok.id}`, 'timestamp');
    expect(okSum.t0).toBe(Number(job));
    expect((await getSummary(app.runtime.redis, mk, bad.id))!.e).toBe('it broke');
    expect((await getSummary(app.runtime.redis, mk, later.id))!.eta).toBeGreaterThan(Date.now() + 500_000);
    expect(await app.runtime.redis.hget(mk.args, ok.id)).toContain('"args":[2,3]');

    const totals = await readTotals(app.runtime.redis, mk);
    expect(totals.get('demo.add')).toEqual({ sent: 2, succeeded: 1, failed: 0, retried: 0, revoked: 0 });
    expect(totals.get('demo.fail')).toEqual({ sent: 1, succeeded: 0, failed: 1, retried: 0, revoked: 0 });
    const histogram = (await readRuntimeHistograms(app.runtime.redis, mk)).get('demo.add')!;
    expect(histogram.count).toBe(1);
    expect(histogram.buckets.reduce((s, n) => s + n, 0)).toBe(1);
    const minutes = await readMinutes(app.runtime.redis, mk, Date.now(), 2);
    const sum = (field: string) => minutes.reduce((s, m) => s + Number(m.fields[field] ?? 0), 0);
    expect([sum('sent'), sum('succeeded'), sum('failed'), sum('d:default'), sum('c:demo.add')]).toEqual([3, 1, 1, 2, 1]);
    await app.runtime.client.forget(later.id).catch(() => {});
  });

  it('applies each event once, and follows the newest event when they arrive out of order', async () => {
    const ix = indexer();
    await ix.ensureGroups();
    const entry = (id: string, type: string, ts: number, data?: object): [string, string[]] => [
      id,
      ['t', type, 'id', 'task-1', 'n', 'x.task', 'q', 'default', 'ts', String(ts), ...(data ? ['d', JSON.stringify(data)] : [])],
    ];
    const sent = entry('1000-0', 'sent', 1000);
    const started = entry('1001-0', 'started', 1001, { worker: 'w1', attempt: 1 });
    const done = entry('1002-0', 'succeeded', 1050, { runtimeMs: 49 });
    // Not delivered through the group: apply without acknowledging (a rebuild), newest first.
    expect(await ix.applyEntries([done, sent], { group: false })).toBe(2);
    expect(await ix.applyEntries([started], { group: false })).toBe(1);
    const s = (await getSummary(app.runtime.redis, ix.keys, 'task-1'))!;
    expect(s).toMatchObject({ s: 'SUCCESS', sid: '1002-0', t1: 1001, t2: 1050, rt: 49, w: 'w1' });
    expect((s.tl as unknown[][]).map((e) => e[0])).toEqual(['sent', 'started', 'succeeded']);
    expect(await ids(ix.keys.state('SUCCESS'))).toEqual(['task-1']);
    expect(await ids(ix.keys.state('STARTED'))).toEqual([]);

    // Through the group: an entry already acknowledged is skipped.
    const streamId = await app.runtime.client.events.append({ type: 'sent', taskId: 'task-2', name: 'x.task', queue: 'default', ts: Date.now() });
    const read = (await app.runtime.redis.xreadgroup('GROUP', CONSUMER_GROUP, ix.consumer, 'COUNT', 10, 'STREAMS', ix.keys.events, '>')) as [string, [string, string[]][]][];
    const entries = read[0]![1];
    expect(entries.map((e) => e[0])).toEqual([streamId]);
    expect(await ix.applyEntries(entries)).toBe(1);
    expect(await ix.applyEntries(entries)).toBe(0);
    expect((await readTotals(app.runtime.redis, ix.keys)).get('x.task')!.sent).toBe(2);
  });

  it('shows a task a worker holds back (received) as PENDING until it starts again, without a timeline step', async () => {
    const ix = indexer();
    const entry = (id: string, type: string, data?: object): [string, string[]] => [
      id,
      ['t', type, 'id', 'held-1', 'n', 'x.limited', 'q', 'default', 'ts', id.split('-')[0]!, ...(data ? ['d', JSON.stringify(data)] : [])],
    ];
    await ix.applyEntries([entry('2000-0', 'sent'), entry('2001-0', 'started', { worker: 'w1', attempt: 1 }), entry('2002-0', 'received', { eta: 2500, reason: 'rate limit' })], { group: false });
    let s = (await getSummary(app.runtime.redis, ix.keys, 'held-1'))!;
    expect(s).toMatchObject({ s: 'PENDING', eta: 2500 });
    expect(await ids(ix.keys.state('PENDING'))).toEqual(['held-1']);
    expect(await ids(ix.keys.state('STARTED'))).toEqual([]);
    await ix.applyEntries([entry('2500-0', 'started', { worker: 'w1', attempt: 1 })], { group: false });
    s = (await getSummary(app.runtime.redis, ix.keys, 'held-1'))!;
    expect(s.s).toBe('STARTED');
    expect((s.tl as unknown[][]).map((e) => e[0])).toEqual(['sent', 'started', 'started']);
    expect((await readTotals(app.runtime.redis, ix.keys)).get('x.limited')).toMatchObject({ sent: 1 });
  });

  it('trims finished tasks when their retention passes, and keeps unfinished ones', async () => {
    const ix = indexer();
    await ix.start();
    const done = await app.runtime.client.enqueue('demo.add', { args: [1, 2] });
    const waiting = await app.runtime.client.enqueue('demo.add', { args: [3, 4], countdown: 600 });
    await settled(done.id);
    await ix.caughtUp();
    expect(await ids(ix.keys.all)).toEqual([done.id, waiting.id].sort());

    // Not yet: 23 hours on.
    expect((await indexer({ now: () => Date.now() + DAY - 3600_000 }).maintain({ force: true })).trimmed).toBe(0);
    const later = indexer({ now: () => Date.now() + DAY + 60_000 });
    expect((await later.maintain({ force: true })).trimmed).toBe(1);
    expect(await ids(ix.keys.all)).toEqual([waiting.id]);
    expect(await ids(ix.keys.name('demo.add'))).toEqual([waiting.id]);
    expect(await ids(ix.keys.state('SUCCESS'))).toEqual([]);
    expect(await app.runtime.redis.hexists(ix.keys.sum, done.id)).toBe(0);
    expect(await app.runtime.redis.hexists(ix.keys.args, done.id)).toBe(0);
    // The waiting task's job still exists, so the stale-entry sweep keeps it; once the job is gone, it goes.
    expect((await later.maintain({ force: true })).swept).toBe(0);
    await app.runtime.client.forget(waiting.id);
    expect((await later.maintain({ force: true })).swept).toBe(1);
    expect(await ids(ix.keys.all)).toEqual([]);
  });

  it('reconciles with BullMQ the tasks whose events were lost, counting them once', async () => {
    const client = app.runtime.client;
    const oks = await Promise.all([1, 2, 3].map((n) => client.enqueue('demo.add', { args: [n, 0] })));
    const bad = await client.enqueue('demo.fail', { args: ['lost'] });
    await Promise.all([...oks, bad].map((t) => settled(t.id)));
    // Everything the stream held is gone before any indexer read it.
    await app.runtime.redis.del(client.keys.key('events'));
    const ix = indexer();
    await ix.ensureGroups();
    // Of the third task only the final event reached the index (its sent event was lost).
    const third = (await app.runtime.client.getTask(oks[2]!.id))!;
    const finished = Date.parse(third.dateDone!);
    const final = ['t', 'succeeded', 'id', third.id, 'n', 'demo.add', 'q', 'default', 'ts', String(finished), 'd', JSON.stringify({ runtimeMs: 1 })];
    expect(await ix.applyEntries([[`${finished}-0`, final]], { group: false })).toBe(1);
    expect(await ix.reconcile({ lagMs: 0 })).toBe(3);
    const thirdSummary = (await getSummary(app.runtime.redis, ix.keys, third.id))!;
    expect((thirdSummary.tl as unknown[][]).map((e) => e[0])).toEqual(['sent', 'succeeded']);
    expect(await ids(ix.keys.state('SUCCESS'))).toEqual(oks.map((t) => t.id).sort());
    expect(await ids(ix.keys.state('FAILURE'))).toEqual([bad.id]);
    const s = (await getSummary(app.runtime.redis, ix.keys, oks[0]!.id))!;
    expect(s).toMatchObject({ n: 'demo.add', q: 'default', s: 'SUCCESS', bf: 1, at: 1 });
    expect(s.rt).toBe(s.t2! - s.t1!);
    expect((s.tl as unknown[][]).map((e) => e[0])).toEqual(['sent', 'started', 'succeeded']);
    expect((await getSummary(app.runtime.redis, ix.keys, bad.id))!.e).toBe('lost');
    const counted = { sent: 3, succeeded: 3, failed: 0, retried: 0, revoked: 0 };
    expect((await readTotals(app.runtime.redis, ix.keys)).get('demo.add')).toEqual(counted);
    expect((await readRuntimeHistograms(app.runtime.redis, ix.keys)).get('demo.add')!.count).toBe(3);
    // A second walk finds nothing new; a late event of a reconciled task is not counted again.
    expect(await ix.reconcile({ lagMs: 0 })).toBe(0);
    const late = `${s.t2! + 5}-0`;
    const fields = ['t', 'succeeded', 'id', oks[0]!.id, 'n', 'demo.add', 'q', 'default', 'ts', String(s.t2), 'd', JSON.stringify({ runtimeMs: s.rt })];
    expect(await ix.applyEntries([[late, fields]], { group: false })).toBe(1);
    expect((await readTotals(app.runtime.redis, ix.keys)).get('demo.add')).toEqual(counted);
    expect((await getSummary(app.runtime.redis, ix.keys, oks[0]!.id))!.bf).toBeUndefined();
  });

  it('shares the stream between two indexers, each event applied once', async () => {
    const a = indexer({ batch: 5 });
    const b = indexer({ batch: 5 });
    await Promise.all([a.start(), b.start()]);
    const n = 300;
    for (let i = 0; i < n; i++) void app.runtime.client.events.append({ type: 'sent', taskId: `shared-${i}`, name: 'x.shared', queue: 'default', ts: Date.now() });
    await waitFor(async () => a.applied + b.applied >= n);
    await a.caughtUp();
    expect(a.applied + b.applied).toBe(n);
    expect(a.applied).toBeGreaterThan(0);
    expect(b.applied).toBeGreaterThan(0);
    expect((await readTotals(app.runtime.redis, a.keys)).get('x.shared')!.sent).toBe(n);
    expect(await app.runtime.redis.zcard(a.keys.all)).toBe(n);
  });

  it('takes over what a dead consumer received and never acknowledged', async () => {
    const survivor = indexer({ claimIdleMs: 50 });
    await survivor.ensureGroups();
    for (let i = 0; i < 5; i++) await app.runtime.client.events.append({ type: 'sent', taskId: `orphan-${i}`, name: 'x.orphan', queue: 'default', ts: Date.now() });
    // A consumer reads the entries, then dies before applying them.
    const read = (await app.runtime.redis.xreadgroup('GROUP', CONSUMER_GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', survivor.keys.events, '>')) as [string, unknown[]][];
    expect(read[0]![1]).toHaveLength(5);
    expect(await app.runtime.redis.zcard(survivor.keys.all)).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect((await survivor.maintain()).claimed).toBe(5);
    expect(await app.runtime.redis.zcard(survivor.keys.all)).toBe(5);
    const pending = (await app.runtime.redis.xpending(survivor.keys.events, CONSUMER_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('applies on stop what a read cut short left delivered to it, then leaves the group', async () => {
    const ix = indexer();
    await ix.ensureGroups();
    for (let i = 0; i < 3; i++) await app.runtime.client.events.append({ type: 'sent', taskId: `cut-${i}`, name: 'x.cut', queue: 'default', ts: Date.now() });
    // As if its blocking read had been delivered these entries when the connection was cut.
    await app.runtime.redis.xreadgroup('GROUP', CONSUMER_GROUP, ix.consumer, 'COUNT', 10, 'STREAMS', ix.keys.events, '>');
    await ix.start();
    expect(await app.runtime.redis.zcard(ix.keys.all)).toBe(0);
    await ix.stop();
    expect(await ids(ix.keys.all)).toEqual(['cut-0', 'cut-1', 'cut-2']);
    expect(((await app.runtime.redis.xpending(ix.keys.events, CONSUMER_GROUP)) as [number])[0]).toBe(0);
    const consumers = (await app.runtime.redis.xinfo('CONSUMERS', ix.keys.events, CONSUMER_GROUP)) as unknown[][];
    expect(consumers.map((c) => c[1])).not.toContain(ix.consumer);
  });

  it('resumes where the group left off after a restart, without counting anything twice', async () => {
    const first = indexer();
    await first.start();
    const append = (i: number) => app.runtime.client.events.append({ type: 'sent', taskId: `resume-${i}`, name: 'x.resume', queue: 'default', ts: 1_000_000 + i });
    for (let i = 0; i < 10; i++) await append(i);
    await first.caughtUp();
    await first.stop();
    for (let i = 10; i < 25; i++) await append(i); // while no indexer runs
    expect(await app.runtime.redis.zcard(first.keys.all)).toBe(10);
    const second = indexer();
    await second.start();
    await second.caughtUp();
    expect(second.applied).toBe(15);
    expect(await app.runtime.redis.zcard(second.keys.all)).toBe(25);
    expect((await readTotals(app.runtime.redis, second.keys)).get('x.resume')!.sent).toBe(25);
    const page = await listTasks(app.runtime.redis, second.keys, { limit: 3 });
    expect(page.items.map((r) => r.id)).toEqual(['resume-24', 'resume-23', 'resume-22']);
  });
});
