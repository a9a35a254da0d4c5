// R7: sets hold unique members in no particular order, and combine on the server.
import type { Exercise } from '../types.js';

const sorted = (reply: unknown) => [...(reply as string[])].sort();

export const sets: Exercise = {
  name: 'sets',
  rows: 'R7',
  summary: 'SADD, SMEMBERS, SDIFF, SINTER, SUNION',
  async run(ctx) {
    const backend = ctx.key('team', 'backend');
    const frontend = ctx.key('team', 'frontend');
    const c = ctx.main;
    await c.send('SADD', backend, 'ala', 'bartek', 'celina');
    const duplicates = await c.send('SADD', frontend, 'celina', 'darek', 'celina');
    ctx.note('celina was given twice but added once: SADD returns how many members were new');
    const members = await c.send('SMEMBERS', backend);
    ctx.note('a set has no order: SMEMBERS may list members in any order');
    const diff = await c.send('SDIFF', backend, frontend);
    const inter = await c.send('SINTER', backend, frontend);
    const union = await c.send('SUNION', backend, frontend);
    return { addedToFrontend: duplicates, members: sorted(members), diff: sorted(diff), inter: sorted(inter), union: sorted(union) };
  },
};
