import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { archiveSize, nativeCrc32, streamArchive, uniqueNames, type ArchiveEntry } from './archive.js';
import { makeJpeg, makePng, makeTiff } from './test-images.js';

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  flags: number;
  data: Buffer;
}

/** Reads a zip the way unzip does: end record → central directory → each local header and its data. */
function readZip(zip: Buffer): CentralEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBeGreaterThan(-1);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  expect(at + zip.readUInt32LE(end + 12)).toBe(end);
  const entries: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const compressedSize = zip.readUInt32LE(at + 20);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      flags: zip.readUInt16LE(at + 8),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize,
      size: zip.readUInt32LE(at + 24),
      data: zip.subarray(dataAt, dataAt + compressedSize),
    });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}


describe('uniqueNames', () => {
  it('leaves unique names alone', () => {
    expect(uniqueNames(['a.jpg', 'b.jpg', 'a.png'])).toEqual(['a.jpg', 'b.jpg', 'a.png']);
  });

  it('adds -2, -3 before the extension', () => {
    expect(uniqueNames(['a.jpg', 'a.jpg', 'a.jpg', 'b', 'b'])).toEqual(['a.jpg', 'a-2.jpg', 'a-3.jpg', 'b', 'b-2']);
  });

  it('treats names differing only in case as the same (Windows and macOS unzip)', () => {
    expect(uniqueNames(['Photo.JPG', 'photo.jpg'])).toEqual(['Photo.JPG', 'photo-2.jpg']);
  });

  it('skips a suffix already taken by a later or earlier name', () => {
    expect(uniqueNames(['a-2.jpg', 'a.jpg', 'a.jpg'])).toEqual(['a-2.jpg', 'a.jpg', 'a-3.jpg']);
    expect(uniqueNames(['a.jpg', 'a.jpg', 'a-2.jpg'])).toEqual(['a.jpg', 'a-2.jpg', 'a-2-2.jpg']);
  });

  it('keeps a leading-dot name whole', () => {
    expect(uniqueNames(['.x', '.x'])).toEqual(['.x', '.x-2']);
  });
});

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('streamArchive', () => {
  let dir: string;
  let entries: { name: string; data: Buffer }[];
  let opened: string[];
  const asEntries = (list: { name: string; data: Buffer }[]): ArchiveEntry[] =>
    list.map((e) => ({
      name: e.name,
      bytes: e.data.length,
      open: async () => {
        opened.push(e.name);
        // Chunks of 16 KB, as a store delivers them.
        return Readable.from(Array.from({ length: Math.ceil(e.data.length / 16384) }, (_, i) => e.data.subarray(i * 16384, (i + 1) * 16384)));
      },
    }));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seler-archive-'));
    entries = [
      { name: 'photo.jpg', data: await makeJpeg({ width: 200, height: 100 }) },
      { name: 'photo_128x128.jpg', data: await makeJpeg() },
      { name: 'icon.png', data: await makePng({ alpha: true }) },
      { name: 'scan.tiff', data: await makeTiff({ width: 300, height: 300 }) },
      { name: 'empty.bin', data: Buffer.alloc(0) },
      { name: 'été 照片.jpg', data: await makeJpeg() },
    ];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams every entry STORED with a valid CRC and size, and knows its size before the first byte', async () => {
    opened = [];
    const { stream, bytes } = streamArchive(asEntries(entries), new Date('2026-01-02T03:04:06Z'));
    expect(bytes).toBe(archiveSize(entries.map((e) => ({ name: e.name, bytes: e.data.length }))));
    const zip = await collect(stream);
    expect(zip.length).toBe(bytes);
    const read = readZip(zip);
    expect(read.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    read.forEach((e, i) => {
      const original = entries[i]!.data;
      expect(e.flags & 0x800).toBe(0x800); // names are UTF-8
      expect(e.method).toBe(0);
      expect(e.size).toBe(original.length);
      expect(e.crc).toBe(zlib.crc32(original));
      expect(e.data.equals(original)).toBe(true);
    });
    expect(opened).toEqual(entries.map((e) => e.name));
  });

  it('computes CRC-32s with Node’s native zlib.crc32, chunk by chunk, not buffer-crc32’s JavaScript', () => {
    const yazlCrc = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32') as { unsigned: unknown };
    expect(yazlCrc.unsigned).toBe(nativeCrc32);
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251));
    let running = 0;
    for (let at = 0; at < data.length; at += 16384) running = nativeCrc32(data.subarray(at, at + 16384), running);
    expect(running).toBe(zlib.crc32(data));
    expect(nativeCrc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the CRC-32 check value
  });

  it('passes unzip -t and extracts byte for byte (unzip is a test prerequisite, see the README)', async () => {
    opened = [];
    const file = path.join(dir, 'b.zip');
    await writeFile(file, await collect(streamArchive(asEntries(entries), new Date()).stream));
    expect(execFileSync('unzip', ['-t', file]).toString()).toContain('No errors detected');
    const out = path.join(dir, 'out');
    execFileSync('unzip', ['-q', file, '-d', out]);
    expect((await readdir(out)).sort()).toEqual(entries.map((e) => e.name).sort());
    for (const e of entries) expect((await readFile(path.join(out, e.name))).equals(e.data), e.name).toBe(true);
  });

  it('opens entries one at a time, when the zip reaches them: an unread zip holds little', async () => {
    opened = [];
    const big = Array.from({ length: 5 }, (_, i) => ({ name: `big-${i}.jpg`, data: Buffer.alloc(300_000, i) }));
    const { stream } = streamArchive(asEntries(big), new Date());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opened).toEqual(['big-0.jpg']); // nobody reads: the first entry waits on backpressure
    expect(stream.readableLength).toBeLessThan(100_000);
    const zip = await collect(stream);
    expect(opened).toHaveLength(5);
    expect(readZip(zip).map((e) => e.size)).toEqual([300_000, 300_000, 300_000, 300_000, 300_000]);
  });

  it('an empty archive is just the end record', async () => {
    const { stream, bytes } = streamArchive([], new Date());
    expect(bytes).toBe(22);
    expect(readZip(await collect(stream))).toEqual([]);
  });

  it('an entry that cannot be opened, or breaks off, or is shorter than announced, fails the stream', async () => {
    const first = entries[0]!;
    const failing: ArchiveEntry[][] = [
      [{ name: 'a.jpg', bytes: 10, open: () => Promise.reject(new Error('object gone')) }],
      [
        {
          name: 'a.jpg',
          bytes: first.data.length,
          open: async () =>
            new Readable({
              read() {
                this.push(first.data.subarray(0, 100));
                this.destroy(new Error('connection reset'));
              },
            }),
        },
      ],
      [{ name: 'a.jpg', bytes: first.data.length + 5, open: async () => Readable.from([first.data]) }],
    ];
    for (const [i, list] of failing.entries()) {
      await expect(collect(streamArchive(list, new Date()).stream), String(i)).rejects.toThrow(/object gone|connection reset|unexpected number of bytes/);
    }
  });
});
