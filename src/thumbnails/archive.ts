// Writes the result zip. A small writer of our own rather than yazl: yazl 3 always computes CRC-32
// in JavaScript (~60 ms for a 16 MB original) and has no option to accept one, while zlib.crc32 takes
// ~5 ms. Every size and CRC is known before writing, so entries need no data descriptors.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export interface ArchiveEntry {
  /** Already sanitised; made unique again here (case-insensitively) as a safety net. */
  name: string;
  data: Buffer;
}

/** Formats whose data is already compressed: deflate would cost time and save nothing. */
const STORED = new Set(['jpg', 'jpeg', 'jfif', 'png', 'gif', 'webp', 'avif', 'heic', 'zip', 'gz', 'mp4']);
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
const FLAG_UTF8 = 1 << 11;
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | 63; // unix, spec 6.3: makes the external attributes below mean a mode
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
const LIMIT = 0xffffffff;
const deflateRaw = promisify(zlib.deflateRaw);

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
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

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

interface Prepared {
  name: Buffer;
  data: Buffer;
  method: number;
  crc: number;
  size: number;
}

async function prepare(entry: ArchiveEntry, name: string): Promise<Prepared> {
  const crc = zlib.crc32(entry.data);
  const base = { name: Buffer.from(name, 'utf8'), crc, size: entry.data.length };
  if (!STORED.has(extension(name)) && entry.data.length > 0) {
    const packed = await deflateRaw(entry.data);
    if (packed.length < entry.data.length) return { ...base, data: packed, method: METHOD_DEFLATE };
  }
  return { ...base, data: entry.data, method: METHOD_STORE };
}

/** The fields local and central headers share, from "version needed" to the name length. */
function commonFields(e: Prepared, stamp: { time: number; date: number }): Buffer {
  const b = Buffer.alloc(26);
  b.writeUInt16LE(VERSION_NEEDED, 0);
  b.writeUInt16LE(FLAG_UTF8, 2);
  b.writeUInt16LE(e.method, 4);
  b.writeUInt16LE(stamp.time, 6);
  b.writeUInt16LE(stamp.date, 8);
  b.writeUInt32LE(e.crc, 10);
  b.writeUInt32LE(e.data.length, 14);
  b.writeUInt32LE(e.size, 18);
  b.writeUInt16LE(e.name.length, 22);
  b.writeUInt16LE(0, 24); // extra field length
  return b;
}

function layout(entries: Prepared[], now: Date): Buffer[] {
  const stamp = dosDateTime(now);
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const fields = commonFields(e, stamp);
    const local = Buffer.alloc(4);
    local.writeUInt32LE(0x04034b50, 0);
    chunks.push(local, fields, e.name, e.data);

    const head = Buffer.alloc(6);
    head.writeUInt32LE(0x02014b50, 0);
    head.writeUInt16LE(VERSION_MADE_BY, 4);
    const tail = Buffer.alloc(14); // comment length, disk number, internal attributes: zero
    tail.writeUInt32LE(EXTERNAL_ATTRIBUTES, 6);
    tail.writeUInt32LE(offset, 10);
    central.push(head, fields, tail, e.name);

    offset += 30 + e.name.length + e.data.length;
    if (offset > LIMIT) throw new Error('archive larger than 4 GiB: zip64 is not supported');
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return [...chunks, ...central, end];
}

/**
 * Writes a zip of `entries` to `filePath` through a temporary name and a rename, so a reader never
 * sees a half-written archive. JPEG, PNG, GIF, WebP and AVIF are stored; other data is deflated.
 */
export async function writeArchive(filePath: string, entries: ArchiveEntry[]): Promise<{ bytes: number }> {
  if (entries.length > 0xffff) throw new Error(`too many archive entries (${entries.length}): zip64 is not supported`);
  const names = uniqueNames(entries.map((e) => e.name));
  const prepared = await Promise.all(entries.map((e, i) => prepare(e, names[i]!)));
  const chunks = layout(prepared, new Date());
  const temp = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o644);
  let bytes = 0;
  try {
    try {
      for (let i = 0; i < chunks.length; i += 512) {
        const batch = chunks.slice(i, i + 512);
        const want = batch.reduce((n, b) => n + b.length, 0);
        const { bytesWritten } = await file.writev(batch);
        if (bytesWritten !== want) throw new Error(`short write to ${temp}`);
        bytes += bytesWritten;
      }
    } finally {
      await file.close();
    }
    await rename(temp, filePath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return { bytes };
}
