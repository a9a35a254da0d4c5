// Small real images for tests, made with sharp (exported for other features' tests too).
import zlib from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

export const RED = { r: 255, g: 0, b: 0 };
export const BLUE = { r: 0, g: 0, b: 255 };

/** Raw RGB(A) pixels: the top half `top`, the bottom half `bottom`, so orientation shows. */
function halves(width: number, height: number, channels: 3 | 4, top = RED, bottom = BLUE, alpha = 255): Buffer {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    const c = y < height / 2 ? top : bottom;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      data[o] = c.r;
      data[o + 1] = c.g;
      data[o + 2] = c.b;
      if (channels === 4) data[o + 3] = alpha;
    }
  }
  return data;
}

/** An RGBA image whose left half is opaque red and right half fully transparent. */
function halfTransparent(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width / 2; x++) {
      const o = (y * width + x) * 4;
      data[o] = 255;
      data[o + 3] = 255;
    }
  }
  return data;
}

function source(width: number, height: number, alpha = false): Sharp {
  return alpha
    ? sharp(halfTransparent(width, height), { raw: { width, height, channels: 4 } })
    : sharp(halves(width, height, 3), { raw: { width, height, channels: 3 } });
}

export interface JpegOptions {
  width?: number;
  height?: number;
  /** EXIF orientation 1–8. */
  orientation?: number;
  /** A CMYK JPEG; 'icc' embeds a CMYK ICC profile, true leaves it without one. */
  cmyk?: boolean | 'icc';
  /** Adds GPS coordinates to the EXIF. */
  gps?: boolean;
}

/** Top half red, bottom half blue (as stored; orientation applies on top). */
export async function makeJpeg(options: JpegOptions = {}): Promise<Buffer> {
  const { width = 60, height = 40 } = options;
  let image = source(width, height);
  if (options.orientation !== undefined) image = image.withMetadata({ orientation: options.orientation });
  if (options.gps) image = image.withExif({ IFD0: { Make: 'seler-test' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } });
  if (options.cmyk === 'icc') image = image.withIccProfile('cmyk');
  else if (options.cmyk) image = image.toColourspace('cmyk');
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** True when EXIF data holds a GPS IFD pointer (tag 0x8825) in either byte order. */
export function hasGpsTag(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  return exif.includes(Buffer.from([0x25, 0x88, 0x04, 0x00])) || exif.includes(Buffer.from([0x88, 0x25, 0x00, 0x04]));
}

export interface PngOptions {
  width?: number;
  height?: number;
  /** Left half opaque red, right half transparent. */
  alpha?: boolean;
  sixteenBit?: boolean;
  grey?: boolean;
}

export async function makePng(options: PngOptions = {}): Promise<Buffer> {
  const { width = 60, height = 40 } = options;
  let image = source(width, height, options.alpha);
  if (options.grey) image = image.greyscale();
  if (options.sixteenBit) image = image.toColourspace(options.grey ? 'grey16' : 'rgb16');
  return image.png().toBuffer();
}

export async function makeWebp(options: { width?: number; height?: number; alpha?: boolean } = {}): Promise<Buffer> {
  return source(options.width ?? 60, options.height ?? 40, options.alpha).webp({ lossless: true }).toBuffer();
}

export async function makeTiff(options: { width?: number; height?: number; alpha?: boolean } = {}): Promise<Buffer> {
  return source(options.width ?? 60, options.height ?? 40, options.alpha).tiff({ compression: 'deflate' }).toBuffer();
}

export async function makeAvif(options: { width?: number; height?: number; alpha?: boolean } = {}): Promise<Buffer> {
  return source(options.width ?? 60, options.height ?? 40, options.alpha).avif({ effort: 0 }).toBuffer();
}

/** Three solid frames, red then green then blue. */
function frames(width: number, height: number): Sharp {
  const data = Buffer.alloc(width * height * 4 * 3);
  for (let f = 0; f < 3; f++) {
    for (let i = 0; i < width * height; i++) {
      const o = (f * width * height + i) * 4;
      data[o + f] = 255;
      data[o + 3] = 255;
    }
  }
  return sharp(data, { raw: { width, height: height * 3, channels: 4, pageHeight: height } });
}

export async function makeAnimatedGif(width = 30, height = 20): Promise<Buffer> {
  return frames(width, height).gif({ loop: 0, delay: [100, 100, 100] }).toBuffer();
}

export async function makeAnimatedWebp(width = 30, height = 20): Promise<Buffer> {
  return frames(width, height).webp({ loop: 0, delay: [100, 100, 100], lossless: true }).toBuffer();
}

/** The first `fraction` of an image's bytes. */
export function truncated(image: Buffer, fraction = 0.5): Buffer {
  return Buffer.from(image.subarray(0, Math.floor(image.length * fraction)));
}

/** A JPEG with noise, so it is large enough that truncation cuts into the scan data. */
export async function makeNoisyJpeg(width = 600, height = 400): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg()
    .toBuffer();
}

/** A JPEG with stray bytes before its scan: libjpeg warns "Corrupt JPEG data: 4 extraneous bytes", as many camera files do. */
export function withExtraneousBytes(jpeg: Buffer): Buffer {
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  return Buffer.concat([jpeg.subarray(0, sos), Buffer.from([1, 2, 3, 4]), jpeg.subarray(sos)]);
}

export const SVG_IMAGE =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>';

export const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** A 16x16 HEIC (HEVC in HEIF), made once with libheif's heif-enc: sharp's libheif cannot encode HEVC. */
export const HEIC_IMAGE = Buffer.from(
  // prettier-ignore
  'AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAa1tZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA' +
    'AA5waXRtAAAAAAACAAAAEGlkYXQAAAAAABAAEAAAADhpbG9jAQAAAERAAAIAAQAAAAAAAAHRAAEAAAAAAAAAKgACAAEAAAAAAAAA' +
    'AQAAAAAAAAAIAAAAOGlpbmYAAAAAAAIAAAAVaW5mZQIAAAEAAQAAaHZjMQAAAAAVaW5mZQIAAAAAAgAAZ3JpZAAAAADYaXBycAAA' +
    'ALZpcGNvAAAAdmh2Y0MBA3AAAAAAAAAAAAAe8AD8/fj4AAAPAyAAAQAYQAEMAf//A3AAAAMAkAAAAwAAAwAeugJAIQABACpCAQED' +
    'cAAAAwCQAAADAAADAB6gIIEFluqumubgQEDAgAAAAwCAAAADAIQiAAEABkQBwXPBiQAAABRpc3BlAAAAAAAAAEAAAABAAAAAFGlz' +
    'cGUAAAAAAAAAEAAAABAAAAAQcGl4aQAAAAADCAgIAAAAGmlwbWEAAAAAAAAAAgABAoECAAICA4QAAAAaaXJlZgAAAAAAAAAOZGlt' +
    'ZwACAAEAAQAAADJtZGF0AAAAJigBrxkhXkJA712lv/8uWI7Mnfr1t8pkoKaXBNeImQsDgYCNkZ04',
  'base64',
);

const bombs = new Map<number, Buffer>();

/**
 * A valid 1-bit greyscale PNG of side×side black pixels: 20000×20000 (400 million pixels)
 * compresses to about 50 KB, the classic decompression bomb.
 */
export function makeBomb(side = 20000): Buffer {
  const cached = bombs.get(side);
  if (cached) return cached;
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(data, zlib.crc32(type)), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = zlib.deflateSync(Buffer.alloc((1 + Math.ceil(side / 8)) * side), { level: 9 });
  const png = Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  bombs.set(side, png);
  return png;
}
