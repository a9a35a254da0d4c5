// R9: a hash is a small map of fields under one key (an object, a row).
import type { Exercise } from '../types.js';

export const hashes: Exercise = {
  name: 'hashes',
  rows: 'R9',
  summary: 'HSET, HGETALL, HKEYS, HEXISTS, HVALS',
  async run(ctx) {
    const user = ctx.key('user', '1');
    const c = ctx.main;
    const added = await c.send('HSET', user, 'name', 'Ala', 'email', 'ala@example.com', 'city', 'Gdańsk');
    const all = await c.send('HGETALL', user);
    ctx.note('HGETALL answers field, value, field, value… (a dict in Python)');
    const keys = await c.send('HKEYS', user);
    const hasName = await c.send('HEXISTS', user, 'name');
    const hasPhone = await c.send('HEXISTS', user, 'phone');
    const values = await c.send('HVALS', user);
    return { added, all, keys, hasName, hasPhone, values };
  },
};
