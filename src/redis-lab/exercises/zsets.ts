// R8: sorted sets order members by score, and members with equal scores by the member itself.
import type { Exercise } from '../types.js';

/** ZRANGE … WITHSCORES: flat `[m, s, m, s]` in RESP2, `[[m, s], …]` in RESP3. */
function pairs(reply: unknown): Array<[string, number]> {
  const items = reply as unknown[];
  if (items.every(Array.isArray)) return (items as [string, string][]).map(([m, s]) => [m, Number(s)]);
  const out: Array<[string, number]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([String(items[i]), Number(items[i + 1])]);
  return out;
}

export const zsets: Exercise = {
  name: 'zsets',
  rows: 'R8',
  summary: 'ZADD, ZRANGE … WITHSCORES; equal scores are ordered by member',
  async run(ctx) {
    const board = ctx.key('scores');
    const c = ctx.main;
    await c.send('ZADD', board, 250, 'bartek', 100, 'celina', 300, 'darek', 100, 'ala', 100, 'adam');
    const withScores = pairs(await c.send('ZRANGE', board, 0, -1, 'WITHSCORES'));
    ctx.note('adam, ala and celina all have 100: equal scores come back ordered by member (byte order)');
    const top = await c.send('ZRANGE', board, 0, 1, 'REV', 'WITHSCORES');
    const rank = await c.send('ZRANK', board, 'celina');
    return { order: withScores.map(([m]) => m), withScores, top: pairs(top), rankOfCelina: rank };
  },
};
