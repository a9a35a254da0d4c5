// The image pipeline: identify an upload from its bytes, then make every thumbnail from one decode.
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { errorMessage } from '../platform/errors.js';
import { thumbnailError } from './errors.js';
import { thumbnailName, type Size } from './naming.js';
import {
  DEFAULT_POSITION,
  DEFAULT_QUALITY,
  FORMAT_KINDS,
  INPUT_FORMATS,
  SNIFF_BYTES,
  sniffImage,
  type Fit,
  type InputFormat,
  type OutputFormat,
  type Position,
} from './options.js';
import type { Slots } from './slots.js';

export type { Fit, InputFormat, OutputFormat, Position };
export type ThumbnailFormat = InputFormat;

/** How a thumbnail is cut and encoded, beyond its size: quality (lossy formats) and where `cover` crops. */
export interface EncodeOptions {
  /** 1–100; undefined: the format's default (DEFAULT_QUALITY). */
  quality?: number;
  /** Only `cover` crops; undefined: centre. */
  position?: Position;
}

export interface ImageInfo {
  format: InputFormat;
  width: number;
  height: number;
  pages: number;
  hasAlpha: boolean;
  orientation?: number;
  /** Set when decoding holds the whole image, not a strip: progressive JPEG, interlaced PNG/GIF. */
  wholeImageBytes?: number;
  /** Canonical extension: jpg png gif webp tiff avif. */
  ext: string;
  mime: string;
}

export interface Thumbnail {
  name: string;
  width: number;
  height: number;
  format: ThumbnailFormat;
  ext: string;
  bytes: number;
  data: Buffer;
}

const ACCEPTED = `accepted: ${INPUT_FORMATS.map((f) => FORMAT_KINDS[f].label).join(', ')}`;
const kindOf = (format: ThumbnailFormat) => ({ ext: FORMAT_KINDS[format].ext, mime: FORMAT_KINDS[format].mime });
// The operation cache keeps decoded inputs alive (a 16 MB JPEG peaked at 322 MB RSS with it, 188 MB
// without) and never hits: every upload is different.
sharp.cache(false);

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** What the first bytes claim to be; used only to tell "corrupt image" (422) from "not an image we take" (415). */
export const sniffFormat = (head: Uint8Array) => sniffImage(head);

async function readHead(input: Buffer | string): Promise<Buffer> {
  if (typeof input !== 'string') return input.subarray(0, SNIFF_BYTES);
  const file = await open(input, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** libvips errors carry a chain of lines; the first names the cause. */
function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0]!.trim().slice(0, 200);
}

function acceptedFormat(meta: Metadata): InputFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'gif':
    case 'webp':
    case 'tiff':
      return meta.format;
    case 'heif':
      // The HEIF container holds AVIF (AV1) and HEIC (HEVC); only AV1 is accepted.
      return meta.compression === 'av1' ? 'avif' : undefined;
    default:
      return undefined;
  }
}

function describeRefused(meta: Metadata): string {
  if (meta.format === 'heif') return `HEIC/HEIF (${meta.compression ?? 'unknown'}-compressed) images are not supported`;
  return `${String(meta.format).toUpperCase()} files are not supported`;
}

/**
 * Identifies an image from its bytes (never its name or Content-Type) by reading the header only,
 * so a decompression bomb is refused before any pixel is decoded.
 */
export async function probeImage(input: Buffer | string, limits: { maxPixels: number }): Promise<ImageInfo> {
  if (typeof input !== 'string' && input.length === 0) {
    throw thumbnailError.unsupported_format(`The file is empty; ${ACCEPTED}.`);
  }
  let meta: Metadata;
  try {
    // Header only: our own pixel check below gives the 413 (sharp's would be an error like any other).
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    if (/^Input file is missing/.test(errorMessage(err))) throw err;
    const claimed = sniffFormat(await readHead(input));
    if (claimed !== undefined && claimed !== 'heic') {
      throw thumbnailError.undecodable_image(`The ${claimed.toUpperCase()} image is corrupt and cannot be read (${firstLine(err)}).`);
    }
    const what = claimed === 'heic' ? 'HEIC/HEIF images are not supported' : 'The file is not an image in a supported format';
    throw thumbnailError.unsupported_format(`${what}; ${ACCEPTED}.`);
  }
  const format = acceptedFormat(meta);
  if (format === undefined) throw thumbnailError.unsupported_format(`${describeRefused(meta)}; ${ACCEPTED}.`);
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!width || !height) throw thumbnailError.undecodable_image(`The ${format.toUpperCase()} image has no dimensions.`);
  if (width * height > limits.maxPixels) {
    throw thumbnailError.too_many_pixels(
      `The image is ${width}x${height} = ${(width * height).toLocaleString('en')} pixels; the limit is ${limits.maxPixels.toLocaleString('en')} pixels.`,
    );
  }
  const info: ImageInfo = { format, width, height, pages: meta.pages ?? 1, hasAlpha: meta.hasAlpha ?? false, ...kindOf(format) };
  if (meta.orientation !== undefined) info.orientation = meta.orientation;
  const whole = wholeImageBytes(meta, width, height);
  if (whole > 0) info.wholeImageBytes = whole;
  return info;
}

/**
 * What a decode keeps for the whole image: a progressive JPEG's DCT coefficients (2 bytes per
 * coefficient and plane), an interlaced PNG's or GIF's pixels. Other decodes stream strips (0 here).
 * Three full planes even for subsampled chroma: a 4:2:0 progressive photo of 5640×3172 took 85 MB,
 * not the 54 MB its coefficients alone would need.
 */
function wholeImageBytes(meta: Metadata, width: number, height: number): number {
  if (meta.format === 'jpeg' && meta.isProgressive) return width * height * ((meta.channels ?? 3) < 3 ? 1 : 3) * 2;
  if ((meta.format === 'png' || meta.format === 'gif') && meta.isProgressive) return width * height * (meta.channels ?? 4);
  return 0;
}

/** 'original' keeps the input format, except TIFF (which browsers cannot show) becomes PNG with alpha, JPEG without. */
export function outputFormatFor(format: OutputFormat, info: ImageInfo): Exclude<ThumbnailFormat, 'tiff'> {
  if (format !== 'original') return format;
  if (info.format === 'tiff') return info.hasAlpha ? 'png' : 'jpeg';
  return info.format;
}

/** How much of the (oriented) original one size needs: inside never enlarges; cover and contain fill the box. */
function scaleFor(fit: Fit, size: Size, width: number, height: number): number {
  const sx = size.width / width;
  const sy = size.height / height;
  if (fit === 'cover') return Math.max(sx, sy);
  if (fit === 'contain') return Math.min(sx, sy);
  return Math.min(sx, sy, 1);
}

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * The one decode: orient, convert to 8-bit sRGB and shrink (on load for JPEG/WebP) to the smallest
 * raw image every size can be cut from.
 */
async function decode(input: Buffer | string, target: Size, original: Size, maxPixels: number): Promise<Decoded> {
  try {
    // failOn 'error' refuses truncated and corrupt data but tolerates the warnings common in camera JPEGs.
    let pipeline = sharp(input, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true, autoOrient: true });
    if (target.width !== original.width || target.height !== original.height) {
      pipeline = pipeline.resize(target.width, target.height, { fit: 'fill' });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    if (/pixel limit/i.test(errorMessage(err))) {
      throw thumbnailError.too_many_pixels(`The image has more than ${maxPixels.toLocaleString('en')} pixels.`);
    }
    throw thumbnailError.undecodable_image(`The image is truncated or corrupt and cannot be decoded (${firstLine(err)}).`);
  }
}

function orientedSize(width: number, height: number, orientation: number | undefined): [number, number] {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? [height, width] : [width, height];
}

// Encoder settings chosen by measurement on real photos (128/512 px thumbnails, CPU per image):
// mozjpeg q82 took 6/44 ms against 1.5/4 ms for libjpeg-turbo q82 for ~15% fewer bytes; AVIF effort 2
// took 15/165 ms against 4/24 ms at effort 0 for ~9% fewer bytes; WebP effort 2 halves effort 4's time
// for +3%; GIF's default effort 7 took 2 s at 512 px against 0.3 s at effort 3 for +6%.
function encode(pipeline: Sharp, format: Exclude<ThumbnailFormat, 'tiff'>, quality: number | undefined): Sharp {
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality: quality ?? DEFAULT_QUALITY.jpeg });
    case 'png':
      return pipeline.png({ compressionLevel: 6 });
    case 'webp':
      return pipeline.webp({ quality: quality ?? DEFAULT_QUALITY.webp, effort: 2 });
    case 'avif':
      return pipeline.avif({ quality: quality ?? DEFAULT_QUALITY.avif, effort: 0 });
    case 'gif':
      return pipeline.gif({ effort: 3 });
  }
}

async function resizeOne(
  decoded: Decoded,
  size: Size,
  fit: Fit,
  format: Exclude<ThumbnailFormat, 'tiff'>,
  original: Size,
  encoding: EncodeOptions,
): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, width, height, channels } = decoded;
  let pipeline = sharp(data, { raw: { width, height, channels } });
  const flatten = format === 'jpeg' && (channels === 2 || channels === 4);
  if (flatten) pipeline = pipeline.flatten({ background: WHITE });
  if (fit === 'inside') {
    // Sized from the original, not the intermediate, so aspect errors never exceed a pixel.
    const s = scaleFor('inside', size, original.width, original.height);
    const w = Math.min(size.width, Math.max(1, Math.round(original.width * s)));
    const h = Math.min(size.height, Math.max(1, Math.round(original.height * s)));
    if (w !== width || h !== height) pipeline = pipeline.resize(w, h, { fit: 'fill' });
  } else {
    const background = format === 'jpeg' ? WHITE : TRANSPARENT;
    // Only cover crops; contain always centres its padding.
    const position = fit === 'cover' ? (encoding.position ?? DEFAULT_POSITION) : DEFAULT_POSITION;
    pipeline = pipeline.resize(size.width, size.height, { fit, position, background });
  }
  const out = await encode(pipeline, format, encoding.quality).toBuffer({ resolveWithObject: true });
  return { data: out.data, width: out.info.width, height: out.info.height };
}

/**
 * Makes one thumbnail per size from a single decode (of a file, read by libvips, or a buffer). Thumbnails carry no metadata (EXIF, GPS, ICC)
 * and are 8-bit sRGB; animations give their first frame. The result lists sizes in request order;
 * `onProgress` runs as each one finishes (done counts 1..total in completion order).
 */
export async function makeThumbnails(
  input: Buffer | string,
  options: { sizes: Size[]; format: OutputFormat; fit: Fit; stem: string; maxPixels: number; decodes: Slots; info?: ImageInfo } & EncodeOptions,
  onProgress?: (done: number, total: number, thumb: Thumbnail) => void,
): Promise<{ info: ImageInfo; thumbnails: Thumbnail[] }> {
  // A file or buffer already probed is not probed again.
  const info = options.info ?? (await probeImage(input, { maxPixels: options.maxPixels }));
  const [ow, oh] = orientedSize(info.width, info.height, info.orientation);
  if (options.sizes.length === 0) return { info, thumbnails: [] };
  const format = outputFormatFor(options.format, info);
  const scale = Math.min(1, Math.max(...options.sizes.map((s) => scaleFor(options.fit, s, ow, oh))));
  const original = { width: ow, height: oh };
  const target = { width: Math.max(1, Math.round(ow * scale)), height: Math.max(1, Math.round(oh * scale)) };
  const decoded = await options.decodes.run(() => decode(input, target, original, options.maxPixels), info.wholeImageBytes ?? 0);
  // Sizes encode in parallel (sharp runs each on a libuv thread); progress counts completions.
  let done = 0;
  const thumbnails = await Promise.all(
    options.sizes.map(async (size) => {
      const out = await resizeOne(decoded, size, options.fit, format, original, { quality: options.quality, position: options.position });
      const { ext } = kindOf(format);
      const thumb: Thumbnail = { name: thumbnailName(options.stem, size, ext), format, ext, bytes: out.data.length, ...out };
      onProgress?.(++done, options.sizes.length, thumb);
      return thumb;
    }),
  );
  return { info, thumbnails };
}
