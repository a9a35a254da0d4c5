import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import { archiveNameFor, cleanStem, contentDisposition, displayName, parseSizes, safeFileName, safeStem, thumbnailName } from './naming.js';

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

describe('safeFileName: <safe stem>.<detected ext>', () => {
  it.each([
    ['photo.jpg', 'jpg', 'photo.jpg'],
    ['IMG.JPG', 'jpg', 'IMG.jpg'],
    ['photo.png', 'jpg', 'photo.jpg'], // the bytes were a JPEG: the client's extension never survives
    ['README', 'png', 'README.png'],
    ['holiday.photo.JPG', 'jpg', 'holiday.photo.jpg'],
    ['IMG_1.JPG.jpeg', 'jpg', 'IMG_1.jpg'],
    ['2024.01.05 beach.jpg', 'jpg', '2024.01.05 beach.jpg'],
    ['../../etc/passwd', 'png', 'passwd.png'],
    ['C:\\win\\x.jpg', 'jpg', 'x.jpg'],
    ['/abs/path/to/a b.png', 'png', 'a b.png'],
    ['a\u0000b.jpg', 'jpg', 'ab.jpg'],
    ['line\nbreak\r.jpg', 'jpg', 'linebreak.jpg'],
    ['<script>.png', 'png', '_script_.png'],
    ['a:b|c?d*e"f.gif', 'gif', 'a_b_c_d_e_f.gif'],
    ['...', 'jpg', 'image.jpg'],
    ['..', 'jpg', 'image.jpg'],
    ['.', 'jpg', 'image.jpg'],
    ['', 'webp', 'image.webp'],
    ['.hidden.jpg', 'jpg', 'hidden.jpg'],
    ['.png', 'png', 'image.png'],
    ['a..b..jpg', 'jpg', 'a.b.jpg'],
    ['trailing. . ', 'jpg', 'trailing.jpg'],
    ['CON.jpg', 'jpg', '_CON.jpg'],
    ['nul', 'png', '_nul.png'],
    ['com1.backup.jpg', 'jpg', '_com1.backup.jpg'],
    ['  spaced   out  .jpg', 'jpg', 'spaced out.jpg'],
    ['évènement.jpg', 'jpg', 'évènement.jpg'],
    ['照片.png', 'png', '照片.png'],
    ['фото.webp', 'webp', 'фото.webp'],
  ])('%j as %s → %j', (input, ext, expected) => {
    expect(safeFileName(input, ext)).toBe(expected);
  });

  it.each([
    ['shell.php', 'jpg', 'shell.jpg'],
    ['shell.PHP', 'png', 'shell.png'],
    ['photo.jpg.html', 'jpg', 'photo.jpg'],
    ['photo.jpg.html', 'png', 'photo.png'],
    ['index.html', 'gif', 'index.gif'],
    ['evil.svg', 'png', 'evil.png'],
    ['run.exe', 'jpg', 'run.jpg'],
    ['x.bat', 'jpg', 'x.jpg'],
    ['a.sh', 'jpg', 'a.jpg'],
    ['shell.php.jpg', 'jpg', 'shell.jpg'], // Apache's mod_mime would run "shell.php.jpg" as PHP
    ['shell.php.x.jpg', 'jpg', 'shell_php.x.jpg'],
    ['shell.php .jpg', 'jpg', 'shell.jpg'],
    ['shell.p\u200bhp.jpg', 'jpg', 'shell.jpg'], // the zero-width space goes first, then the php
    ['shell.asp;.jpg', 'jpg', 'shell.asp_.jpg'], // IIS's "file.asp;.jpg"
    ['page.htm.exe.php', 'webp', 'page.webp'],
  ])('executable or markup %j as %s → %j', (input, ext, expected) => {
    expect(safeFileName(input, ext)).toBe(expected);
  });

  it('removes the RTL override that disguises "invoice‮gpj.exe" as "invoiceexe.jpg"', () => {
    expect(safeFileName('invoice\u202egpj.exe', 'jpg')).toBe('invoicegpj.jpg');
    for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']) {
      expect(safeFileName(`a${c}b.png`, 'png'), JSON.stringify(c)).toBe('ab.png');
    }
  });

  it('removes zero-width, tag, filler and control characters', () => {
    expect(safeFileName('a\u200bb\u200cc\u200dd\u2060e\ufeff.png', 'png')).toBe('abcde.png');
    expect(safeFileName('a\u{e0041}\u{e0042}b.png', 'png')).toBe('ab.png');
    expect(safeFileName('\u3164\u115f.png', 'png')).toBe('image.png');
    expect(safeFileName('a\u0007\u001b[31mb\u007f\u0085.png', 'png')).toBe('a[31mb.png');
    expect(safeFileName('a\u2028b\u2029c.png', 'png')).toBe('abc.png');
  });

  it('never starts with "-", ".", "~" or "+" (shell tools read "-rf.jpg" as an option)', () => {
    expect(safeFileName('-rf.jpg', 'jpg')).toBe('rf.jpg');
    expect(safeFileName('--help', 'jpg')).toBe('help.jpg');
    expect(safeFileName(' - .-x.jpg', 'jpg')).toBe('x.jpg');
    expect(safeFileName('~root.jpg', 'jpg')).toBe('root.jpg');
    expect(safeFileName('-', 'jpg')).toBe('image.jpg');
    for (const name of ['-a', '.a', '~a', '+a', ' a', '-.-a']) expect(safeFileName(name, 'png')).toMatch(/^[^-.~+ ]/);
  });

  it('replaces what undecodable bytes became (U+FFFD) and lone surrogates', () => {
    const latin1AsUtf8 = Buffer.from([0x66, 0xff, 0xfe, 0x6f, 0x2e, 0x6a, 0x70, 0x67]).toString('utf8');
    expect(latin1AsUtf8).toContain('\ufffd');
    expect(safeFileName(latin1AsUtf8, 'jpg')).toBe('fo.jpg');
    expect(safeFileName('\ufffd\ufffd.jpg', 'jpg')).toBe('image.jpg');
    expect(safeFileName('a\ud800b.jpg', 'jpg')).toBe('ab.jpg');
    expect(safeFileName('a\udfffb\ud83d.jpg', 'jpg')).toBe('ab.jpg');
    const out = safeFileName('x\ud800\udc00\ud800.jpg', 'jpg'); // a valid pair stays, the lone one goes
    expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
  });

  it('replaces slashes and their look-alikes', () => {
    expect(safeFileName('a\u2215b\u2044c\uff0fd\u29f8e\uff3cf.png', 'png')).toBe('a_b_c_d_e_f.png');
  });

  it('normalises to NFC', () => {
    expect(safeFileName('e\u0301te\u0301.jpg', 'jpg')).toBe('\u00e9t\u00e9.jpg');
  });

  it('caps 300-character names near 100 characters', () => {
    const out = safeFileName(`${'a'.repeat(300)}.jpeg`, 'jpg');
    expect(out).toMatch(/^a+\.jpg$/);
    expect(out.length).toBeLessThanOrEqual(104);
    expect(out.length).toBeGreaterThan(90);
  });

  it('caps multi-byte names by bytes too and never splits a character', () => {
    const out = safeFileName(`${'照'.repeat(300)}.png`, 'png');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(204);
    expect(out).toMatch(/^照+\.png$/u);
    expect(safeFileName(`${'👍🏽'.repeat(80)}.png`, 'png')).toMatch(/^(👍🏽)+\.png$/u);
    expect(safeFileName(`${'e\u0301'.repeat(150)}.png`, 'png')).toMatch(/^é+\.png$/u);
  });

  it('uses the fallback when nothing safe is left', () => {
    expect(safeFileName('\u0000\u0001', 'jpg', 'upload')).toBe('upload.jpg');
    expect(safeFileName('////', 'jpg', 'upload')).toBe('upload.jpg');
    expect(safeFileName('.php', 'jpg')).toBe('image.jpg');
    expect(safeFileName('\u202e\u200b', 'png')).toBe('image.png');
  });

  it('refuses to hand out an extension other than the detected formats and zip', () => {
    for (const ext of ['php', 'html', 'exe', 'svg', '', 'jpg.php']) expect(() => safeFileName('a', ext)).toThrow();
    for (const ext of ['jpg', 'png', 'gif', 'webp', 'tiff', 'avif', 'zip', 'JPG', '.png']) expect(safeFileName('a', ext)).toMatch(/^a\.[a-z]+$/);
  });

  it('is idempotent and every output is safe', () => {
    const attacks = [
      '../x/<y>.JPG', `${'b'.repeat(300)}.png`, '.. ..', 'a\u202eb.gif', 'shell.php', 'photo.jpg.html', '-rf', '\ufffd',
      'a.php.b.c', 'con.txt', '🙂.png', ' ~+-.x', 'x'.repeat(1000), '\\\\server\\share\\a.jpg',
    ];
    for (const name of attacks) {
      const once = safeFileName(name, 'jpg');
      expect(safeFileName(once, 'jpg')).toBe(once);
      expect(once).toMatch(/^[^-.~+\s]/u);
      expect(once).not.toMatch(/[/\\\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufffd]/u);
      expect(once.split('.').slice(1, -1).some((seg) => /^(php|html?|exe|sh|svg)$/i.test(seg))).toBe(false);
      expect(Buffer.byteLength(once)).toBeLessThanOrEqual(210);
    }
  });
});

describe('safeStem, cleanStem and thumbnailName', () => {
  it('drops the extension and executable or image extensions before it', () => {
    expect(safeStem('../holiday.photo.JPG')).toBe('holiday.photo');
    expect(safeStem('README')).toBe('README');
    expect(safeStem('.jpg')).toBe('image');
    expect(safeStem('photo.jpg.html')).toBe('photo');
  });

  it('cleanStem keeps safe dots, neutralises dangerous ones and is idempotent', () => {
    expect(cleanStem('holiday.photo')).toBe('holiday.photo');
    expect(cleanStem('a.php')).toBe('a_php');
    for (const s of ['holiday.photo', 'a.php.b', '-x', 'e\u0301', '']) expect(cleanStem(cleanStem(s))).toBe(cleanStem(s));
  });

  it('builds <stem>_<W>x<H>.<ext>', () => {
    expect(thumbnailName('rob', { width: 128, height: 128 }, 'jpg')).toBe('rob_128x128.jpg');
    expect(thumbnailName('holiday.photo', { width: 256, height: 100 }, 'webp')).toBe('holiday.photo_256x100.webp');
  });

  it('never lets a stem smuggle a path, a dangerous extension or a leading dash', () => {
    expect(thumbnailName('../../x', { width: 1, height: 2 }, 'png')).toBe('x_1x2.png');
    expect(thumbnailName('', { width: 1, height: 2 }, '.PNG')).toBe('image_1x2.png');
    expect(thumbnailName('shell.php', { width: 1, height: 2 }, 'png')).toBe('shell_php_1x2.png');
    expect(thumbnailName('-rf', { width: 1, height: 2 }, 'png')).toBe('rf_1x2.png');
    expect(() => thumbnailName('a', { width: 1, height: 2 }, 'html')).toThrow();
  });

  it('displayName keeps the client’s own extension for messages, cleaned', () => {
    expect(displayName('../bad.svg')).toBe('bad.svg');
    expect(displayName('a\u202eb.exe')).toBe('ab.exe');
    expect(displayName('')).toBe('image');
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

  it('keeps only an extension seler hands out and makes the stem safe', () => {
    expect(contentDisposition('shell.php')).toBe(`attachment; filename="shell"; filename*=UTF-8''shell`);
    expect(contentDisposition('-x.jpg.html')).toContain(`filename="x"`);
    expect(contentDisposition('a\u202eb.zip')).toContain(`filename="ab.zip"`);
    expect(contentDisposition('photo_128x128.jpg', 'inline')).toBe(`inline; filename="photo_128x128.jpg"; filename*=UTF-8''photo_128x128.jpg`);
    expect(contentDisposition('.zip')).toContain(`filename="download.zip"`);
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

describe('archiveNameFor: the zip is named after the upload', () => {
  it('is the first original for one file, and says how many more otherwise', () => {
    expect(archiveNameFor(['sunset.jpg'])).toBe('sunset.zip');
    expect(archiveNameFor(['sunset.jpg', 'logo.png', 'x.webp'])).toBe('sunset and 2 more.zip');
    expect(archiveNameFor([])).toBe('thumbnails.zip');
    expect(archiveNameFor(['...', 'b.jpg'])).toBe('thumbnails and 1 more.zip');
  });

  it('never cuts the count off a long first name', () => {
    const name = archiveNameFor([`${'照'.repeat(150)}.jpg`, 'b.jpg']);
    expect(name.endsWith(' and 1 more.zip')).toBe(true);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(210);
  });

  it('takes the client’s name, made safe, and falls back when nothing is left of it', () => {
    expect(archiveNameFor(['a.jpg', 'b.jpg'], 'Holiday 2026')).toBe('Holiday 2026.zip');
    expect(archiveNameFor(['a.jpg'], 'Holiday.zip')).toBe('Holiday.zip');
    expect(archiveNameFor(['a.jpg'], '../../etc/passwd')).toBe('_._etc_passwd.zip');
    expect(archiveNameFor(['a.jpg'], 'C:\\Users\\me\\x')).toBe('C__Users_me_x.zip');
    expect(archiveNameFor(['a.jpg'], 'report.php')).toBe('report.zip');
    expect(archiveNameFor(['a.jpg', 'b.jpg'], '  \r\n\u202e ')).toBe('a and 1 more.zip');
    expect(archiveNameFor(['a.jpg'], '')).toBe('a.zip');
  });

  it('gives a Content-Disposition that hostile names cannot break', () => {
    for (const hostile of ['a"b\r\nSet-Cookie: x=1', 'x\\"; filename=evil.exe', '\u202egpj.exe', '照片 "été"/..\\..', 'con', '\0\x7f']) {
      const name = archiveNameFor(['a.jpg'], hostile);
      expect(name).toMatch(/\.zip$/);
      expect(name).not.toMatch(/[\u0000-\u001f\u007f"\\/\u202e]/);
      const header = contentDisposition(name);
      expect(header).not.toMatch(/[\r\n]/);
      expect(/filename="([^"]*)"/.exec(header)![1]).not.toMatch(/["\\]/);
      expect(header.split('filename*=')[1]).toMatch(/^UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
      expect(decodeURIComponent(header.split("UTF-8''")[1]!)).toBe(name);
    }
  });
});
