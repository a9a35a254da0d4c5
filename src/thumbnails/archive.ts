// The result zip, written at download time from the stored objects, one entry at a time (yazl, with
// each entry's stream opened only when its turn comes). Every entry is STORED: the images are
// compressed already, the web role spends no CPU on deflate, and the zip's exact size is known
// before its first byte (Content-Length, and `archiveBytes` in the task's result). CRC-32s are
// computed as the bytes pass, so entries carry data descriptors.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { ZipFile } from 'yazl';

// yazl computes each entry's CRC-32 with buffer-crc32, in JavaScript: 68 ms per 16 MB original, on
// the web's main thread at every download. Node's own zlib.crc32 (native, same result, same running
// `previous` argument) takes its place; yazl looks the function up at each call.
const yazlCrc32 = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32') as { unsigned: (data: Buffer, previous?: number) => number };
export const nativeCrc32 = (data: Buffer, previous = 0): number => crc32(data, previous);
yazlCrc32.unsigned = nativeCrc32;

export interface ArchiveEntry {
  /** Already sanitised and unique. */
  name: string;
  bytes: number;
  /** Opens the entry's bytes; called when the zip reaches it. */
  open: () => Promise<Readable>;
}

/** Adds -2, -3 … before the extension to names met before (compared case-insensitively, as Windows and macOS unzip). */
export function uniqueNames(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    if (taken.has(candidate.toLowerCase())) {
      const dot = name.lastIndexOf('.');
      const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
      for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${base}-${n}${ext}`;
    }
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}

/** The exact size in bytes of the zip `streamArchive` makes of these entries. */
export function archiveSize(entries: Omit<ArchiveEntry, 'open'>[]): number {
  // Nothing is read: the first entry's open never settles, and the unread zip is dropped.
  return streamArchive(entries.map((e) => ({ ...e, open: () => new Promise<Readable>(() => {}) })), new Date(0)).bytes;
}

/**
 * The zip as a stream, and its size. An entry that cannot be opened or breaks off destroys the stream
 * with that error (the client sees a cut download, never a zip with a wrong entry).
 */
export function streamArchive(entries: ArchiveEntry[], mtime: Date): { stream: Readable; bytes: number } {
  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const fail = (err: unknown) => output.destroy(err instanceof Error ? err : new Error(String(err)));
  zip.on('error', fail);
  for (const entry of entries) {
    zip.addReadStreamLazy(entry.name, { size: entry.bytes, compress: false, mtime, mode: 0o100644 }, (cb) => {
      entry.open().then(
        (stream) => {
          // yazl pipes the stream without listening for its errors.
          stream.once('error', fail);
          output.once('close', () => stream.destroy());
          cb(null, stream);
        },
        (err: unknown) => cb(err, undefined as never),
      );
    });
  }
  let bytes = -1;
  (zip.end as (options: object, sizeCallback: (size: number) => void) => void)({}, (size) => (bytes = size));
  if (bytes < 0) throw new Error('the size of the zip could not be computed');
  return { stream: output, bytes };
}
