// R12: a stream is an append-only log; readers choose where to read from, so nothing has to be lost.
import type { Exercise, LabContext } from '../types.js';
import { clientId, entriesOf, LabTimeout, redisCliCommand, streamEntries, waitUntilBlocked } from './support.js';

const ROUNDS = 3;

export const streams: Exercise = {
  name: 'streams',
  rows: 'R12',
  summary: 'XADD, XREAD from 0-0, XREAD BLOCK from $ vs the last id, XDEL, consumer groups',
  listens: true,
  async run(ctx) {
    const basics = await basicsPart(ctx);
    const dollar = await followPart(ctx, '$');
    const resume = await followPart(ctx, 'last-id');
    const groups = await groupsPart(ctx);
    if (ctx.settings.listen) await listenPart(ctx);
    return {
      readFromStart: basics,
      dollar,
      resume,
      lostEntries: { dollar: dollar.lost.length, resume: resume.lost.length },
      groups,
    };
  },
};

async function basicsPart(ctx: LabContext) {
  const sensor = ctx.key('sensor');
  const c = ctx.main;
  ctx.note('XADD appends an entry; * lets Redis choose the id <milliseconds>-<sequence>');
  const ids: string[] = [];
  for (const [temp, room] of [['20.5', 'kitchen'], ['21.0', 'hall'], ['19.5', 'attic']] as const)
    ids.push(String(await c.send('XADD', sensor, '*', 'temp', temp, 'room', room)));
  const entries = streamEntries(await c.send('XREAD', 'COUNT', 10, 'STREAMS', sensor, '0-0'));
  ctx.note('XREAD from 0-0 returns everything after id 0-0: the whole stream, and it stays there for other readers');
  return { added: ids.length, read: entries.length };
}

/**
 * The lab's question: a consumer reads with XREAD BLOCK, processes, reads again. While it
 * processes, the producer keeps writing. Reading from `$` ("only what arrives from now on")
 * every time skips those writes; reading from the last id it saw skips nothing.
 */
async function followPart(ctx: LabContext, mode: '$' | 'last-id') {
  const stream = ctx.key(mode === '$' ? 'follow-dollar' : 'follow-resume');
  const consumer = await ctx.connect('consumer');
  const producer = await ctx.connect('producer');
  const consumerId = await clientId(consumer.redis);
  ctx.note(mode === '$' ? 'consumer A reads from $ every time' : 'consumer B reads from the last id it processed, and XDELs what it processed');

  const produced: string[] = [];
  const received: string[] = [];
  let count = 0;
  const write = async () => produced.push(String(await producer.send('XADD', stream, '*', 'reading', ++count)));

  let cursor = '$';
  for (let round = 1; round <= ROUNDS; round++) {
    let answered = false;
    const reading = consumer.send('XREAD', 'COUNT', 100, 'BLOCK', ctx.settings.timeoutMs, 'STREAMS', stream, cursor).finally(() => (answered = true));
    reading.catch(() => {}); // awaited below
    if (await waitUntilBlocked(producer.redis, consumerId, ctx, () => answered)) await write();
    const entries = streamEntries(await reading);
    if (entries.length === 0) throw new LabTimeout(`XREAD BLOCK returned nothing within ${ctx.settings.timeoutMs} ms`);
    received.push(...entries.map((e) => e.id));
    if (mode === 'last-id') {
      cursor = entries[entries.length - 1]!.id;
      await consumer.send('XDEL', stream, ...entries.map((e) => e.id));
    }
    ctx.note(`consumer is processing ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}; meanwhile the producer writes 2 more`);
    await write();
    await write();
  }
  const tail = streamEntries(await consumer.send('XREAD', 'COUNT', 100, 'BLOCK', 200, 'STREAMS', stream, cursor));
  received.push(...tail.map((e) => e.id));
  if (mode === 'last-id' && tail.length) await consumer.send('XDEL', stream, ...tail.map((e) => e.id));
  const lost = produced.filter((id) => !received.includes(id));
  const left = Number(await ctx.main.send('XLEN', stream));
  ctx.note(
    mode === '$'
      ? `from $: received ${received.length} of ${produced.length} entries, lost ${lost.length} (written while the consumer was busy)`
      : `from the last id: received ${received.length} of ${produced.length} entries, lost ${lost.length}; XDEL after processing left ${left} in the stream`,
  );
  return { produced: produced.length, received: received.length, lost, leftInStream: left };
}

/** Consumer groups: the production pattern (each entry to one consumer, acknowledged, reclaimable). */
async function groupsPart(ctx: LabContext) {
  const jobs = ctx.key('jobs');
  const group = 'thumbnailers';
  const c = ctx.main;
  ctx.note('consumer groups: every entry goes to one consumer of the group and stays pending until XACK');
  await c.send('XGROUP', 'CREATE', jobs, group, '$', 'MKSTREAM');
  for (const file of ['a.jpg', 'b.jpg', 'c.jpg']) await c.send('XADD', jobs, '*', 'task', 'thumbnail', 'file', file);
  const alice = await ctx.connect('alice');
  const bob = await ctx.connect('bob');

  const aliceGot = streamEntries(await alice.send('XREADGROUP', 'GROUP', group, 'alice', 'COUNT', 2, 'STREAMS', jobs, '>'));
  await alice.send('XACK', jobs, group, aliceGot[0]!.id);
  ctx.note('alice acknowledged her first job and then "crashed" before acknowledging the second');
  const pending = (await c.send('XPENDING', jobs, group)) as unknown[];
  ctx.note('XPENDING: 1 entry delivered but never acknowledged, held by alice');

  const bobGot = streamEntries(await bob.send('XREADGROUP', 'GROUP', group, 'bob', 'COUNT', 10, 'STREAMS', jobs, '>'));
  ctx.note('">" means never delivered to this group: bob gets the third job, not alice\'s stuck one');
  await bob.send('XACK', jobs, group, ...bobGot.map((e) => e.id));
  const claim = (await bob.send('XAUTOCLAIM', jobs, group, 'bob', 0, '0-0')) as unknown[];
  const claimed = entriesOf(claim[1]);
  ctx.note('XAUTOCLAIM hands bob the entries idle longer than min-idle-time (0 ms here; a minute or so in production)');
  if (claimed.length) await bob.send('XACK', jobs, group, ...claimed.map((e) => e.id));
  const after = (await c.send('XPENDING', jobs, group)) as unknown[];
  return {
    aliceGot: aliceGot.length,
    pendingBeforeClaim: Number(pending[0]),
    bobGot: bobGot.length,
    claimedByBob: claimed.length,
    pendingAfter: Number(after[0]),
  };
}

async function listenPart(ctx: LabContext) {
  const stream = ctx.key('sensor');
  const reader = await ctx.connect('reader');
  ctx.note(`listening on ${stream} from $, then from the last id seen (Ctrl-C stops); from another terminal:`);
  ctx.note(`  ${redisCliCommand(ctx.settings.redisUrl, ctx.db)} XADD ${stream} '*' temp 22 room office`);
  let cursor = '$';
  while (!ctx.signal.aborted) {
    const reply = await reader.redis.call('XREAD', 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', stream, cursor);
    const entries = streamEntries(reply);
    if (!entries.length) continue;
    reader.received(reply);
    cursor = entries[entries.length - 1]!.id;
  }
}
