// How many round trips a task read costs, counted as writes on the client's own (real) connection: an
// anonymous upload seen by this process is one; an unknown id and a staff-only task cost the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { silentLogger } from '../platform/logger.js';
import { connectRedis, type Redis } from '../platform/redis.js';
import { TaskClient } from './index.js';

let app: TestApp;
let redis: Redis;
let writes = 0;

/** A client of its own on a connection whose socket writes (one per command, pipeline or MULTI) are counted. */
async function countingClient(): Promise<TaskClient> {
  const client = new TaskClient({
    redis,
    redisTarget: testRedisUrl(),
    keys: app.runtime.client.keys,
    retention: app.runtime.client.retention,
    eventsMaxLen: 1000,
    logger: silentLogger,
  });
  // A queue's first use in a process registers it and BullMQ checks the server: not part of any read.
  await client.queue('default').waitUntilReady();
  await client.readTask('00000000-0000-4000-8000-00000000000f');
  return client;
}

async function roundTrips(read: () => Promise<unknown>): Promise<number> {
  const before = writes;
  await read();
  return writes - before;
}

beforeAll(async () => {
  app = await startTestApp({ web: false, worker: false });
  redis = await connectRedis(testRedisUrl());
  const stream = (redis as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
  const write = stream.write.bind(stream);
  stream.write = (...args: unknown[]) => {
    writes++;
    return write(...args);
  };
});
afterAll(async () => {
  redis?.disconnect();
  await app?.close();
});

describe('reading a task', () => {
  it('an anonymous upload this client queued is read in one round trip, with its owner', async () => {
    const client = await countingClient();
    const { id } = await client.enqueue('demo.add', { args: [1, 2], countdown: 3600, anonymousOwner: true });
    let read: Awaited<ReturnType<TaskClient['readTask']>> = null;
    expect(await roundTrips(async () => (read = await client.readTask(id)))).toBe(1);
    expect(read!.view).toMatchObject({ id, status: 'PENDING', args: [1, 2] });
    expect(read!.owner?.kind).toBe('anonymous');
    // Another process (no memory of it) reads the same task and owner.
    const elsewhere = await app.runtime.client.readTask(id);
    expect(elsewhere).toEqual(read);
    await client.revoke(id);
  });

  it('an anonymous upload another process queued is looked up once, then read in one round trip', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [2, 2], countdown: 3600, anonymousOwner: true });
    const client = await countingClient();
    expect(await roundTrips(() => client.readTask(id))).toBeGreaterThan(1);
    expect(await roundTrips(() => client.readTask(id))).toBe(1);
    await app.runtime.client.revoke(id);
  });

  it('a staff-only task costs as many round trips as an unknown id, every time', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [3, 3], countdown: 3600 });
    const client = await countingClient();
    const unknown = await roundTrips(() => client.readTask('00000000-0000-4000-8000-000000000000'));
    const staffOnly = await roundTrips(() => client.readTask(id));
    expect(staffOnly).toBe(unknown);
    expect(await roundTrips(() => client.readTask(id))).toBe(unknown);
    expect((await client.readTask(id))?.owner).toBeUndefined();
    await app.runtime.client.revoke(id);
  });

  it('a remembered task that was removed reads as gone', async () => {
    const client = await countingClient();
    const { id } = await client.enqueue('demo.add', { args: [4, 4], countdown: 3600, anonymousOwner: true });
    await client.revoke(id);
    expect(await client.forget(id)).toBe(true);
    expect(await client.readTask(id)).toBeNull();
    expect(await client.getTask(id)).toBeNull();
  });

  it('the queue a caller names is read directly; a task not in it is not found there', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [5, 5], countdown: 3600 });
    const client = await countingClient();
    expect(await roundTrips(() => client.readTask(id, { queue: 'default' }))).toBe(1);
    expect((await client.readTask(id, { queue: 'default' }))?.view.status).toBe('PENDING');
    expect(await client.readTask(id, { queue: 'thumbnails' })).toBeNull();
    await app.runtime.client.revoke(id);
  });
});
