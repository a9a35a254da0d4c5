// Thumbnail sizes from user text, and file names that are safe inside a zip, on disk and in headers.
import { badRequest } from '../platform/errors.js';

export interface Size {
  width: number;
  height: number;
}

const DEFAULT_SIZES: readonly Size[] = [{ width: 128, height: 128 }];

/** "128x128,256x256" (spaces, 'X', ';' and a single number meaning a square are accepted). */
export function parseSizes(text: string | undefined, limits: { maxSizes: number; maxDimension: number }): Size[] {
  const tokens = (text ?? '').split(/[\s,;]+/).filter((t) => t !== '');
  if (tokens.length === 0) return DEFAULT_SIZES.map((s) => ({ ...s }));
  const sizes: Size[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    const m = /^(\d{1,9})(?:[xX×](\d{1,9}))?$/.exec(token);
    if (!m) {
      throw badRequest('invalid_sizes', `Invalid size "${token.slice(0, 40)}": use WIDTHxHEIGHT (e.g. 128x128) or one number for a square, separated by commas.`);
    }
    const width = Number(m[1]);
    const height = m[2] === undefined ? width : Number(m[2]);
    if (width < 1 || height < 1) throw badRequest('invalid_sizes', `Invalid size "${token}": width and height must be at least 1.`);
    if (width > limits.maxDimension || height > limits.maxDimension) {
      throw badRequest('invalid_sizes', `Invalid size "${token}": width and height must be at most ${limits.maxDimension}.`);
    }
    const key = `${width}x${height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sizes.push({ width, height });
  }
  if (sizes.length > limits.maxSizes) {
    throw badRequest('invalid_sizes', `Too many sizes (${sizes.length}): at most ${limits.maxSizes} per request.`);
  }
  return sizes;
}

const MAX_CHARS = 100;
// Filesystems cap a name at 255 bytes; leave room for the "_<W>x<H>" suffix and "-N" de-duplication.
const MAX_BYTES = 200;
// Controls, format chars (bidi overrides, zero-width), lone surrogates, private use, unassigned, line/para separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu;
const RESERVED = /[<>:"|?*]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const EXT = /^[\p{L}\p{N}]{1,10}$/u;

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** Character-level cleaning; leading and trailing dots are left for the caller (they decide the extension). */
function cleanChars(text: string): string {
  return text
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .replace(RESERVED, '_')
    .replace(/\s+/gu, ' ')
    .replace(/\.{2,}/g, '.')
    .trim();
}

const trimDots = (text: string) => text.replace(/^[\s.]+|[\s.]+$/gu, '');
const cleanPart = (text: string) => trimDots(cleanChars(text));

/** Cuts on grapheme boundaries so a combining mark or an emoji sequence is never split. */
function truncate(text: string, maxChars: number, maxBytes: number): string {
  let out = '';
  let chars = 0;
  let bytes = 0;
  for (const { segment } of segmenter.segment(text)) {
    const c = [...segment].length;
    const b = Buffer.byteLength(segment);
    if (chars + c > maxChars || bytes + b > maxBytes) break;
    out += segment;
    chars += c;
    bytes += b;
  }
  return out.replace(/[\s.]+$/u, '');
}

function splitName(cleaned: string): { base: string; ext: string } {
  const dot = cleaned.lastIndexOf('.');
  if (dot < 0) return { base: cleaned, ext: '' };
  const ext = cleaned.slice(dot + 1);
  if (!EXT.test(ext)) return { base: trimDots(cleaned), ext: '' };
  return { base: trimDots(cleaned.slice(0, dot)), ext };
}

function safeBase(base: string, fallback: string, maxChars = MAX_CHARS, maxBytes = MAX_BYTES): string {
  let out = truncate(base, maxChars, maxBytes);
  if (out === '') out = truncate(cleanPart(fallback), maxChars, maxBytes) || 'image';
  return WINDOWS_DEVICE.test(out) ? `_${out}` : out;
}

/**
 * A name safe inside a zip, on disk and in Content-Disposition: no directories, control or bidi
 * characters, reserved characters, '..' or leading dots; NFC; at most ~100 characters with the
 * extension kept (lower-cased); never empty (`fallback` stands in for an empty stem: ".png" → "image.png").
 */
export function sanitizeFileName(name: string, fallback = 'image'): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const { base, ext } = splitName(cleanChars(last));
  if (ext === '') return safeBase(base, fallback);
  const e = ext.toLowerCase();
  return `${safeBase(base, fallback, MAX_CHARS - e.length - 1, MAX_BYTES - Buffer.byteLength(e) - 1)}.${e}`;
}

/** The sanitized name without its extension. */
export function fileStem(name: string): string {
  const clean = sanitizeFileName(name);
  return splitName(clean).base || clean;
}

/** `<stem>_<W>x<H>.<ext>`, W and H being the requested box. */
export function thumbnailName(stem: string, size: Size, ext: string): string {
  const base = safeBase(cleanPart(stem.split(/[/\\]/).pop() ?? ''), 'image');
  const e = cleanPart(ext).toLowerCase().replace(/[^a-z0-9]/g, '') || 'bin';
  return `${base}_${size.width}x${size.height}.${e}`;
}

/** RFC 6266: an ASCII fallback for old clients and the exact UTF-8 name in `filename*`. */
export function contentDisposition(name: string): string {
  const clean = sanitizeFileName(name);
  const ascii =
    clean
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^\x20-\x7e]/g, '_')
      .replace(/["\\%]/g, '_') || 'download';
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
