// A private redis-server killed with SIGKILL under a running app: the supervisor restarts it, and
// the worker, the event hub and the task client carry on by themselves with the work accepted before.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { redisServerPids } from '../../test/helpers/redis-processes.js';
import { ensurePrivateRedis, type PrivateRedis } from '../platform/private-redis.js';
import type { TaskEvent } from './index.js';

let dir: string;
let server: PrivateRedis;
let app: TestApp;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'seler-reconnect-'));
  server = await ensurePrivateRedis(dir);
  app = await startTestApp({ web: false, env: { REDIS_URL: server.url } });
});
afterAll(async () => {
  await app?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('after a SIGKILL of the private redis-server', () => {
  it('the worker finishes a task that was running, a delayed one runs, and the event hub hears events again', async () => {
    const hub = await app.runtime.client.eventHub();
    const heard: TaskEvent[] = [];
    const unsubscribe = hub.subscribe('*', (e) => heard.push(e));
    try {
      const running = await app.runtime.client.enqueue('demo.sleep', { args: [2] });
      const delayed = await app.runtime.client.enqueue('demo.add', { args: [4, 5], countdown: 1 });
      await waitFor(async () => (await app.runtime.client.getTask(running.id))?.status === 'PROGRESS' || (await app.runtime.client.getTask(running.id))?.status === 'STARTED', 10_000, 20);

      const [pid] = redisServerPids(dir);
      process.kill(pid!, 'SIGKILL');
      await waitFor(async () => server.state === 'running' && redisServerPids(dir)[0] !== pid, 15_000, 20);

      await waitFor(async () => (await app.runtime.client.getTask(running.id).catch(() => null))?.status === 'SUCCESS', 30_000, 100);
      expect((await app.runtime.client.getTask(delayed.id))?.result).toBe(9);
      // Events written after the restart reach this process's hub.
      const after = await app.runtime.client.enqueue('demo.add', { args: [1, 1] });
      await waitFor(async () => heard.some((e) => e.taskId === after.id && e.type === 'succeeded'), 15_000, 50);
      expect((await app.runtime.client.getTask(after.id))?.status).toBe('SUCCESS');
    } finally {
      unsubscribe();
    }
  }, 60_000);
});
