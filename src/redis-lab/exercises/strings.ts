// R2, R3: a string value comes back as raw bytes unless the client decodes it; APPEND grows it; DEL removes it.
import type { Exercise } from '../types.js';

export const strings: Exercise = {
  name: 'strings',
  rows: 'R2, R3',
  summary: 'SET/GET as raw bytes vs a decoded string, APPEND, DEL',
  async run(ctx) {
    const greeting = ctx.key('greeting');
    const polish = ctx.key('polish');
    const c = ctx.main;

    await c.send('SET', greeting, 'hello');
    const raw = (await c.sendBuffer('GET', greeting)) as Buffer;
    ctx.note("raw bytes: what redis-py returned by default (b'hello')");
    const decoded = await c.send('GET', greeting);
    ctx.note('decoded as UTF-8: what decode_responses=True gave in the lab');

    await c.send('SET', polish, 'Cześć');
    const polishRaw = (await c.sendBuffer('GET', polish)) as Buffer;
    const polishDecoded = await c.send('GET', polish);
    ctx.note(`Redis stores bytes: "Cześć" is ${polishRaw.length} bytes, ś and ć take two each`);

    const lengthAfterAppend = await c.send('APPEND', greeting, ' world');
    const appended = await c.send('GET', greeting);
    const deleted = await c.send('DEL', greeting);
    const afterDel = await c.send('GET', greeting);
    ctx.note('GET of a missing key is nil (None in Python, null here)');
    await c.send('DEL', polish);

    return {
      raw: raw.toString('hex'),
      decoded,
      polishBytes: polishRaw.length,
      polishDecoded,
      lengthAfterAppend,
      appended,
      deleted,
      afterDel,
    };
  },
};
