import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import { makeThumbnails, probeImage, sniffFormat, type Fit, type OutputFormat } from './image.js';
import type { Size } from './naming.js';
import { DEFAULT_DECODE_MEMORY_BYTES, DEFAULT_QUALITY, type Position } from './options.js';
import { newDecodeSlots } from './slots.js';
import {
  HEIC_IMAGE,
  PDF_BYTES,
  SVG_IMAGE,
  hasGpsTag,
  makeAnimatedGif,
  makeAnimatedWebp,
  makeAvif,
  makeBomb,
  makeJpeg,
  makeNoisyJpeg,
  makePng,
  makeTiff,
  makeWebp,
  truncated,
  withExtraneousBytes,
} from './test-images.js';

const MAX_PIXELS = 50_000_000;
/** One set of decode slots for the whole file, as a worker has one for all its tasks. */
const decodeSlots = newDecodeSlots();

async function thumbs(input: Buffer, sizes: Size[], format: OutputFormat = 'original', fit: Fit = 'inside') {
  return makeThumbnails(input, { sizes, format, fit, stem: 'photo', maxPixels: MAX_PIXELS, decodes: decodeSlots });
}

async function one(input: Buffer, size: Size, format: OutputFormat = 'original', fit: Fit = 'inside') {
  const { thumbnails } = await thumbs(input, [size], format, fit);
  expect(thumbnails).toHaveLength(1);
  return thumbnails[0]!;
}

/** The RGB(A) of one pixel. */
async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return [...data.subarray(o, o + info.channels)];
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('probeImage', () => {
  const accepted: [string, () => Promise<Buffer>, string, string][] = [
    ['jpeg', () => makeJpeg(), 'jpg', 'image/jpeg'],
    ['png', () => makePng(), 'png', 'image/png'],
    ['gif', () => makeAnimatedGif(), 'gif', 'image/gif'],
    ['webp', () => makeWebp(), 'webp', 'image/webp'],
    ['tiff', () => makeTiff(), 'tiff', 'image/tiff'],
    ['avif', () => makeAvif(), 'avif', 'image/avif'],
  ];
  it.each(accepted)('identifies %s from the bytes', async (format, make, ext, mime) => {
    const info = await probeImage(await make(), { maxPixels: MAX_PIXELS });
    expect(info).toMatchObject({ format, ext, mime, width: format === 'gif' ? 30 : 60, height: format === 'gif' ? 20 : 40 });
  });

  it('reads a file path as well as a buffer', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'seler-probe-'));
    try {
      // A misleading name: the bytes decide.
      const file = path.join(dir, 'picture.gif');
      await writeFile(file, await makePng());
      expect((await probeImage(file, { maxPixels: MAX_PIXELS })).format).toBe('png');
      await writeFile(file, 'not an image');
      expect((await rejection(probeImage(file, { maxPixels: MAX_PIXELS }))).status).toBe(415);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports pages, alpha and orientation', async () => {
    expect(await probeImage(await makeAnimatedGif(), { maxPixels: MAX_PIXELS })).toMatchObject({ pages: 3 });
    expect(await probeImage(await makePng({ alpha: true }), { maxPixels: MAX_PIXELS })).toMatchObject({ hasAlpha: true });
    expect(await probeImage(await makeJpeg({ orientation: 6 }), { maxPixels: MAX_PIXELS })).toMatchObject({ orientation: 6, width: 60, height: 40 });
  });

  const refused: [string, () => Buffer | Promise<Buffer>][] = [
    ['SVG', () => Buffer.from(SVG_IMAGE)],
    ['PDF', () => PDF_BYTES],
    ['HEIC (HEVC)', () => HEIC_IMAGE],
    ['random bytes', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))],
    ['empty', () => Buffer.alloc(0)],
    ['text', () => Buffer.from('hello, this is not an image\n')],
  ];
  it.each(refused)('refuses %s with 415 naming the accepted formats', async (_kind, make) => {
    const err = await rejection(probeImage(await make(), { maxPixels: MAX_PIXELS }));
    expect(err.status).toBe(415);
    expect(err.code).toBe('unsupported_format');
    expect(err.message).toContain('accepted: JPEG, PNG, GIF, WebP, TIFF, AVIF');
  });

  it('refuses a decompression bomb with 413 from the header alone', async () => {
    const bomb = makeBomb();
    expect(bomb.length).toBeLessThan(100_000);
    const started = performance.now();
    const err = await rejection(probeImage(bomb, { maxPixels: 100_000_000 }));
    // Decoding 400 megapixels would take many seconds; refusing from the header takes milliseconds.
    expect(performance.now() - started).toBeLessThan(4000);
    expect(err.status).toBe(413);
    expect(err.code).toBe('too_many_pixels');
    expect(err.message).toContain('20000x20000');
    expect(err.message).toContain('100,000,000');
  });

  it('refuses an image just over the pixel limit and accepts one at it', async () => {
    const png = await makePng({ width: 100, height: 50 });
    expect((await rejection(probeImage(png, { maxPixels: 4999 }))).status).toBe(413);
    await expect(probeImage(png, { maxPixels: 5000 })).resolves.toMatchObject({ width: 100 });
  });

  it('answers 422 for a known header that cannot be read', async () => {
    const err = await rejection(probeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), { maxPixels: MAX_PIXELS }));
    expect(err.status).toBe(422);
    expect(err.code).toBe('undecodable_image');
  });

  it('sniffs the magic bytes of the accepted formats and HEIC', async () => {
    expect(sniffFormat(await makeJpeg())).toBe('jpeg');
    expect(sniffFormat(await makeAvif())).toBe('avif');
    expect(sniffFormat(HEIC_IMAGE)).toBe('heic');
    expect(sniffFormat(Buffer.from('GIF89a'))).toBe('gif');
    expect(sniffFormat(Buffer.from('<svg'))).toBeUndefined();
  });
});

describe('makeThumbnails: formats', () => {
  const inputs: [string, () => Promise<Buffer>][] = [
    ['jpeg', () => makeJpeg()],
    ['png', () => makePng()],
    ['gif', () => makeAnimatedGif()],
    ['webp', () => makeWebp()],
    ['tiff', () => makeTiff()],
    ['avif', () => makeAvif()],
  ];
  const outputs: OutputFormat[] = ['jpeg', 'png', 'webp', 'avif'];
  for (const [input, make] of inputs) {
    it.each(outputs)(`${input} → %s`, async (format) => {
      const thumb = await one(await make(), { width: 16, height: 16 }, format);
      const meta = await sharp(thumb.data).metadata();
      expect(meta.format).toBe(format === 'avif' ? 'heif' : format);
      expect(thumb.format).toBe(format);
      expect(thumb.name).toBe(`photo_16x16.${format === 'jpeg' ? 'jpg' : format}`);
      expect(thumb.bytes).toBe(thumb.data.length);
      expect([meta.width, meta.height]).toEqual([thumb.width, thumb.height]);
    });
  }

  it.each([
    ['jpeg', () => makeJpeg(), 'jpeg', 'jpg'],
    ['png', () => makePng(), 'png', 'png'],
    ['gif', () => makeAnimatedGif(), 'gif', 'gif'],
    ['webp', () => makeWebp(), 'webp', 'webp'],
    ['avif', () => makeAvif(), 'avif', 'avif'],
    ['opaque tiff', () => makeTiff(), 'jpeg', 'jpg'],
    ['tiff with alpha', () => makeTiff({ alpha: true }), 'png', 'png'],
  ] as const)("'original' for %s gives %s", async (_label, make, format, ext) => {
    const thumb = await one(await make(), { width: 16, height: 16 }, 'original');
    expect(thumb.format).toBe(format);
    expect(thumb.ext).toBe(ext);
    expect((await sharp(thumb.data).metadata()).format).toBe(format === 'avif' ? 'heif' : format);
  });
});

describe('makeThumbnails: pixels', () => {
  it('honours EXIF orientation 6 (rotate 90° clockwise)', async () => {
    // Stored 60x40 with red on top: shown 40x60 with red on the right.
    const thumb = await one(await makeJpeg({ orientation: 6 }), { width: 30, height: 30 }, 'png');
    expect([thumb.width, thumb.height]).toEqual([20, 30]);
    const [r, , b] = await pixel(thumb.data, 18, 15);
    expect([r! > 240, b! < 15]).toEqual([true, true]);
    const [r2, , b2] = await pixel(thumb.data, 1, 15);
    expect([r2! < 15, b2! > 240]).toEqual([true, true]);
    expect((await sharp(thumb.data).metadata()).orientation).toBeUndefined();
  });

  it.each([3, 5, 8])('orientation %i gives the displayed dimensions', async (orientation) => {
    const thumb = await one(await makeJpeg({ orientation }), { width: 600, height: 600 });
    expect([thumb.width, thumb.height]).toEqual(orientation === 3 ? [60, 40] : [40, 60]);
  });

  it('strips EXIF (with GPS), ICC and XMP from thumbnails', async () => {
    const input = await makeJpeg({ gps: true, orientation: 1 });
    expect(hasGpsTag((await sharp(input).metadata()).exif)).toBe(true);
    for (const format of ['jpeg', 'png', 'webp', 'avif'] as const) {
      const meta = await sharp((await one(input, { width: 32, height: 32 }, format)).data).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.icc).toBeUndefined();
    }
  });

  it.each([true, 'icc'] as const)('converts a CMYK JPEG (profile: %s) to sRGB', async (cmyk) => {
    const input = await makeJpeg({ cmyk });
    expect((await sharp(input).metadata()).space).toBe('cmyk');
    const thumb = await one(input, { width: 30, height: 30 });
    const meta = await sharp(thumb.data).metadata();
    expect(meta).toMatchObject({ space: 'srgb', channels: 3 });
    const [r, g, b] = await pixel(thumb.data, 15, 2);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it.each([false, true])('turns a 16-bit PNG (grey: %s) into 8 bits', async (grey) => {
    const input = await makePng({ sixteenBit: true, grey });
    expect((await sharp(input).metadata()).depth).toBe('ushort');
    const meta = await sharp((await one(input, { width: 30, height: 30 })).data).metadata();
    expect(meta.depth).toBe('uchar');
  });

  it.each(['png', 'webp', 'avif'] as const)('keeps alpha for %s', async (format) => {
    const thumb = await one(await makePng({ alpha: true }), { width: 30, height: 30 }, format);
    expect((await sharp(thumb.data).metadata()).hasAlpha).toBe(true);
    expect((await pixel(thumb.data, 28, 10))[3]).toBeLessThan(10);
    expect((await pixel(thumb.data, 2, 10))[3]).toBeGreaterThan(245);
  });

  it('flattens alpha onto white for jpeg', async () => {
    const thumb = await one(await makePng({ alpha: true }), { width: 30, height: 30 }, 'jpeg');
    const meta = await sharp(thumb.data).metadata();
    expect(meta.hasAlpha).toBe(false);
    expect(meta.channels).toBe(3);
    for (const v of await pixel(thumb.data, 28, 10)) expect(v).toBeGreaterThan(245);
  });

  it.each([
    ['gif', makeAnimatedGif],
    ['webp', makeAnimatedWebp],
  ] as const)('takes the first frame of an animated %s', async (_format, make) => {
    const input = await make();
    expect((await sharp(input).metadata()).pages).toBe(3);
    const thumb = await one(input, { width: 15, height: 15 }, 'original');
    const meta = await sharp(thumb.data).metadata();
    expect(meta.pages ?? 1).toBe(1);
    expect([thumb.width, thumb.height]).toEqual([15, 10]);
    const [r, g, b] = await pixel(thumb.data, 7, 5);
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(60);
  });
});

describe('makeThumbnails: memory', () => {
  it('decodes at most one original per core at once, however many are asked for together', async () => {
    const input = await makeNoisyJpeg(1200, 800);
    const info = await probeImage(input, { maxPixels: MAX_PIXELS });
    decodeSlots.highest = 0;
    const many = 4 * decodeSlots.limit + 1;
    const results = await Promise.all(
      Array.from({ length: many }, () => makeThumbnails(input, { sizes: [{ width: 64, height: 64 }], format: 'jpeg', fit: 'inside', stem: 'p', maxPixels: MAX_PIXELS, decodes: decodeSlots, info })),
    );
    expect(results.every((r) => r.thumbnails[0]!.width === 64)).toBe(true);
    // Counted, not timed: all of them reached the decode in the same turn, so the bound was reached and held.
    expect(decodeSlots.highest).toBe(decodeSlots.limit);
    expect(decodeSlots.inUse).toBe(0);
  });

  it('decodes that hold the whole image stay within the budget together', async () => {
    const progressive = await sharp(await makeNoisyJpeg(600, 400)).jpeg({ progressive: true, chromaSubsampling: '4:2:0' }).toBuffer();
    const info = await probeImage(progressive, { maxPixels: MAX_PIXELS });
    expect(info.wholeImageBytes).toBe(600 * 400 * 3 * 2); // three planes of 2-byte coefficients
    expect((await probeImage(await makeNoisyJpeg(600, 400), { maxPixels: MAX_PIXELS })).wholeImageBytes).toBeUndefined();
    // As if each were a 20-megapixel progressive photo: two would not fit the budget.
    const heavy = { ...info, wholeImageBytes: Math.ceil(DEFAULT_DECODE_MEMORY_BYTES * 0.6) };
    decodeSlots.highest = 0;
    decodeSlots.heaviest = 0;
    const options = { sizes: [{ width: 64, height: 64 }], format: 'jpeg' as const, fit: 'inside' as const, stem: 'p', maxPixels: MAX_PIXELS, decodes: decodeSlots };
    await Promise.all(Array.from({ length: 5 }, () => makeThumbnails(progressive, { ...options, info: heavy })));
    expect(decodeSlots.heaviest).toBe(heavy.wholeImageBytes);
    expect(decodeSlots.highest).toBe(1);
    expect(decodeSlots.inUse).toBe(0);
  });

  it('a decode that fails gives its slot back', async () => {
    await expect(thumbs(truncated(await makeJpeg({ width: 400, height: 300 }), 0.3), [{ width: 64, height: 64 }])).rejects.toThrow();
    expect(decodeSlots.inUse).toBe(0);
  });
});

describe('makeThumbnails: sizes and fit', () => {
  const boxes: Size[] = [
    { width: 128, height: 128 },
    { width: 100, height: 30 },
    { width: 30, height: 100 },
    { width: 257, height: 13 },
  ];
  const shapes: [number, number][] = [
    [640, 480],
    [480, 640],
    [1000, 333],
    [333, 1000],
  ];

  it.each(shapes)('inside fits %ix%i within each box and keeps the aspect within a pixel', async (w, h) => {
    const { thumbnails } = await thumbs(await makeJpeg({ width: w, height: h }), boxes, 'png', 'inside');
    thumbnails.forEach((t, i) => {
      const box = boxes[i]!;
      expect(t.width).toBeLessThanOrEqual(box.width);
      expect(t.height).toBeLessThanOrEqual(box.height);
      // One side touches the box; the other is the exact proportion, rounded.
      if (t.width === box.width) expect(Math.abs(t.height - (box.width * h) / w)).toBeLessThanOrEqual(1);
      else expect([t.height, Math.abs(t.width - (box.height * w) / h) <= 1]).toEqual([box.height, true]);
    });
  });

  it('inside never enlarges', async () => {
    const thumb = await one(await makeJpeg({ width: 50, height: 30 }), { width: 128, height: 128 });
    expect([thumb.width, thumb.height]).toEqual([50, 30]);
  });

  it.each(shapes)('cover gives exactly each box for %ix%i', async (w, h) => {
    const { thumbnails } = await thumbs(await makeJpeg({ width: w, height: h }), boxes, 'jpeg', 'cover');
    expect(thumbnails.map((t) => [t.width, t.height])).toEqual(boxes.map((b) => [b.width, b.height]));
  });

  it('cover fills a box larger than the image', async () => {
    const thumb = await one(await makeJpeg({ width: 50, height: 30 }), { width: 128, height: 128 }, 'jpeg', 'cover');
    expect([thumb.width, thumb.height]).toEqual([128, 128]);
  });

  it('contain letterboxes to exactly the box: transparent for png, white for jpeg', async () => {
    const input = await makeJpeg({ width: 100, height: 50 });
    const png = await one(input, { width: 60, height: 60 }, 'png', 'contain');
    expect([png.width, png.height]).toEqual([60, 60]);
    expect((await pixel(png.data, 30, 2))[3]).toBe(0);
    expect((await pixel(png.data, 30, 20))[3]).toBe(255);
    const jpeg = await one(input, { width: 60, height: 60 }, 'jpeg', 'contain');
    expect([jpeg.width, jpeg.height]).toEqual([60, 60]);
    for (const v of await pixel(jpeg.data, 30, 2)) expect(v).toBeGreaterThan(245);
  });

  it('makes every size from one call, listed in request order, reporting progress as each finishes', async () => {
    const sizes = [128, 256, 512, 64].map((n) => ({ width: n, height: n }));
    const seen: [number, number, string][] = [];
    const { info, thumbnails } = await makeThumbnails(
      await makeJpeg({ width: 1200, height: 900 }),
      { sizes, format: 'webp', fit: 'inside', stem: 'holiday', maxPixels: MAX_PIXELS, decodes: decodeSlots },
      (done, total, thumb) => seen.push([done, total, thumb.name]),
    );
    expect(info).toMatchObject({ format: 'jpeg', width: 1200, height: 900 });
    expect(thumbnails.map((t) => t.width)).toEqual([128, 256, 512, 64]);
    expect(seen.map(([done, total]) => [done, total])).toEqual([1, 2, 3, 4].map((n) => [n, 4]));
    expect(seen.map(([, , name]) => name).sort()).toEqual(thumbnails.map((t) => t.name).sort());
    expect(thumbnails[0]!.name).toBe('holiday_128x128.webp');
  });
});

describe('makeThumbnails: bad input', () => {
  it('returns no thumbnails for no sizes, after checking the image', async () => {
    expect((await thumbs(await makePng(), [])).thumbnails).toEqual([]);
    expect((await rejection(thumbs(Buffer.from('text'), []))).status).toBe(415);
  });

  it('answers 422 for a truncated JPEG', async () => {
    const err = await rejection(thumbs(truncated(await makeNoisyJpeg()), [{ width: 64, height: 64 }]));
    expect(err.status).toBe(422);
    expect(err.code).toBe('undecodable_image');
  });

  it('tolerates a JPEG that only warns (failOn is "error", not "warning")', async () => {
    const input = withExtraneousBytes(await makeNoisyJpeg(64, 64));
    await expect(sharp(input, { failOn: 'warning' }).png().toBuffer()).rejects.toThrow(/extraneous bytes/);
    expect((await one(input, { width: 32, height: 32 })).width).toBe(32);
  });

  it('answers 422 for a truncated PNG', async () => {
    const png = await sharp(await makeNoisyJpeg()).png().toBuffer();
    const err = await rejection(thumbs(truncated(png), [{ width: 64, height: 64 }]));
    expect(err.status).toBe(422);
  });

  it('refuses a bomb with 413 before decoding', async () => {
    const started = performance.now();
    const err = await rejection(thumbs(makeBomb(), [{ width: 64, height: 64 }]));
    expect(err.status).toBe(413);
    // Decoding 400 megapixels would take many seconds; refusing from the header takes milliseconds.
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('refuses what it does not accept with 415', async () => {
    expect((await rejection(thumbs(Buffer.from(SVG_IMAGE), [{ width: 64, height: 64 }]))).status).toBe(415);
    expect((await rejection(thumbs(HEIC_IMAGE, [{ width: 64, height: 64 }]))).status).toBe(415);
  });
});

/**
 * 300x100: flat grey except the right third, a saturated red/yellow checkerboard (salient and busy).
 * A 100x100 cover crop of the centre is all grey; a smart crop must find the checkerboard.
 */
async function greyWithBusyRight(): Promise<Buffer> {
  const width = 300;
  const height = 100;
  const data = Buffer.alloc(width * height * 3, 128);
  for (let y = 0; y < height; y++) {
    for (let x = 200; x < width; x++) {
      const o = (y * width + x) * 3;
      const red = (Math.floor(x / 10) + Math.floor(y / 10)) % 2 === 0;
      data[o] = 255;
      data[o + 1] = red ? 0 : 230;
      data[o + 2] = 0;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** The share of pixels that are clearly not the grey background. */
async function colouredShare(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let coloured = 0;
  for (let o = 0; o < data.length; o += info.channels) if (data[o]! > 200 && data[o + 2]! < 60) coloured++;
  return coloured / (info.width * info.height);
}

describe('quality and the cover crop position', () => {
  const crop = async (position: Position | undefined) => {
    const { thumbnails } = await makeThumbnails(await greyWithBusyRight(), {
      sizes: [{ width: 100, height: 100 }],
      format: 'png',
      fit: 'cover',
      stem: 'p',
      maxPixels: MAX_PIXELS, decodes: decodeSlots,
      position,
    });
    return thumbnails[0]!;
  };

  it('crops the centre by default and where attention or entropy finds the busy part', async () => {
    const centre = await crop(undefined);
    expect(await colouredShare(centre.data)).toBe(0);
    expect((await crop('centre')).data.equals(centre.data)).toBe(true);
    for (const smart of ['attention', 'entropy', 'east'] as const) {
      const out = await crop(smart);
      expect([out.width, out.height]).toEqual([100, 100]);
      expect(await colouredShare(out.data), smart).toBeGreaterThan(0.5);
    }
    expect(await colouredShare((await crop('west')).data)).toBe(0);
  });

  it('a position other than the centre does not move contain’s padding or inside’s box', async () => {
    const input = await greyWithBusyRight();
    for (const fit of ['contain', 'inside'] as const) {
      const base = { sizes: [{ width: 100, height: 100 }], format: 'png' as const, fit, stem: 'p', maxPixels: MAX_PIXELS, decodes: decodeSlots };
      const plain = await makeThumbnails(input, base);
      const moved = await makeThumbnails(input, { ...base, position: 'attention' });
      expect(moved.thumbnails[0]!.data.equals(plain.thumbnails[0]!.data), fit).toBe(true);
    }
  });

  it('quality changes the bytes of every lossy format, and defaults per format', async () => {
    const noisy = await makeNoisyJpeg(400, 300);
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      const make = async (quality?: number) =>
        (await makeThumbnails(noisy, { sizes: [{ width: 256, height: 256 }], format, fit: 'inside', stem: 'q', maxPixels: MAX_PIXELS, decodes: decodeSlots, quality })).thumbnails[0]!;
      const low = await make(5);
      const high = await make(95);
      const byDefault = await make();
      expect(low.bytes, format).toBeLessThan(high.bytes);
      expect(byDefault.data.equals((await make(DEFAULT_QUALITY[format])).data), format).toBe(true);
      expect(byDefault.bytes, format).toBeGreaterThan(low.bytes);
      expect(byDefault.bytes, format).toBeLessThan(high.bytes);
    }
  });
});
