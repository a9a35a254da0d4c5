// R5, R10: lists keep insertion order; both ends push and pop in O(1).
import type { Exercise } from '../types.js';

export const lists: Exercise = {
  name: 'lists',
  rows: 'R5, R10',
  summary: 'RPUSH, LRANGE 0 -1 and 1 3, LPUSH, RPOP, LPOP, LINDEX, LLEN',
  async run(ctx) {
    const list = ctx.key('letters');
    const c = ctx.main;
    const length = await c.send('RPUSH', list, 'a', 'b', 'c', 'd', 'e');
    const all = await c.send('LRANGE', list, 0, -1);
    ctx.note('0 -1 means from the first to the last element');
    const middle = await c.send('LRANGE', list, 1, 3);
    ctx.note('indexes are inclusive at both ends: 1 3 gives the 2nd, 3rd and 4th elements');
    const afterLpush = await c.send('LPUSH', list, 'z');
    const rpopped = await c.send('RPOP', list);
    const lpopped = await c.send('LPOP', list);
    const first = await c.send('LINDEX', list, 0);
    const last = await c.send('LINDEX', list, -1);
    const finalLength = await c.send('LLEN', list);
    const remaining = await c.send('LRANGE', list, 0, -1);
    return { length, all, middle, afterLpush, rpopped, lpopped, first, last, finalLength, remaining };
  },
};
