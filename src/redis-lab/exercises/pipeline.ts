// R13: the lab's benchmark. Most of the time of one command is the round trip, and a pipeline pays it once.
import { performance } from 'node:perf_hooks';
import type { Exercise, LabContext } from '../types.js';
import { formatMs } from '../render.js';

/** The lab's figure: 10,001 INCRs per round. */
export const INCRS = 10_001;

export const pipeline: Exercise = {
  name: 'pipeline',
  rows: 'R13',
  summary: `${INCRS.toLocaleString('en')} INCRs one by one vs in one pipeline; MULTI/EXEC vs a pipeline`,
  async run(ctx) {
    const bench = await benchmark(ctx);
    const transaction = await multiExec(ctx);
    return { ...bench, transaction };
  },
};

async function benchmark(ctx: LabContext) {
  const counter = ctx.key('counter');
  const redis = ctx.main.redis;
  const oneByOneMs: number[] = [];
  const pipelinedMs: number[] = [];
  ctx.note(`each round: INCR ${counter} ${INCRS} times awaiting every reply, then ${INCRS} times in one pipeline`);
  for (let round = 1; round <= ctx.settings.rounds; round++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    await redis.del(counter);
    let started = performance.now();
    let last: unknown;
    for (let i = 0; i < INCRS; i++) last = await redis.incr(counter);
    oneByOneMs.push(performance.now() - started);
    if (last !== INCRS) throw new Error(`one by one ended at ${String(last)}, expected ${INCRS}`);

    await redis.del(counter);
    started = performance.now();
    const batch = redis.pipeline();
    for (let i = 0; i < INCRS; i++) batch.incr(counter);
    const results = (await batch.exec()) ?? [];
    pipelinedMs.push(performance.now() - started);
    const [error, value] = results[results.length - 1] ?? [];
    if (error || value !== INCRS) throw new Error(`the pipeline ended at ${String(value)}, expected ${INCRS}`);

    const a = oneByOneMs[round - 1]!;
    const b = pipelinedMs[round - 1]!;
    ctx.note(`round ${String(round).padStart(2)}: one by one ${formatMs(a).padStart(9)}   pipelined ${formatMs(b).padStart(8)}   ${(a / b).toFixed(1)}×`);
  }
  await redis.del(counter);
  const totalOneByOneMs = sum(oneByOneMs);
  const totalPipelinedMs = sum(pipelinedMs);
  const speedup = totalOneByOneMs / totalPipelinedMs;
  ctx.note(`total for ${ctx.settings.rounds} rounds: one by one ${formatMs(totalOneByOneMs)}, pipelined ${formatMs(totalPipelinedMs)}: the pipeline is ${speedup.toFixed(1)}× faster`);
  return { count: INCRS, rounds: ctx.settings.rounds, oneByOneMs, pipelinedMs, totalOneByOneMs, totalPipelinedMs, speedup };
}

/**
 * A pipeline only saves round trips: its commands run one by one as they arrive, and other
 * clients' commands may run in between. MULTI/EXEC queues commands and runs them as one block.
 */
async function multiExec(ctx: LabContext) {
  const key = ctx.key('balance');
  const tx = await ctx.connect('tx');
  const other = await ctx.connect('other');
  await tx.send('SET', key, 0);
  await tx.send('MULTI');
  await tx.send('INCRBY', key, 10);
  ctx.note('QUEUED: nothing ran yet; another client writes the key meanwhile, and that write runs at once');
  await other.send('SET', key, 100);
  await tx.send('INCRBY', key, 10);
  const exec = await tx.send('EXEC');
  ctx.note('EXEC ran both INCRBYs back to back, after the other client\'s SET: 110, 120; no command of another client ran between them');

  await tx.send('WATCH', key);
  await other.send('INCRBY', key, 1);
  await tx.send('MULTI');
  await tx.send('INCRBY', key, 10);
  const aborted = await tx.send('EXEC');
  ctx.note('WATCH + MULTI/EXEC is optimistic locking: the watched key changed, so EXEC did nothing (nil);');
  ctx.note('a pipeline cannot do that. (ioredis sends multi()…exec() in one round trip: a pipelined transaction.)');
  const final = await tx.send('GET', key);
  return { exec, watchedExec: aborted, final };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
