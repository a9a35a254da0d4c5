// The monitor's live feed under slow and greedy clients, on a real seler (real Redis, real sockets):
// viewers whose socket never reads (a 2 KB receive buffer, set by a small Python client, since Node
// cannot shrink one) are dropped while thousands of task events flow, the server's buffered bytes
// stay bounded, a viewer that reads keeps getting events, and the per-client cap refuses the extra
// stream with 429 through the real route.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createToken, createUser } from '../admin/index.js';
import { eventStreamStats } from '../platform/sse.js';
import { defineTask } from '../tasks/index.js';

// A task whose progress reports are big: many megabytes of events in a few seconds.
defineTask('test.sse.chatty', { description: 'reports a lot of progress' }, async ([count]: [number], _kwargs, ctx) => {
  for (let i = 0; i < count; i++) {
    await ctx.progress({ current: i, total: count, note: 'x'.repeat(8000) });
    await sleep(2);
  }
  return count;
});

const STALLED = `
import socket, sys, time
host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect((host, port))
s.sendall(f"GET /api/v1/monitor/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer {token}\\r\\n\\r\\n".encode())
print("sent", flush=True)
time.sleep(600)
`;

describe('the monitor’s event stream under slow and greedy clients', () => {
  let app: TestApp;
  let token: string;
  const children: ChildProcess[] = [];
  const bound = 256 * 1024;

  beforeAll(async () => {
    app = await startTestApp({ worker: { queues: ['sse-flood'], concurrency: 1 }, env: { SELER_SSE_MAX_PER_CLIENT: '8', SELER_SSE_MAX_TOTAL: '50', SELER_SSE_MAX_BUFFER_KB: '256' } });
    const user = await createUser(app.runtime.db!, { username: 'viewer', password: null, isStaff: true, permissions: ['view_task'] });
    token = (await createToken(app.runtime.db!, user.id, 'sse')).token;
  }, 60_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await app?.close();
  });

  const stats = () => eventStreamStats(app.web!.app);

  it('drops viewers that never read while thousands of events flow, and keeps serving one that reads', { timeout: 120_000 }, async () => {
    const { port } = new URL(app.baseUrl);
    for (let i = 0; i < 3; i++) {
      const child = spawn('python3', ['-c', STALLED, '127.0.0.1', port, token], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    }
    const controller = new AbortController();
    const res = await fetch(`${app.baseUrl}/api/v1/monitor/events?queue=sse-flood`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    await waitFor(async () => stats().open === 4);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body!) received += (Buffer.from(chunk).toString('utf8').match(/^event: task$/gm) ?? []).length;
    })().catch(() => {});

    // Megabytes of task events: progress reports of 8 KB, more than the kernel's socket buffers hold.
    const { id } = await app.runtime.client.enqueue('test.sse.chatty', { args: [2000], queue: 'sse-flood' });
    let worst = 0;
    while (stats().dropped < 3) {
      worst = Math.max(worst, stats().bufferedBytes);
      const task = await app.runtime.client.getTask(id);
      if (task && ['SUCCESS', 'FAILURE'].includes(task.status)) break;
      await sleep(50);
    }
    await waitFor(async () => stats().dropped >= 3, 30_000);
    const after = stats();
    expect(after.dropped).toBe(3);
    expect(after.maxBufferedSeen).toBeGreaterThan(bound);
    // One message past the bound at most, per stream.
    expect(after.maxBufferedSeen).toBeLessThan(bound + 9000);
    expect(worst).toBeLessThan(4 * (bound + 9000));
    expect(after.open).toBe(1);

    // The reader is still served: new events keep arriving.
    const before = received;
    await app.runtime.client.enqueue('test.sse.chatty', { args: [20], queue: 'sse-flood' });
    await waitFor(async () => received >= before + 20, 15_000);
    controller.abort();
    await reading;
    await waitFor(async () => stats().open === 0);
  });

  it('refuses the stream over the per-client cap with 429 and Retry-After, and gives the slot back', async () => {
    const controllers = Array.from({ length: 8 }, () => new AbortController());
    const open = await Promise.all(controllers.map((c) => fetch(`${app.baseUrl}/api/v1/monitor/events`, { headers: { authorization: `Bearer ${token}` }, signal: c.signal })));
    expect(open.map((r) => r.status)).toEqual(Array(8).fill(200));
    const refused = await fetch(`${app.baseUrl}/api/v1/monitor/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { code: 'too_many_streams', message: expect.any(String) } });
    controllers[0]!.abort();
    await waitFor(async () => stats().open === 7);
    const again = new AbortController();
    expect((await fetch(`${app.baseUrl}/api/v1/monitor/events`, { headers: { authorization: `Bearer ${token}` }, signal: again.signal })).status).toBe(200);
    for (const c of [...controllers, again]) c.abort();
    await waitFor(async () => stats().open === 0);
  });
});
