// readJobSnapshot reads in one MULTI what BullMQ reads with two commands: it must say what BullMQ says,
// in every state, so a BullMQ upgrade that moves a job's keys fails here and not in production.
import { FlowProducer, Job, Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { createRedis, type Redis } from '../platform/redis.js';
import { readJobSnapshot } from './job-snapshot.js';

let redis: Redis;
let prefix: string;
let queue: Queue;
let worker: Worker;
let workerConnection: Redis;
beforeAll(async () => {
  redis = await testRedis();
  prefix = `{${uniquePrefix('snap')}}`;
  queue = new Queue('q', { connection: redis, prefix });
  // No processor: the test moves jobs to active and on by hand, as a worker would.
  workerConnection = createRedis(testRedisUrl(), { name: 'seler-test-worker', maxRetriesPerRequest: null });
  worker = new Worker('q', null, { connection: workerConnection, prefix, autorun: false });
});
afterAll(async () => {
  await worker?.close();
  workerConnection?.disconnect();
  await queue?.close();
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
});

async function agrees(id: string, revokedKey?: string) {
  const [snapshot, job, state] = await Promise.all([readJobSnapshot(redis, queue, id, revokedKey), Job.fromId(queue, id), queue.getJobState(id)]);
  expect(snapshot?.state).toBe(state);
  expect(snapshot).toMatchObject({
    name: job!.name,
    data: job!.data,
    timestamp: job!.timestamp,
    attemptsMade: job!.attemptsMade,
    progress: job!.progress,
    processedOn: job!.processedOn,
    finishedOn: job!.finishedOn,
    returnvalue: job!.returnvalue,
    failedReason: job!.failedReason,
    stacktrace: job!.stacktrace,
  });
  return snapshot!;
}

describe('readJobSnapshot', () => {
  it('gives the state, the result and the error BullMQ gives, in every state', async () => {
    const waiting = await queue.add('w', { n: 1 });
    expect((await agrees(waiting.id!)).state).toBe('waiting');
    const delayed = await queue.add('d', {}, { delay: 60_000 });
    expect((await agrees(delayed.id!)).state).toBe('delayed');
    const prioritized = await queue.add('p', {}, { priority: 5 });
    expect((await agrees(prioritized.id!)).state).toBe('prioritized');
    const flow = await new FlowProducer({ connection: redis, prefix }).add({ name: 'parent', queueName: 'q', children: [{ name: 'child', queueName: 'q', data: {} }] });
    expect((await agrees(flow.job.id!)).state).toBe('waiting-children');

    const completedJob = (await worker.getNextJob('token-1'))!;
    await completedJob.updateProgress({ done: 1, total: 2 });
    expect((await agrees(completedJob.id!)).state).toBe('active');
    await completedJob.moveToCompleted({ sum: 42 }, 'token-1', false);
    expect(await agrees(completedJob.id!)).toMatchObject({ state: 'completed', returnvalue: { sum: 42 } });

    const failedJob = (await worker.getNextJob('token-2'))!;
    await failedJob.moveToFailed(new Error('boom'), 'token-2', false);
    const failed = await agrees(failedJob.id!);
    expect(failed).toMatchObject({ state: 'failed', failedReason: 'boom', returnvalue: null });
    expect(failed.stacktrace[0]).toContain('boom');

    await redis.zadd(`${prefix}:revoked`, Date.now() + 60_000, delayed.id!);
    expect((await agrees(delayed.id!, `${prefix}:revoked`)).revoked).toBe(true);
    expect((await agrees(waiting.id!, `${prefix}:revoked`)).revoked).toBe(false);
    expect(await readJobSnapshot(redis, queue, 'no-such-job')).toBeUndefined();
  });
});
