// seler's error (its code, message, traceback) is written with the failure itself: a reader that looks
// at a task the moment it turns FAILURE or RETRY (on BullMQ's event, which its failure script writes
// together with the new state) always finds it, never BullMQ's bare failedReason. (A write made just after
// the state change is usually in before such a reader too: durable-finish.redis.test.ts shows the case that
// lost it, a failure recorded while Redis refused writes for a moment.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { connectRedis, type Redis } from '../platform/redis.js';
import { EVENT_FIELD } from './bull-layout.js';
import { defineTask } from './define-task.js';
import { PermanentFailure, bullEventsKey, type TaskView } from './index.js';

declare module './define-task.js' {
  interface TaskTypes {
    'test.failure-write.fail': { args: []; kwargs: Record<string, never>; result: never };
    'test.failure-write.retry': { args: []; kwargs: Record<string, never>; result: never };
  }
}

const QUEUE = 'failure-write';
defineTask('test.failure-write.fail', { queue: QUEUE }, () => {
  throw new PermanentFailure('gave up', 'seler_code_failed');
});
// Retried after a minute: it stays RETRY for the whole test.
defineTask('test.failure-write.retry', { queue: QUEUE, maxAttempts: 2, retryBackoffMs: 60_000 }, () => {
  throw Object.assign(new Error('try later'), { code: 'seler_code_retry' });
});

let app: TestApp;
let reader: Redis;
beforeAll(async () => {
  app = await startTestApp({ web: false, worker: { concurrency: 8, queues: [QUEUE] } });
  reader = await connectRedis(testRedisUrl());
});
afterAll(async () => {
  reader?.disconnect();
  await app?.close();
});

/** Reads each task as soon as BullMQ's event stream says it failed or was delayed for a retry. */
async function readAtTheMoment(expected: number, start: () => Promise<void>): Promise<Map<string, TaskView | null>> {
  const key = bullEventsKey(app.runtime.client.bullPrefix, QUEUE);
  const seen = new Map<string, TaskView | null>();
  let cursor = (await reader.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
  await start();
  const deadline = Date.now() + 20_000;
  while (seen.size < expected && Date.now() < deadline) {
    const reply = (await reader.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', key, cursor)) ?? [];
    for (const [, entries] of reply) {
      for (const [id, fields] of entries) {
        cursor = id;
        const event = fields[fields.indexOf(EVENT_FIELD.event) + 1];
        const jobId = fields[fields.indexOf(EVENT_FIELD.jobId) + 1]!;
        if (event === 'failed' || event === 'delayed') seen.set(jobId, await app.runtime.client.readTask(jobId, { queue: QUEUE }).then((r) => r?.view ?? null));
      }
    }
  }
  return seen;
}

describe("a failed run's error", () => {
  it('is there the moment the task turns FAILURE or RETRY, every time', async () => {
    const ROUNDS = 60;
    const ids = { fail: new Set<string>(), retry: new Set<string>() };
    const seen = await readAtTheMoment(ROUNDS * 2, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        ids.fail.add((await app.runtime.client.enqueue('test.failure-write.fail')).id);
        ids.retry.add((await app.runtime.client.enqueue('test.failure-write.retry')).id);
      }
    });
    expect(seen.size).toBe(ROUNDS * 2);
    for (const [id, view] of seen) {
      const kind = ids.fail.has(id) ? 'failed' : 'retry';
      expect({ id, status: view?.status, code: view?.error?.code }).toEqual({ id, status: kind === 'failed' ? 'FAILURE' : 'RETRY', code: `seler_code_${kind}` });
      expect(view?.error?.traceback).toContain(kind === 'failed' ? 'gave up' : 'try later');
    }
  });
});
