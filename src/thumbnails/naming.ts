// Thumbnail sizes from user text, and file names that are safe inside a zip, on disk and in headers.
import { thumbnailError } from './errors.js';
import { FORMAT_KINDS, INPUT_FORMATS } from './options.js';

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
      throw thumbnailError.invalid_sizes(`Invalid size "${token.slice(0, 40)}": use WIDTHxHEIGHT (e.g. 128x128) or one number for a square, separated by commas.`);
    }
    const width = Number(m[1]);
    const height = m[2] === undefined ? width : Number(m[2]);
    if (width < 1 || height < 1) throw thumbnailError.invalid_sizes(`Invalid size "${token}": width and height must be at least 1.`);
    if (width > limits.maxDimension || height > limits.maxDimension) {
      throw thumbnailError.invalid_sizes(`Invalid size "${token}": width and height must be at most ${limits.maxDimension}.`);
    }
    const key = `${width}x${height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sizes.push({ width, height });
  }
  if (sizes.length > limits.maxSizes) {
    throw thumbnailError.invalid_sizes(`Too many sizes (${sizes.length}): at most ${limits.maxSizes} per request.`);
  }
  return sizes;
}

const MAX_CHARS = 100;
// Filesystems cap a name at 255 bytes; leave room for the "_<W>x<H>" suffix and "-N" de-duplication.
const MAX_BYTES = 200;
// Controls, format chars (bidi overrides and isolates, zero-width, tags), lone surrogates, private use,
// unassigned, line/paragraph separators, U+FFFD (what undecodable bytes became) and the blank fillers
// that render as nothing (Hangul fillers, braille blank).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\uFFFD\u115F\u1160\u3164\uFFA0\u2800]/gu;
// Windows-reserved characters, ';' (IIS reads "shell.asp;.jpg" as ASP), '`', and look-alikes of '/' and '\'.
const RESERVED = /[<>:"|?*;`\u2044\u2215\u29F8\u29F9\uFF0F\uFF3C\u2216\uFE68]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const EXT = /^[\p{L}\p{N}]{1,10}$/u;

/** The only extensions a name we hand out may end in: the formats we detect or write, and the zip. */
export const SAFE_EXTENSIONS: ReadonlySet<string> = new Set([...INPUT_FORMATS.map((f) => FORMAT_KINDS[f].ext), 'zip']);

/**
 * Extensions that a server, a desktop or a browser may execute or render as markup. A client's name
 * never keeps them: trailing ones are dropped with the client's extension ("photo.jpg.html" → "photo"),
 * inner ones lose their dot ("shell.php.x" → "shell_php.x"), since Apache's mod_mime and others act on
 * any extension in the name, not only the last.
 */
const DANGEROUS = new Set(
  (
    'php php2 php3 php4 php5 php6 php7 php8 phps pht phtm phtml phar inc asp aspx asa asax ascx ashx asmx axd cer cdx ' +
    'jsp jspx jsw jsv jspf cfm cfml cfc shtml shtm stm ssi html htm xhtml xht mht mhtml hta htaccess htpasswd svg svgz ' +
    'xml xsl xslt xsd rss atom pl pm cgi fcgi py pyc pyo pyw pyz rb erb sh bash zsh ksh csh tcsh fish command tool ' +
    'exe com bat cmd msi msp mst msc scr pif cpl dll ocx sys drv so dylib bin elf run app appimage deb rpm apk ipa ' +
    'vb vbs vbe js jse mjs cjs ts wsf wsh wsc ws ps1 psm1 psd1 ps1xml psc1 pssc lnk url desktop reg inf scf ' +
    'application appref-ms gadget jar jnlp class war ear swf xap iso img vhd vhdx chm hlp docm dotm xlsm xltm xlam ' +
    'pptm potm ppam sldm lua tcl awk sed'
  ).split(' '),
);
/** Image extensions a client's name often ends in, dropped with it ("IMG_1.JPG.jpeg" → "IMG_1"). */
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'jfif', 'pjpeg', 'png', 'apng', 'gif', 'webp', 'tif', 'tiff', 'avif', 'heic', 'heif', 'bmp']);

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** Character-level cleaning: NFC, no invisible or reserved characters, single spaces, no "..". */
function cleanChars(text: string): string {
  return text
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .replace(RESERVED, '_')
    .replace(/\s+/gu, ' ')
    .replace(/\.{2,}/g, '.')
    .trim();
}

/** No leading '-' (read as an option by shell tools), '.', '~', '+' or space; no trailing dot or space (Windows drops them). */
const trimEnds = (text: string) => text.replace(/^[\s.\-~+]+/u, '').replace(/[\s.]+$/u, '');

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
  return out;
}

/** The last path segment of a client's name (they send "C:\\x\\a.jpg" and "../../a.jpg"). */
const lastSegment = (name: string) => name.split(/[/\\]/).pop() ?? '';

/** The cleaned last segment split on dots, each part trimmed ("shell.php .jpg" must not hide its "php"). */
const splitDots = (text: string) => cleanChars(lastSegment(text)).split('.').map((s) => s.trim());

/**
 * A stem safe inside a zip, on disk and in Content-Disposition, from any text: valid NFC UTF-8
 * without control, bidi, zero-width or reserved characters, path separators or "..", not starting
 * with '-', '.', '~' or '+', no executable or markup extension inside it, not a Windows device name,
 * at most ~100 characters / 200 bytes; `fallback` (then "image") when nothing is left.
 * Idempotent, and it keeps dots it finds safe (`holiday.photo` stays).
 */
export function cleanStem(text: string, fallback = 'image'): string {
  const segments = splitDots(text);
  let out = segments[0] ?? '';
  for (const seg of segments.slice(1)) out += (DANGEROUS.has(seg.toLowerCase()) ? '_' : '.') + seg;
  out = trimEnds(truncate(trimEnds(out), MAX_CHARS, MAX_BYTES));
  if (out === '') return fallback === 'image' ? 'image' : cleanStem(fallback);
  const device = out.split('.')[0]!;
  return WINDOWS_DEVICE.test(device) ? `_${out}` : out;
}

/**
 * The stem of a client's file name: its extension (whatever it claims) is dropped, and so are
 * image, executable and markup extensions before it ("photo.jpg.html" → "photo", "shell.php" → "shell").
 */
export function safeStem(fileName: string, fallback = 'image'): string {
  const segments = splitDots(fileName);
  if (segments.length > 1 && EXT.test(segments.at(-1)!)) segments.pop();
  while (segments.length > 1) {
    const last = segments.at(-1)!.toLowerCase();
    if (!IMAGE_EXTENSIONS.has(last) && !DANGEROUS.has(last)) break;
    segments.pop();
  }
  return cleanStem(segments.join('.'), fallback);
}

function checkedExt(ext: string): string {
  const e = ext.replace(/^\./, '').toLowerCase();
  if (!SAFE_EXTENSIONS.has(e)) throw new Error(`"${ext}" is not an extension seler hands out`);
  return e;
}

/** `<safe stem>.<ext>`: `ext` is the detected format's (jpg png gif webp tiff avif) or zip, never the client's. */
export function safeFileName(fileName: string, ext: string, fallback = 'image'): string {
  return `${safeStem(fileName, fallback)}.${checkedExt(ext)}`;
}

/** A client's name cleaned for an error message (its own extension kept, so the user recognises it). */
export function displayName(fileName: string): string {
  return truncate(trimEnds(cleanChars(lastSegment(fileName))), MAX_CHARS, MAX_BYTES) || 'image';
}

/** `<stem>_<W>x<H>.<ext>`, W and H being the requested box. */
export function thumbnailName(stem: string, size: Size, ext: string): string {
  return `${cleanStem(stem)}_${size.width}x${size.height}.${checkedExt(ext)}`;
}

/**
 * RFC 6266: an ASCII fallback for old clients and the exact UTF-8 name in `filename*`. The name is
 * made safe again here: its extension is kept only when it is one seler hands out, else dropped.
 */
export function contentDisposition(name: string, disposition: 'attachment' | 'inline' = 'attachment'): string {
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
  const clean = SAFE_EXTENSIONS.has(ext) ? `${cleanStem(name.slice(0, dot), 'download')}.${ext}` : cleanStem(safeStem(name, 'download'), 'download');
  const ascii = trimEnds(
    clean
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^\x20-\x7e]/g, '_')
      .replace(/["\\%]/g, '_'),
  ) || 'download';
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * The zip's download name: the client's `given` name when it leaves anything after cleaning (path
 * separators become "_", an extension it claims is dropped), else "<first original's stem>.zip" for
 * one file and "<first original's stem> and N more.zip" for several.
 */
export function archiveNameFor(originals: string[], given?: string): string {
  const asked = given?.replace(/[/\\]/g, '_') ?? '';
  if (cleanChars(asked) !== '' && safeStem(asked, '') !== '') return safeFileName(asked, 'zip', 'thumbnails');
  const stem = safeStem(originals[0] ?? '', 'thumbnails');
  if (originals.length <= 1) return `${stem}.zip`;
  // Shortened first so the count is never cut off by the length limit.
  const short = truncate(stem, MAX_CHARS - 20, MAX_BYTES - 20);
  return `${cleanStem(`${short} and ${originals.length - 1} more`, 'thumbnails')}.zip`;
}
