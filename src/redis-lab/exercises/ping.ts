// R1: is the server there? PING answers PONG; with an argument it echoes it.
import type { Exercise } from '../types.js';

export const ping: Exercise = {
  name: 'ping',
  rows: 'R1',
  summary: 'connect and PING',
  async run(ctx) {
    const pong = await ctx.main.send('PING');
    const echo = await ctx.main.send('PING', 'hello lab');
    const info = String(await ctx.main.redis.info('server'));
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    ctx.note(`the server is Redis ${version}`);
    return { pong, echo, version };
  },
};
