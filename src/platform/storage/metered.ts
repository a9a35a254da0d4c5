// A pass-through that counts the bytes a put stores and lets the caller's meter hold them back
// (the upload budget): both stores put every body through one.
import { Transform } from 'node:stream';
import type { PutOptions } from './types.js';

export function meteredStream(meter: PutOptions['meter']): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (!meter) return done(null, chunk);
      try {
        const pending = meter(chunk.length);
        if (pending) pending.then(() => done(null, chunk), done);
        else done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
  return { stream, bytes: () => bytes };
}
