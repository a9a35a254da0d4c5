// What the Thumbnailer takes and offers, declared once: the formats it reads and writes, the fits,
// the crop positions, the quality range, the default limits, and how to tell an image from its first
// bytes. The server (routes, uploads, the task, the config) and the page (web/src, built by Vite)
// both read this module, so it imports nothing at run time and touches no Node API.

/** The limits an upload is checked against (SELER_MAX_* settings), as GET /api/v1/config reports them. */
export interface UploadLimits {
  maxUploadBytes: number;
  maxFiles: number;
  maxPixels: number;
  maxSizes: number;
  maxDimension: number;
}

/** The formats an upload may be in, as detected from its bytes (never its name or Content-Type). */
export const INPUT_FORMATS = ['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Extension, MIME type and the name shown to people, per format read or written. */
export const FORMAT_KINDS: Record<InputFormat, { ext: string; mime: string; label: string }> = {
  jpeg: { ext: 'jpg', mime: 'image/jpeg', label: 'JPEG' },
  png: { ext: 'png', mime: 'image/png', label: 'PNG' },
  gif: { ext: 'gif', mime: 'image/gif', label: 'GIF' },
  webp: { ext: 'webp', mime: 'image/webp', label: 'WebP' },
  tiff: { ext: 'tiff', mime: 'image/tiff', label: 'TIFF' },
  avif: { ext: 'avif', mime: 'image/avif', label: 'AVIF' },
};

/** The MIME types of the formats read, as GET /api/v1/config lists them. */
export const ACCEPTED_TYPES: readonly string[] = INPUT_FORMATS.map((f) => FORMAT_KINDS[f].mime);

/** `original` keeps the input's format (TIFF, which browsers cannot show, becomes PNG or JPEG). */
export const OUTPUT_FORMATS = ['original', 'jpeg', 'png', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_FORMAT: OutputFormat = 'original';

/** inside: the whole image, at most W×H; cover: exactly W×H, cropped; contain: exactly W×H, padded. */
export const FITS = ['inside', 'cover', 'contain'] as const;
export type Fit = (typeof FITS)[number];
export const DEFAULT_FIT: Fit = 'inside';

/**
 * Where `cover` crops: a smart crop (`attention`: the most salient region, skin and saturated
 * colour; `entropy`: the busiest region), or a gravity (the side or corner kept), as sharp names them.
 */
export const SMART_CROPS = ['attention', 'entropy'] as const;
export const GRAVITIES = ['centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest'] as const;
export const POSITIONS = [...SMART_CROPS, ...GRAVITIES] as const;
export type Position = (typeof POSITIONS)[number];
export const DEFAULT_POSITION: Position = 'centre';

/** The lossy encoders' quality (1 worst, 100 best); PNG and GIF are lossless here and ignore it. */
export const QUALITY_RANGE = { min: 1, max: 100 } as const;
export const LOSSY_FORMATS = ['jpeg', 'webp', 'avif'] as const;
export type LossyFormat = (typeof LOSSY_FORMATS)[number];
// Chosen by measurement on real photos: each is where a smaller file starts to show artefacts at thumbnail sizes.
export const DEFAULT_QUALITY: Record<LossyFormat, number> = { jpeg: 82, webp: 80, avif: 50 };

/** The limits when no SELER_MAX_* setting says otherwise (the server's config and the page's fallback). */
export const DEFAULT_LIMITS: UploadLimits = {
  maxUploadBytes: 50 * 1024 * 1024,
  maxFiles: 20,
  maxPixels: 100_000_000,
  maxSizes: 8,
  maxDimension: 4096,
};

/** Memory a worker process's decodes that hold a whole image may take together (SELER_DECODE_MEMORY_MB). */
export const DEFAULT_DECODE_MEMORY_BYTES = 100 * 1024 * 1024;

/** How many leading bytes `sniffImage` needs. */
export const SNIFF_BYTES = 64;

/**
 * What the first bytes claim to be: one of the formats read, `heic` (a HEIF container that is not
 * AVIF, refused), or undefined (not an image seler reads). A claim only: the server decodes anyway.
 */
export function sniffImage(head: Uint8Array): InputFormat | 'heic' | undefined {
  const text = (offset: number, length: number) => String.fromCharCode(...head.subarray(offset, offset + length));
  const at = (offset: number, s: string) => text(offset, s.length) === s;
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (at(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'gif';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'webp';
  if (at(0, 'II*\0') || at(0, 'MM\0*')) return 'tiff';
  if (head.length >= 12 && at(4, 'ftyp')) {
    const boxSize = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    const brands = text(8, Math.min(boxSize, head.length) - 8);
    if (/avi[fs]/.test(brands)) return 'avif';
    if (/hei[cx]|hev[cx]|mif1|msf1/.test(brands)) return 'heic';
  }
  return undefined;
}

/** "JPEG, PNG, GIF, WebP, TIFF or AVIF". */
export function describeFormats(formats: readonly InputFormat[] = INPUT_FORMATS): string {
  const names = formats.map((f) => FORMAT_KINDS[f].label);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The longest name a client may give its zip (characters, before the ".zip"). */
export const MAX_ARCHIVE_NAME = 100;
