// R4: numbers are strings that INCRBY/DECRBY change atomically on the server.
import type { Exercise } from '../types.js';

export const counters: Exercise = {
  name: 'counters',
  rows: 'R4',
  summary: 'SET 1300, INCRBY 25, DECRBY 30',
  async run(ctx) {
    const visits = ctx.key('visits');
    const c = ctx.main;
    await c.send('SET', visits, 1300);
    const afterIncr = await c.send('INCRBY', visits, 25);
    const afterDecr = await c.send('DECRBY', visits, 30);
    const stored = await c.send('GET', visits);
    ctx.note('the value is stored as the string "1295"; INCRBY/DECRBY parse it, change it and store it in one step,');
    ctx.note('so two clients incrementing at once never lose an update (no read-modify-write in the client)');

    const name = ctx.key('name');
    await c.send('SET', name, 'Kasia');
    const notANumber = await c.attempt('INCRBY', name, 1);
    return { afterIncr, afterDecr, stored, notANumberError: notANumber.error?.message };
  },
};
