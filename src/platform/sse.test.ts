// The event-stream helper against real sockets: clients that never read are dropped with the server's
// buffer bounded, a reader that reads keeps every event, and the per-client and total caps refuse the
// stream before it opens and give the slot back when a client leaves.
import net from 'node:net';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from './http.js';
import { createLogger } from './logger.js';
import { closeStreamsOnShutdown, eventStreamStats, openEventStream, type EventStream, type EventStreamLimits } from './sse.js';

interface Harness {
  app: FastifyInstance;
  port: number;
  live: Set<EventStream>;
  /** Subscriptions the route holds (onClose gives them back, also on a refusal). */
  subscriptions: () => number;
}

const servers: FastifyInstance[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function harness(limits: Partial<EventStreamLimits>): Promise<Harness> {
  const app = await createHttpServer({ logger: createLogger('silent'), version: 'test', ready: async () => {}, trustProxy: true, eventStreams: limits });
  servers.push(app);
  const open = closeStreamsOnShutdown(app);
  const live = new Set<EventStream>();
  let subscriptions = 0;
  app.get('/stream', async (_request, reply) => {
    subscriptions++;
    const stream = openEventStream(reply, { streams: open, heartbeatMs: 60_000, onClose: () => subscriptions-- });
    live.add(stream);
    await stream.closed;
    live.delete(stream);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  return { app, port, live, subscriptions: () => subscriptions };
}

/** A client that sends the request and then never reads a byte (its socket is paused from the start). */
function stalledClient(port: number, forwardedFor = '10.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.write(`GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nX-Forwarded-For: ${forwardedFor}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** A client that reads everything; `messages` are the data lines received so far. */
async function reader(port: number, forwardedFor = '10.0.0.2') {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/stream`, { headers: { 'x-forwarded-for': forwardedFor }, signal: controller.signal });
  const messages: string[] = [];
  let text = '';
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    try {
      for await (const chunk of res.body) {
        text += Buffer.from(chunk).toString('utf8');
        const blocks = text.split('\n\n');
        text = blocks.pop()!;
        for (const block of blocks) for (const line of block.split('\n')) if (line.startsWith('data: ')) messages.push(line.slice(6));
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { res, messages, stop: () => controller.abort(), done, ended: () => ended };
}

async function until(fn: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('event streams', () => {
  it('drops clients that never read once their buffer passes the bound, keeps it bounded, and a reader gets every event', async () => {
    const bound = 64 * 1024;
    const h = await harness({ maxBufferedBytes: bound, maxPerClient: 50, maxTotal: 50 });
    const stalled = await Promise.all(Array.from({ length: 8 }, (_, i) => stalledClient(h.port, `10.0.1.${i}`)));
    const good = await reader(h.port);
    await until(() => h.live.size === 9, 'nine open streams');

    const payload = 'x'.repeat(16 * 1024);
    let sent = 0;
    let worst = 0;
    // Many events flow (up to 400 MB offered to the stalled clients) until every stalled client is gone.
    for (let round = 0; round < 3000 && eventStreamStats(h.app).dropped < stalled.length; round++) {
      for (const stream of h.live) stream.write('tick', { n: round, payload });
      sent = round + 1;
      const stats = eventStreamStats(h.app);
      worst = Math.max(worst, stats.bufferedBytes);
      // Every stream holds at most the bound plus the one message that crossed it.
      expect(stats.bufferedBytes).toBeLessThanOrEqual(stats.open * (bound + payload.length + 200));
      await tick();
    }
    const stats = eventStreamStats(h.app);
    expect(stats.dropped).toBe(stalled.length);
    expect(stats.maxBufferedSeen).toBeGreaterThan(bound); // the stalled clients really did fall behind
    expect(stats.maxBufferedSeen).toBeLessThanOrEqual(bound + payload.length + 200);
    expect(worst).toBeLessThanOrEqual(9 * (bound + payload.length + 200));
    // The stalled sockets were closed by the server (destroyed, not left to flush forever).
    await until(() => stalled.every((s) => s.readableEnded || s.destroyed || s.closed), 'stalled sockets closed', 5000).catch(async () => {
      for (const s of stalled) s.resume();
      await until(() => stalled.every((s) => s.closed), 'stalled sockets closed after resuming');
    });
    expect(h.live.size).toBe(1);
    expect(eventStreamStats(h.app).open).toBe(1);

    // The reader kept up and got every event, in order.
    await until(() => good.messages.length === sent, `the reader to get ${sent} events`);
    expect(good.messages.map((m) => (JSON.parse(m) as { n: number }).n)).toEqual(Array.from({ length: sent }, (_, i) => i));
    good.stop();
    await until(() => eventStreamStats(h.app).open === 0 && h.subscriptions() === 0, 'the slot given back');
  });

  it('refuses the stream over the per-client cap with 429 and over the total cap with 503, before it opens, and frees slots when clients leave', async () => {
    const h = await harness({ maxPerClient: 2, maxTotal: 3 });
    const a1 = await reader(h.port, '192.0.2.1');
    const a2 = await reader(h.port, '192.0.2.1');
    expect([a1.res.status, a2.res.status]).toEqual([200, 200]);

    const third = await fetch(`http://127.0.0.1:${h.port}/stream`, { headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(third.status).toBe(429);
    expect(third.headers.get('content-type')).toContain('application/json');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({ error: { code: 'too_many_streams', message: expect.stringMatching(/limit is 2/) } });

    const b = await reader(h.port, '192.0.2.2');
    expect(b.res.status).toBe(200);
    // Parallel attempts over the total cap: every one refused, none slips through.
    const over = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`http://127.0.0.1:${h.port}/stream`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })));
    expect(over.map((r) => r.status)).toEqual(Array(10).fill(503));
    expect(Number(over[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await over[0]!.json()).toMatchObject({ error: { code: 'too_many_streams' } });
    expect(eventStreamStats(h.app)).toMatchObject({ open: 3, perClient: { '192.0.2.1': 2, '192.0.2.2': 1 }, refused: { perClient: 1, total: 10 } });
    // A refusal gave back what the route had taken (its onClose ran).
    expect(h.subscriptions()).toBe(3);

    // A client that leaves frees its slot: the same client, and then anyone, may open one again.
    a1.stop();
    await until(() => eventStreamStats(h.app).open === 2, 'a1’s slot freed');
    const a3 = await reader(h.port, '192.0.2.1');
    expect(a3.res.status).toBe(200);
    // A stream the server ends frees its slot too.
    for (const s of h.live) s.close();
    await until(() => eventStreamStats(h.app).open === 0, 'every slot freed');
    expect(eventStreamStats(h.app).perClient).toEqual({});
    const again = await reader(h.port, '203.0.113.9');
    expect(again.res.status).toBe(200);
    for (const r of [a2, b, a3, again]) r.stop();
    await until(() => h.subscriptions() === 0, 'all subscriptions given back');
  });

  it('gives the slot back when a client that never read goes away', async () => {
    const h = await harness({ maxPerClient: 1, maxTotal: 1 });
    const socket = await stalledClient(h.port, '192.0.2.7');
    await until(() => h.live.size === 1, 'the stream open');
    socket.destroy();
    await until(() => eventStreamStats(h.app).open === 0 && h.subscriptions() === 0, 'the slot given back');
    const next = await reader(h.port, '192.0.2.7');
    expect(next.res.status).toBe(200);
    next.stop();
  });
});
