import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import { contentDisposition, fileStem, parseSizes, sanitizeFileName, thumbnailName } from './naming.js';

const limits = { maxSizes: 5, maxDimension: 2048 };

function badSizes(text: string, l = limits): AppError {
  try {
    parseSizes(text, l);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect([e.status, e.code]).toEqual([400, 'invalid_sizes']);
    return e;
  }
  throw new Error(`parseSizes accepted ${JSON.stringify(text)}`);
}

describe('parseSizes', () => {
  it('reads WxH lists', () => {
    expect(parseSizes('128x128,256x256', limits)).toEqual([
      { width: 128, height: 128 },
      { width: 256, height: 256 },
    ]);
  });

  it('accepts spaces, X, a single number and trailing commas', () => {
    expect(parseSizes(' 64X48 , 100 ,', limits)).toEqual([
      { width: 64, height: 48 },
      { width: 100, height: 100 },
    ]);
    expect(parseSizes('32x32 64x64', limits)).toHaveLength(2);
  });

  it.each([undefined, '', '   ', ','])('defaults to 128x128 for %j', (text) => {
    expect(parseSizes(text, limits)).toEqual([{ width: 128, height: 128 }]);
  });

  it('dedupes (128 and 128x128 are the same box)', () => {
    expect(parseSizes('128,128x128,128X128,64x64', limits)).toEqual([
      { width: 128, height: 128 },
      { width: 64, height: 64 },
    ]);
  });

  it('counts the limit after de-duplication', () => {
    expect(parseSizes('1,1,1,1,1,1,1,2', { maxSizes: 2, maxDimension: 10 })).toHaveLength(2);
  });

  it.each(['abc', '128x', 'x128', '128x128x128', '-5', '1.5x2', '0x0x', '12px', '1e3', '0x10', '0'])('refuses %j', (text) => {
    badSizes(text);
  });

  it('refuses zero', () => {
    expect(badSizes('0x128').message).toContain('at least 1');
  });

  it('refuses dimensions over the maximum, naming it', () => {
    expect(badSizes('4096x100').message).toContain('2048');
    expect(badSizes('99999999999').message).toMatch(/Invalid size/);
  });

  it('refuses more sizes than allowed', () => {
    expect(badSizes('1,2,3,4,5,6').message).toContain('at most 5');
  });

  it('keeps the message short for huge garbage', () => {
    expect(badSizes('y'.repeat(10_000)).message.length).toBeLessThan(200);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\win\\x.jpg', 'x.jpg'],
    ['/abs/path/to/a b.png', 'a b.png'],
    ['a\u0000b.jpg', 'ab.jpg'],
    ['line\nbreak\r.jpg', 'linebreak.jpg'],
    ['<script>.png', '_script_.png'],
    ['a:b|c?d*e"f.gif', 'a_b_c_d_e_f.gif'],
    ['...', 'image'],
    ['..', 'image'],
    ['.', 'image'],
    ['', 'image'],
    ['.hidden.jpg', 'hidden.jpg'],
    ['.png', 'image.png'],
    ['a..b..jpg', 'a.b.jpg'],
    ['trailing. . ', 'trailing'],
    ['IMG.JPG', 'IMG.jpg'],
    ['CON.jpg', '_CON.jpg'],
    ['nul', '_nul'],
    ['  spaced   out  .jpg', 'spaced out.jpg'],
    ['évènement.jpg', 'évènement.jpg'],
    ['照片.png', '照片.png'],
    ['фото.webp', 'фото.webp'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('normalises to NFC', () => {
    const decomposed = 'e\u0301te\u0301.jpg';
    expect(sanitizeFileName(decomposed)).toBe('\u00e9t\u00e9.jpg');
  });

  it('removes bidi overrides that disguise the extension', () => {
    // "invoice‮gpj.exe" displays as "invoiceexe.jpg".
    const out = sanitizeFileName('invoice\u202egpj.exe');
    expect(out).toBe('invoicegpj.exe');
    expect(sanitizeFileName('a\u200bb\u2066c\ufeff.png')).toBe('abc.png');
  });

  it('drops lone surrogates (which would break percent-encoding)', () => {
    expect(sanitizeFileName('a\ud800b.jpg')).toBe('ab.jpg');
  });

  it('caps 300-character names near 100 characters, keeping the extension', () => {
    const out = sanitizeFileName(`${'a'.repeat(300)}.jpeg`);
    expect(out.endsWith('.jpeg')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out.length).toBeGreaterThan(90);
  });

  it('caps multi-byte names by bytes too and never splits a character', () => {
    const out = sanitizeFileName(`${'照'.repeat(300)}.png`);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(200);
    expect(out).toMatch(/^照+\.png$/u);
    const emoji = sanitizeFileName(`${'👍🏽'.repeat(80)}.png`);
    expect(emoji).toMatch(/^(👍🏽)+\.png$/u);
  });

  it('uses the fallback when nothing is left', () => {
    expect(sanitizeFileName('\u0000\u0001', 'upload')).toBe('upload');
    expect(sanitizeFileName('////', 'upload')).toBe('upload');
  });

  it('is idempotent', () => {
    for (const name of ['../x/<y>.JPG', `${'b'.repeat(300)}.png`, '.. ..', 'a\u202eb.gif']) {
      const once = sanitizeFileName(name);
      expect(sanitizeFileName(once)).toBe(once);
    }
  });
});

describe('fileStem and thumbnailName', () => {
  it('strips the extension of the sanitized name', () => {
    expect(fileStem('../holiday.photo.JPG')).toBe('holiday.photo');
    expect(fileStem('README')).toBe('README');
    expect(fileStem('.jpg')).toBe('image');
  });

  it('builds <stem>_<W>x<H>.<ext>', () => {
    expect(thumbnailName('rob', { width: 128, height: 128 }, 'jpg')).toBe('rob_128x128.jpg');
    expect(thumbnailName('holiday.photo', { width: 256, height: 100 }, 'webp')).toBe('holiday.photo_256x100.webp');
  });

  it('never lets a stem smuggle a path or a double extension', () => {
    expect(thumbnailName('../../x', { width: 1, height: 2 }, 'png')).toBe('x_1x2.png');
    expect(thumbnailName('', { width: 1, height: 2 }, '.PNG')).toBe('image_1x2.png');
  });
});

describe('contentDisposition', () => {
  it('gives ASCII names as they are', () => {
    expect(contentDisposition('thumbnails.zip')).toBe(`attachment; filename="thumbnails.zip"; filename*=UTF-8''thumbnails.zip`);
  });

  it('gives an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('été 照片.zip')).toBe(
      `attachment; filename="ete __.zip"; filename*=UTF-8''%C3%A9t%C3%A9%20%E7%85%A7%E7%89%87.zip`,
    );
  });

  it('cannot be used to inject headers or break the quoting', () => {
    const header = contentDisposition('a"b\r\nSet-Cookie: x=1;\\.zip');
    expect(header).not.toMatch(/[\r\n]/);
    const fallback = /filename="([^"]*)"/.exec(header)![1]!;
    expect(fallback).not.toMatch(/["\\]/);
    expect(header.split('filename*=')[1]).toMatch(/^UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
  });

  it("escapes the characters encodeURIComponent leaves but RFC 5987 forbids", () => {
    expect(contentDisposition("it's (1).zip")).toContain(`filename*=UTF-8''it%27s%20%281%29.zip`);
  });
});
