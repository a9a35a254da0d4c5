import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { isImageComplete } from './complete.js';
import type { InputFormat } from './image.js';
import { makeAnimatedGif, makeAvif, makeJpeg, makeNoisyJpeg, makePng, makeTiff, makeWebp } from './test-images.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seler-complete-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noise = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });

const images: [InputFormat, () => Promise<Buffer>][] = [
  ['jpeg', () => makeNoisyJpeg(300, 200)],
  ['jpeg', () => noise(300, 200).jpeg({ progressive: true }).toBuffer()],
  ['jpeg', () => makeJpeg({ width: 200, height: 100, gps: true, orientation: 6 })],
  ['png', () => noise(200, 150).png().toBuffer()],
  ['png', () => makePng({ width: 120, height: 80, alpha: true })],
  ['gif', () => makeAnimatedGif(60, 40)],
  ['gif', () => noise(100, 80).gif().toBuffer()],
  ['webp', () => makeWebp({ width: 120, height: 80 })],
  ['webp', () => noise(200, 150).webp({ quality: 80 }).toBuffer()],
  ['avif', () => makeAvif({ width: 64, height: 64 })],
  ['tiff', () => makeTiff({ width: 200, height: 150 })],
  ['tiff', () => noise(200, 150).tiff({ compression: 'none' }).toBuffer()],
];

/** Every image is checked as a buffer and as a file (the upload path). */
async function complete(data: Buffer, format: InputFormat): Promise<boolean> {
  const file = path.join(dir, `f-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, data);
  const [fromBuffer, fromFile] = await Promise.all([isImageComplete(data, format), isImageComplete(file, format)]);
  expect(fromBuffer).toBe(fromFile);
  return fromFile;
}

describe('isImageComplete', () => {
  it.each(images.map(([f, make], i) => [`${f} #${i}`, f, make] as const))('%s: whole is complete, cut anywhere is not', async (_label, format, make) => {
    const image = await make();
    expect(await complete(image, format)).toBe(true);
    const cuts = [0.05, 0.2, 0.5, 0.8, 0.95].map((f) => Math.floor(image.length * f));
    cuts.push(image.length - 1, image.length - 2, 16);
    for (const cut of cuts) {
      expect(await complete(image.subarray(0, cut), format), `cut at ${cut} of ${image.length}`).toBe(false);
    }
  });

  it('every image the decoder reads as truncated is caught (sharp agrees on the cut files)', async () => {
    for (const [format, make] of images) {
      const image = await make();
      for (const fraction of [0.3, 0.7]) {
        const cut = image.subarray(0, Math.floor(image.length * fraction));
        const decodes = await sharp(cut, { failOn: 'error' }).raw().toBuffer().then(() => true, () => false);
        if (!decodes) expect(await complete(cut, format), `${format} at ${fraction}`).toBe(false);
      }
    }
  });

  it('accepts data after a JPEG’s EOI (motion photos, maker trailers) and after a PNG’s IEND', async () => {
    const jpeg = await makeNoisyJpeg(200, 100);
    expect(await complete(Buffer.concat([jpeg, Buffer.alloc(3 * 1024 * 1024, 0x41)]), 'jpeg')).toBe(true);
    expect(await complete(Buffer.concat([jpeg, Buffer.from('SEFHtrailer')]), 'jpeg')).toBe(true);
    const png = await makePng();
    expect(await complete(Buffer.concat([png, Buffer.from('junk after the end')]), 'png')).toBe(true);
    const gif = await makeAnimatedGif();
    expect(await complete(Buffer.concat([gif, Buffer.alloc(100)]), 'gif')).toBe(true);
  });

  it('is not fooled by the EOI of the EXIF thumbnail inside APP1 when the main scan is cut', async () => {
    const jpeg = await makeNoisyJpeg(400, 300);
    // An APP1 segment holding a tiny JPEG (SOI … SOS … EOI) right after SOI, as cameras write.
    const thumb = await makeJpeg({ width: 8, height: 8 });
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), Buffer.from('Exif\0\0'), thumb]);
    app1.writeUInt16BE(app1.length - 2, 2);
    const withThumb = Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
    expect(await complete(withThumb, 'jpeg')).toBe(true);
    expect(await complete(withThumb.subarray(0, withThumb.length - 5000), 'jpeg')).toBe(false);
  });

  it('says incomplete for headers alone and for garbage claiming a format', async () => {
    expect(await complete(Buffer.from([0xff, 0xd8, 0xff]), 'jpeg')).toBe(false);
    expect(await complete(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), 'png')).toBe(false);
    expect(await complete(Buffer.from('GIF89a'), 'gif')).toBe(false);
    expect(await complete(Buffer.from('RIFF\xff\xff\x00\x00WEBPVP8 ', 'latin1'), 'webp')).toBe(false);
    expect(await complete(Buffer.from([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70]), 'avif')).toBe(false);
    expect(await complete(Buffer.from('II*\0\xff\xff\xff\x00', 'latin1'), 'tiff')).toBe(false);
  });
});
