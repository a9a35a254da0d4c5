// R6: BRPOP parks a consumer on the server until another connection pushes, instead of polling.
import { performance } from 'node:perf_hooks';
import type { Exercise, LabClient, LabContext } from '../types.js';
import { clientId, LabTimeout, redisCliCommand, sleep, waitUntilBlocked } from './support.js';

/** How long the producer lets the consumer wait, so the wait is visible (bounded by --timeout). */
const PUSH_AFTER_MS = 300;

export const blocking: Exercise = {
  name: 'blocking',
  rows: 'R6',
  summary: 'a consumer blocked in BRPOP, woken by an RPUSH from a second connection',
  listens: true,
  async run(ctx) {
    const queue = ctx.key('queue');
    const consumer = await ctx.connect('consumer');
    const producer = await ctx.connect('producer');
    const timeoutS = ctx.settings.timeoutMs / 1000;
    const consumerId = await clientId(consumer.redis);

    const started = performance.now();
    const popped = consumer.send('BRPOP', queue, timeoutS);
    popped.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    await waitUntilBlocked(producer.redis, consumerId, ctx);
    ctx.note(`the consumer is blocked on the server (up to ${timeoutS} s); the producer pushes in ${PUSH_AFTER_MS} ms`);
    await sleep(Math.min(PUSH_AFTER_MS, ctx.settings.timeoutMs / 4), ctx.signal);
    await producer.send('RPUSH', queue, 'job-1');
    const reply = (await popped) as [string, string] | null;
    const waitedMs = Math.round(performance.now() - started);
    if (!reply) throw new LabTimeout(`BRPOP returned nothing within ${timeoutS} s`);
    ctx.note(`BRPOP answered [list, element] after ${waitedMs} ms: the RPUSH woke it at once, no polling`);

    const emptyWait = 0.2;
    const idle = await consumer.send('BRPOP', queue, emptyWait);
    ctx.note(`on an empty list BRPOP gives up after its timeout (${emptyWait} s) and answers nil; 0 would wait for ever`);

    if (ctx.settings.listen) await listen(ctx, consumer, queue);
    return { element: reply[1], list: reply[0], waitedMs, timeoutMs: ctx.settings.timeoutMs, idleReply: idle };
  },
};

async function listen(ctx: LabContext, consumer: LabClient, queue: string) {
  ctx.note(`listening: the consumer repeats BRPOP ${queue} 1 and shows what it pops`);
  ctx.note(`from another terminal:  ${redisCliCommand(ctx.settings.redisUrl, ctx.db)} RPUSH ${queue} hello   (Ctrl-C stops)`);
  // A 1-second BRPOP in a loop notices Ctrl-C without killing the connection; only pops are shown.
  while (!ctx.signal.aborted) {
    const reply = await consumer.redis.call('BRPOP', queue, 1);
    if (reply) consumer.received(reply);
  }
}
