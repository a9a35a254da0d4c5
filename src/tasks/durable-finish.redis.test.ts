// A task that finishes while its Redis is read-only for a moment (a master being demoted, as in a
// Sentinel or Cluster failover) is recorded once Redis takes writes again: it is neither failed for
// it nor run a second time. The Redis here is a server of the test's own, made a replica of a port
// nobody listens on (every write answers READONLY, the data stays) and then a master again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { freePort, redisCli, startRedisProcess, type RedisProcess } from '../../test/helpers/redis-topologies.js';
import { defineTask } from './define-task.js';

declare module './define-task.js' {
  interface TaskTypes {
    'test.finish-while-readonly': { args: [boolean]; kwargs: Record<string, never>; result: string };
  }
}

const runs = new Map<string, number>();
let release: () => void = () => {};
let gate = new Promise<void>((r) => (release = r));
defineTask('test.finish-while-readonly', {}, async ([fail], _kwargs, ctx) => {
  runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
  await gate;
  if (fail) throw Object.assign(new Error('the task itself failed'), { code: 'the_task_code' });
  return 'done';
});

describe('a task finishing while Redis refuses writes for a moment', () => {
  let dir: string;
  let redis: RedisProcess;
  let app: TestApp;
  const LOCK_SECONDS = 4;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seler-readonly-'));
    redis = await startRedisProcess(dir, '127.0.0.1', ['maxmemory-policy noeviction']);
    app = await startTestApp({
      web: false,
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, SELER_LOCK_DURATION: String(LOCK_SECONDS) },
      worker: { concurrency: 1 },
    });
  });
  afterAll(async () => {
    await redisCli(redis, 'REPLICAOF', 'NO', 'ONE').catch(() => {});
    await app?.close();
    redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function finishWhileReadOnly(fail: boolean) {
    gate = new Promise<void>((r) => (release = r));
    const { id } = await app.runtime.client.enqueue('test.finish-while-readonly', { args: [fail] });
    await waitFor(async () => runs.get(id) === 1);
    await redisCli(redis, 'REPLICAOF', '127.0.0.1', String(await freePort()));
    release();
    // Read-only for longer than BullMQ's own retry would wait, well under the give-up time (half the lock).
    await sleep(1200);
    await redisCli(redis, 'REPLICAOF', 'NO', 'ONE');
    const view = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v && ['SUCCESS', 'FAILURE'].includes(v.status) ? v : undefined;
    }, 20_000);
    // Past the lock's end and a stalled check: a task left active would have been queued and run again by now.
    await sleep(LOCK_SECONDS * 1000 + 2500);
    return { id, view, runs: runs.get(id) };
  }

  it('a task that succeeded ends SUCCESS with its result, having run once', async () => {
    const { view, runs: n } = await finishWhileReadOnly(false);
    expect(view.status).toBe('SUCCESS');
    expect(view.result).toBe('done');
    expect(n).toBe(1);
  });

  it('a task that failed ends FAILURE with its own error, having run once', async () => {
    const { view, runs: n } = await finishWhileReadOnly(true);
    expect(view.status).toBe('FAILURE');
    expect(view.error?.message).toContain('the task itself failed');
    // seler's error is part of the failure write Redis refused for a while, not a write of its own that is lost.
    expect(view.error?.code).toBe('the_task_code');
    expect(n).toBe(1);
  });
});
