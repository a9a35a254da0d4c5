import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueNames, writeArchive, type ArchiveEntry } from './archive.js';
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

describe('writeArchive', () => {
  let dir: string;
  let entries: ArchiveEntry[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seler-archive-'));
    entries = [
      { name: 'photo.jpg', data: await makeJpeg({ width: 200, height: 100 }) },
      { name: 'photo_128x128.jpg', data: await makeJpeg() },
      { name: 'icon.png', data: await makePng({ alpha: true }) },
      { name: 'scan.tiff', data: await makeTiff({ width: 300, height: 300 }) },
      { name: 'notes.txt', data: Buffer.from('hello '.repeat(1000)) },
      { name: 'empty.bin', data: Buffer.alloc(0) },
      { name: 'été 照片.jpg', data: await makeJpeg() },
      { name: 'photo.jpg', data: Buffer.from('second photo with the same name') },
    ];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every entry with a valid CRC and size, storing compressed formats', async () => {
    const file = path.join(dir, 'a.zip');
    const { bytes } = await writeArchive(file, entries);
    const zip = await readFile(file);
    expect(bytes).toBe(zip.length);
    const read = readZip(zip);
    expect(read.map((e) => e.name)).toEqual([
      'photo.jpg',
      'photo_128x128.jpg',
      'icon.png',
      'scan.tiff',
      'notes.txt',
      'empty.bin',
      'été 照片.jpg',
      'photo-2.jpg',
    ]);
    read.forEach((e, i) => {
      const original = entries[i]!.data;
      expect(e.flags & 0x800).toBe(0x800); // names are UTF-8
      expect(e.flags & 0x8).toBe(0); // sizes known up front: no data descriptors
      expect(e.size).toBe(original.length);
      expect(e.crc).toBe(zlib.crc32(original));
      const content = e.method === 8 ? zlib.inflateRawSync(e.data) : e.data;
      expect(content.equals(original)).toBe(true);
    });
    const method = Object.fromEntries(read.map((e) => [e.name, e.method]));
    expect(method).toMatchObject({ 'photo.jpg': 0, 'photo_128x128.jpg': 0, 'icon.png': 0, 'scan.tiff': 8, 'notes.txt': 8, 'empty.bin': 0 });
  });

  it('passes unzip -t and lists STORE for JPEG (unzip is a test prerequisite, see the README)', async () => {
    const file = path.join(dir, 'b.zip');
    await writeArchive(file, entries);
    expect(execFileSync('unzip', ['-t', file]).toString()).toContain('No errors detected');
    const verbose = execFileSync('unzip', ['-Zv', file]).toString();
    const methodOf = (name: string) => {
      const block = verbose.split('Central directory entry #').find((b) => b.includes(`\n  ${name}\n`));
      return /compression method:\s+(\S+)/.exec(block ?? '')?.[1];
    };
    expect(methodOf('photo_128x128.jpg')).toBe('none');
    expect(methodOf('scan.tiff')).toBe('deflated');
    const out = path.join(dir, 'out');
    execFileSync('unzip', ['-q', file, '-d', out]);
    expect((await readdir(out)).sort()).toEqual(
      ['empty.bin', 'icon.png', 'notes.txt', 'photo-2.jpg', 'photo.jpg', 'photo_128x128.jpg', 'scan.tiff', 'été 照片.jpg'].sort(),
    );
    expect((await readFile(path.join(out, 'photo.jpg'))).equals(entries[0]!.data)).toBe(true);
  });

  it('writes an empty archive: just the end record', async () => {
    const file = path.join(dir, 'empty.zip');
    const { bytes } = await writeArchive(file, []);
    expect(bytes).toBe(22);
    expect(readZip(await readFile(file))).toEqual([]);
  });

  it('replaces an existing file atomically and leaves no temporary files', async () => {
    const file = path.join(dir, 'c.zip');
    await writeFile(file, 'old');
    await writeArchive(file, entries.slice(0, 2));
    expect(readZip(await readFile(file))).toHaveLength(2);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('fails without leaving anything when the directory does not exist', async () => {
    await expect(writeArchive(path.join(dir, 'missing', 'd.zip'), entries)).rejects.toThrow(/ENOENT/);
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
  });
});
