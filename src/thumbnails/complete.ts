// Whether an image file is whole, read from its structure only (no pixel is decoded): the check that
// lets an upload cut off in transit, or a file truncated on the client's disk, get a 422 at upload
// instead of a task that fails later. What it cannot see (corrupt data inside a complete file) the
// worker's decode still finds.
//   JPEG  an EOI marker (FF D9) after the start of the first scan (entropy-coded data never holds one)
//   PNG   an IEND chunk near the end (trailing bytes after it are tolerated, as decoders do)
//   GIF   the trailer byte 0x3B at the end (zero padding tolerated)
//   WebP  the file is at least as long as its RIFF header says
//   AVIF  every top-level ISO-BMFF box (ftyp, meta, mdat…) fits in the file
//   TIFF  the first image's strips or tiles, and its IFD, lie inside the file
import { open, type FileHandle } from 'node:fs/promises';
import type { InputFormat } from './image.js';

/** Reads byte ranges of a file or a buffer. */
interface Source {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

const CHUNK = 1024 * 1024;
const HEAD_BYTES = 256 * 1024;

async function withSource<T>(input: Buffer | string, fn: (source: Source) => Promise<T>): Promise<T> {
  if (typeof input !== 'string') {
    return fn({ size: input.length, read: async (offset, length) => input.subarray(offset, Math.min(input.length, offset + length)) });
  }
  const handle: FileHandle = await open(input, 'r');
  try {
    const { size } = await handle.stat();
    const readAt = async (offset: number, length: number) => {
      const want = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buffer.subarray(0, got);
    };
    // The marker walks read a few bytes at a time near the start: served from one read of the head.
    const head = await readAt(0, HEAD_BYTES);
    return await fn({
      size,
      read: async (offset, length) => (offset + length <= head.length ? head.subarray(offset, offset + length) : readAt(offset, length)),
    });
  } finally {
    await handle.close();
  }
}

const EOI = Buffer.from([0xff, 0xd9]);

/** The offset just past the first SOS segment's header, walking the marker segments from the start. */
async function jpegScanStart(src: Source): Promise<number | undefined> {
  let at = 2; // after SOI
  for (let segments = 0; segments < 10_000 && at + 4 <= src.size; segments++) {
    const head = await src.read(at, 4);
    if (head[0] !== 0xff) return undefined;
    const marker = head[1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    const length = head.readUInt16BE(2);
    if (length < 2) return undefined;
    if (marker === 0xda) return at + 2 + length <= src.size ? at + 2 + length : undefined;
    if (marker === 0xd9) return undefined; // EOI before any scan: no image data
    at += 2 + length;
  }
  return undefined;
}

/**
 * Whether FF D9 occurs at or after `floor`. A whole file ends with it, so the tail is looked at first;
 * only then is the rest scanned, forwards (Buffer#indexOf is far faster than #lastIndexOf).
 */
async function hasEoiAfter(src: Source, floor: number): Promise<boolean> {
  const tailStart = Math.max(floor, src.size - 4096);
  if ((await src.read(tailStart, src.size - tailStart)).lastIndexOf(EOI) >= 0) return true;
  // One byte of overlap between chunks so a marker across two of them is seen.
  for (let start = floor; start + 1 < tailStart + 1; start += CHUNK) {
    const buf = await src.read(start, Math.min(CHUNK + 1, tailStart + 1 - start));
    if (buf.indexOf(EOI) >= 0) return true;
  }
  return false;
}

async function jpegComplete(src: Source): Promise<boolean> {
  const scan = await jpegScanStart(src);
  if (scan === undefined) return false;
  // Data after the image's EOI (a phone's appended motion video or maker trailer) is fine: the EOI is still there.
  return hasEoiAfter(src, scan);
}

const IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

async function pngComplete(src: Source): Promise<boolean> {
  const tailStart = Math.max(8, src.size - 64 * 1024);
  const tail = await src.read(tailStart, src.size - tailStart);
  return tail.lastIndexOf(IEND) >= 0;
}

async function gifComplete(src: Source): Promise<boolean> {
  const tailStart = Math.max(0, src.size - 4096);
  const tail = await src.read(tailStart, src.size - tailStart);
  let i = tail.length - 1;
  while (i >= 0 && tail[i] === 0x00) i--;
  return tailStart + i >= 13 && tail[i] === 0x3b; // past the 13-byte header
}

async function webpComplete(src: Source): Promise<boolean> {
  const head = await src.read(0, 12);
  if (head.length < 12) return false;
  return src.size >= head.readUInt32LE(4) + 8;
}

async function isobmffComplete(src: Source): Promise<boolean> {
  let at = 0;
  for (let boxes = 0; at < src.size; boxes++) {
    if (boxes > 10_000 || at + 8 > src.size) return false;
    const head = await src.read(at, 16);
    let size = head.readUInt32BE(0);
    if (size === 0) return true; // the last box runs to the end of the file
    if (size === 1) {
      if (head.length < 16) return false;
      size = Number(head.readBigUInt64BE(8));
    }
    if (size < 8 || at + size > src.size) return false;
    at += size;
  }
  return true;
}

const TIFF_TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

async function tiffComplete(src: Source): Promise<boolean> {
  const head = await src.read(0, 8);
  if (head.length < 8) return false;
  const le = head[0] === 0x49;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u16(head, 2) !== 42) return true; // BigTIFF (43): not checked here, the worker decides
  const ifd = u32(head, 4);
  if (ifd + 2 > src.size) return false;
  const count = u16(await src.read(ifd, 2), 0);
  const entries = await src.read(ifd + 2, count * 12);
  if (entries.length < count * 12 || ifd + 2 + count * 12 + 4 > src.size) return false;
  const values = async (tag: number): Promise<number[] | undefined> => {
    for (let i = 0; i < count; i++) {
      const e = i * 12;
      if (u16(entries, e) !== tag) continue;
      const type = u16(entries, e + 2);
      const n = u32(entries, e + 4);
      const size = TIFF_TYPE_SIZE[type];
      if ((size !== 2 && size !== 4) || n > 1_000_000) return undefined;
      const bytes = n * size;
      const data = bytes <= 4 ? entries.subarray(e + 8, e + 8 + bytes) : await src.read(u32(entries, e + 8), bytes);
      if (data.length < bytes) return [Infinity];
      return Array.from({ length: n }, (_, k) => (size === 2 ? u16(data, k * 2) : u32(data, k * 4)));
    }
    return undefined;
  };
  // Every value stored outside the IFD, and the next IFD, must lie inside the file.
  for (let i = 0; i < count; i++) {
    const e = i * 12;
    const bytes = (TIFF_TYPE_SIZE[u16(entries, e + 2)] ?? 0) * u32(entries, e + 4);
    if (bytes > 4 && u32(entries, e + 8) + bytes > src.size) return false;
  }
  const next = u32(await src.read(ifd + 2 + count * 12, 4), 0);
  if (next !== 0 && next + 2 > src.size) return false;
  const offsets = (await values(273)) ?? (await values(324));
  const counts = (await values(279)) ?? (await values(325));
  if (!offsets || !counts || offsets.length !== counts.length) return true; // unusual layout: leave it to the worker
  return offsets.every((o, i) => o + counts[i]! <= src.size);
}

const CHECKS: Record<InputFormat, (src: Source) => Promise<boolean>> = {
  jpeg: jpegComplete,
  png: pngComplete,
  gif: gifComplete,
  webp: webpComplete,
  avif: isobmffComplete,
  tiff: tiffComplete,
};

/** True when the file's structure is whole for its format (detected from its bytes beforehand). */
export async function isImageComplete(input: Buffer | string, format: InputFormat): Promise<boolean> {
  return withSource(input, CHECKS[format]);
}
