// Attacks on the upload intake over raw sockets: aborted and broken bodies, stalled clients,
// truncated images, hostile file names read back from the zip.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { BOUNDARY, multipartBody, rawPost, type RawPart } from '../../test/helpers/raw-http.js';
import { makeAnimatedGif, makeAvif, makeJpeg, makeNoisyJpeg, makePng, makeTiff, makeWebp, SVG_IMAGE } from './test-images.js';

let app: TestApp;
let bigJpeg: Buffer;
beforeAll(async () => {
  app = await startTestApp({ env: { SELER_UPLOAD_IDLE_TIMEOUT: '1', SELER_UPLOAD_RATE: 'off', SELER_UPLOAD_BUDGET_MB: '0' } });
  bigJpeg = await makeNoisyJpeg(2000, 1500); // ~1.3 MB: several socket reads, so a cut lands mid-file
});
afterAll(async () => {
  // Let the last responses finish: server.close() leaves a keep-alive connection whose response has
  // not emitted 'finish' yet open until the keep-alive timeout (72 s).
  await new Promise((r) => setTimeout(r, 300));
  await app?.close();
});

const uploadsDir = () => path.join(app.config.mediaDir, 'uploads');
const uploadsLeft = () => readdirSync(uploadsDir()).filter((n) => !n.startsWith('.probe-'));
/** Uploads that were accepted (202) stay until the retention cleanup: only other files are "left behind". */
const accepted = new Set<string>();

/** No file but accepted uploads in the uploads directory, within a short while (removal is asynchronous to the socket's end). */
async function expectNoUploadsLeft(): Promise<void> {
  const stray = () => uploadsLeft().filter((n) => !accepted.has(n));
  await waitFor(async () => stray().length === 0, 5000, 25).catch(() => {
    throw new Error(`uploads left behind: ${stray().join(', ')}`);
  });
}

/** A POST expected to be accepted: its stored files are remembered as accepted. */
async function acceptedPost(body: Buffer) {
  const before = new Set(uploadsLeft());
  const res = await rawPost(app.baseUrl, body);
  expect(res?.status, res?.body).toBe(202);
  for (const n of uploadsLeft()) if (!before.has(n)) accepted.add(n);
  return JSON.parse(res!.body) as { id: string };
}

const imagePart = (data: Buffer, filename: string | Buffer = 'a.jpg'): RawPart => ({ field: 'images', filename, data, type: 'image/jpeg' });

async function getJson(url: string) {
  const res = await fetch(app.baseUrl + url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const finished = (id: string) =>
  waitFor(async () => {
    const { body } = await getJson(`/api/v1/tasks/${id}`);
    return ['SUCCESS', 'FAILURE', 'REVOKED'].includes(body.status) ? body : undefined;
  }, 30_000);

async function expectNormalUploadWorks(): Promise<void> {
  const { id } = await acceptedPost(multipartBody([imagePart(await makeJpeg(), 'after.jpg')]));
  const done = await finished(id);
  expect(done.status).toBe('SUCCESS');
}

describe('interrupted uploads leave nothing behind', () => {
  it('a client that disconnects mid-file', async () => {
    const body = multipartBody([imagePart(bigJpeg)]);
    for (const fraction of [0.1, 0.5, 0.95]) {
      await rawPost(app.baseUrl, body, { sendBytes: Math.floor(body.length * fraction), then: 'destroy', pauseMs: 150 });
      await expectNoUploadsLeft();
    }
  });

  it('a connection reset (RST) mid-file', async () => {
    const body = multipartBody([imagePart(bigJpeg)]);
    await rawPost(app.baseUrl, body, { sendBytes: Math.floor(body.length / 2), then: 'reset', pauseMs: 150 });
    await expectNoUploadsLeft();
  });

  it('a disconnect after one whole file, in the middle of the second', async () => {
    const body = multipartBody([imagePart(await makeJpeg(), 'one.jpg'), imagePart(bigJpeg, 'two.jpg')]);
    await rawPost(app.baseUrl, body, { sendBytes: body.length - 200_000, then: 'destroy', pauseMs: 150 });
    await expectNoUploadsLeft();
  });

  it('a body without its closing boundary: 400 bad_multipart, no 0-byte file', async () => {
    for (const parts of [[imagePart(bigJpeg)], [imagePart(await makeJpeg(), 'ok.jpg'), imagePart(Buffer.alloc(0), 'empty.jpg')], [imagePart(await makeJpeg())]]) {
      const res = await rawPost(app.baseUrl, multipartBody(parts, { closing: false }));
      expect(res?.status, res?.body).toBe(400);
      expect(JSON.parse(res!.body).error.code).toBe('bad_multipart');
      await expectNoUploadsLeft();
    }
  });

  it('a body cut right after a part’s headers (the old 0-byte file)', async () => {
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="images"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
    const res = await rawPost(app.baseUrl, head);
    expect(res?.status, res?.body).toBe(400);
    await expectNoUploadsLeft();
    await rawPost(app.baseUrl, head, { contentLength: head.length + 1000, then: 'destroy', pauseMs: 150 });
    await expectNoUploadsLeft();
  });

  it('a body shorter than its Content-Length, then a half-close', async () => {
    const body = multipartBody([imagePart(bigJpeg)]);
    const res = await rawPost(app.baseUrl, body, { sendBytes: Math.floor(body.length / 2), then: 'end', timeoutMs: 10_000 });
    if (res) expect(res.status).toBeGreaterThanOrEqual(400);
    await expectNoUploadsLeft();
  });

  it('a client that stalls mid-file is dropped after the idle timeout (SELER_UPLOAD_IDLE_TIMEOUT)', async () => {
    const body = multipartBody([imagePart(bigJpeg)]);
    const started = Date.now();
    // 'end' is not sent: the socket stays open and silent; the server must close it.
    const res = await rawPost(app.baseUrl, body, { sendBytes: Math.floor(body.length / 2), then: 'wait', timeoutMs: 10_000 });
    expect(res === undefined || res.status >= 400).toBe(true);
    expect(Date.now() - started).toBeLessThan(8000);
    await expectNoUploadsLeft();
  });

  it('60 parallel aborts at random points leave nothing, and normal uploads still work', async () => {
    const body = multipartBody([imagePart(bigJpeg), imagePart(bigJpeg, 'b.jpg')]);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        rawPost(app.baseUrl, body, {
          sendBytes: Math.floor(body.length * (0.05 + 0.9 * Math.random())),
          then: i % 3 === 0 ? 'reset' : i % 3 === 1 ? 'destroy' : 'end',
          pauseMs: 100,
          timeoutMs: 20_000,
        }).catch(() => undefined),
      ),
    );
    await expectNoUploadsLeft();
    await expectNormalUploadWorks();
  });

  it('a refusal while the client is still sending: the client reads the answer and nothing stays', async () => {
    const body = multipartBody([{ field: 'images', filename: 'x.svg', data: SVG_IMAGE }, imagePart(bigJpeg), imagePart(bigJpeg, 'c.jpg')]);
    const res = await rawPost(app.baseUrl, body);
    expect(res?.status, res?.body).toBe(415);
    expect(JSON.parse(res!.body).error.code).toBe('unsupported_format');
    await expectNoUploadsLeft();
  });

  it('every refusal path (400, 413, 415, 422) leaves nothing, over a raw socket too', async () => {
    const small = await makeJpeg();
    const cases: [RawPart[], number][] = [
      [[imagePart(bigJpeg), { field: 'sizes', data: 'nonsense' }], 400],
      [[imagePart(bigJpeg), { field: 'other', filename: 'x.jpg', data: bigJpeg }], 400],
      [[imagePart(bigJpeg), imagePart(Buffer.from('not an image at all'), 'x.jpg')], 415],
      [[imagePart(bigJpeg), imagePart(bigJpeg.subarray(0, 500_000), 'cut.jpg')], 422],
      [[imagePart(bigJpeg), imagePart(Buffer.alloc(0), 'empty.jpg')], 422],
      [Array.from({ length: 21 }, (_, i) => imagePart(small, `${i}.jpg`)), 413],
      [[imagePart(bigJpeg), imagePart(Buffer.alloc(51 * 1024 * 1024, 1), 'huge.jpg')], 413],
    ];
    for (const [parts, status] of cases) {
      const res = await rawPost(app.baseUrl, multipartBody(parts));
      expect(res?.status, res?.body).toBe(status);
      await expectNoUploadsLeft();
    }
  });
});

describe('truncated images are refused at upload with 422', () => {
  const noise = (w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  const formats: [string, () => Promise<Buffer>][] = [
    ['JPEG', () => makeNoisyJpeg(400, 300)],
    ['progressive JPEG', () => noise(400, 300).jpeg({ progressive: true }).toBuffer()],
    ['PNG', () => noise(200, 150).png().toBuffer()],
    ['WebP', () => noise(200, 150).webp().toBuffer()],
    ['GIF', () => makeAnimatedGif(80, 60)],
    ['TIFF', () => makeTiff({ width: 200, height: 150 })],
    ['AVIF', () => makeAvif({ width: 64, height: 64 })],
  ];

  it.each(formats)('%s cut at 30%, 60%, 90% and one byte short: 422 undecodable_image; whole: 202', async (_label, make) => {
    const image = await make();
    for (const cut of [0.3, 0.6, 0.9].map((f) => Math.floor(image.length * f)).concat(image.length - 1)) {
      const res = await rawPost(app.baseUrl, multipartBody([imagePart(image.subarray(0, cut), 'cut.img')]));
      expect(res?.status, `cut at ${cut}/${image.length}: ${res?.body}`).toBe(422);
      const error = JSON.parse(res!.body).error;
      expect(error.code).toBe('undecodable_image');
      expect(error.message).toMatch(/incomplete|corrupt|cannot be read/);
      await expectNoUploadsLeft();
    }
    const whole = await acceptedPost(multipartBody([imagePart(image, 'whole.img')]));
    expect((await finished(whole.id)).status).toBe('SUCCESS');
  });

  it('corrupt data in a complete file passes the upload check and fails in the worker with a clean error', async () => {
    const png = await noise(200, 150).png().toBuffer();
    const idat = png.indexOf('IDAT');
    const broken = Buffer.from(png);
    for (let i = idat + 40; i < idat + 400; i++) broken[i] = broken[i]! ^ 0x5a; // garbles the deflate stream; IEND stays
    const { id } = await acceptedPost(multipartBody([imagePart(broken, 'garbled.png')]));
    const done = await finished(id);
    expect(done.status).toBe('FAILURE');
    expect(done.error.code).toBe('undecodable_image');
    expect(done.error.message).toContain('garbled.png');
    const text = JSON.stringify(done.error);
    expect(text).not.toContain(app.dataDir);
    expect(text).not.toMatch(/\/(tmp|work|home|usr|src|dist)\//);
    expect(text).not.toMatch(/\n\s+at /);
  });
});

describe('errors the worker ends with', () => {
  it('an upload removed before the worker runs: FAILURE upload_gone at once (not retried), no path, no stack', async () => {
    const { id } = await app.runtime.client.enqueue('thumbnails.make', {
      anonymousOwner: true,
      args: [{ files: [{ upload: '00000000-0000-4000-8000-000000000000', name: 'gone.jpg' }], sizes: [{ width: 8, height: 8 }], format: 'original', fit: 'inside' }],
    });
    const started = Date.now();
    const done = await finished(id);
    expect(Date.now() - started).toBeLessThan(1500); // permanent: no 2 s retry backoff
    expect(done.status).toBe('FAILURE');
    expect(done.error.code).toBe('upload_gone');
    expect(done.error.message).toContain('gone.jpg');
    const text = JSON.stringify(done.error);
    expect(text).not.toContain(app.dataDir);
    expect(text).not.toMatch(/\/(tmp|work|home|usr|src|dist)\//);
    expect(text).not.toMatch(/\n\s+at /);
  });
});

describe('names in the zip and the download', () => {
  it('hostile names come back as <safe stem>.<detected ext>, unique, valid UTF-8', async () => {
    const jpeg = await makeJpeg({ width: 40, height: 30 });
    const png = await makePng({ width: 30, height: 30 });
    const webp = await makeWebp({ width: 20, height: 20 });
    const parts: RawPart[] = [
      { field: 'sizes', data: '16x16' },
      imagePart(jpeg, 'shell.php'),
      imagePart(png, 'photo.jpg.html'),
      imagePart(jpeg, Buffer.from('invoice\u202egpj.exe', 'utf8')),
      imagePart(jpeg, '-rf.jpg'),
      imagePart(jpeg, Buffer.from([0x66, 0xff, 0xfe, 0x6f, 0x80, 0x2e, 0x6a, 0x70, 0x67])), // f \xff\xfe o \x80 .jpg: invalid UTF-8
      imagePart(png, '...'),
      imagePart(webp, ''),
      imagePart(jpeg, 'photo.jpg'),
      imagePart(jpeg, 'photo.jpg'),
      imagePart(jpeg, '.hidden.php.jpg'),
      imagePart(jpeg, Buffer.from('a\u200bb\u2066c\u0007.JPG', 'utf8')),
      { field: 'images', filenameStar: "UTF-8''%E2%80%AEfdp.html", data: jpeg, type: 'image/jpeg' },
      imagePart(jpeg, Buffer.from(`${'\u7167'.repeat(200)}.jpg`, 'utf8')),
    ];
    const { id } = await acceptedPost(multipartBody(parts));
    const done = await finished(id);
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCESS');

    const zip = await fetch(app.baseUrl + done.result.archiveUrl);
    expect(zip.status).toBe(200);
    const disposition = zip.headers.get('content-disposition')!;
    expect(disposition).toBe(`attachment; filename="shell and 12 more.zip"; filename*=UTF-8''shell%20and%2012%20more.zip`);
    const zipPath = path.join(app.dataDir, 'names.zip');
    writeFileSync(zipPath, Buffer.from(await zip.arrayBuffer()));
    const raw = execFileSync('unzip', ['-Z1', zipPath]);
    expect(raw.toString('utf8')).not.toContain('\ufffd'); // every entry name is valid UTF-8
    const entries = raw.toString('utf8').trim().split('\n');
    const originals = entries.filter((n) => !/_16x16(-\d+)?\./.test(n));
    expect(originals).toEqual([
      'shell.jpg',
      'photo.png',
      'invoicegpj.jpg',
      'rf.jpg',
      'fo.jpg',
      'image.png',
      'image.webp',
      'photo.jpg',
      'photo-2.jpg',
      'hidden.jpg',
      'abc.jpg',
      'fdp.jpg',
      `${'\u7167'.repeat(66)}.jpg`,
    ]);
    expect(new Set(entries.map((e) => e.toLowerCase())).size).toBe(entries.length);
    for (const name of entries) {
      expect(name).toMatch(/^[^-.~+\s]/u);
      expect(name).toMatch(/\.(jpg|png|webp)$/);
      expect(name).not.toMatch(/[/\\\u0000-\u001f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u);
      expect(name.split('.').slice(1, -1).some((s) => /^(php|html?|exe)$/i.test(s))).toBe(false);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(220);
    }
    // The thumbnails' names in the result are the zip's, and each one is served by that name.
    const thumbs = done.result.files.map((f: { name: string }) => f.name);
    expect(thumbs.every((n: string) => entries.includes(n))).toBe(true);
    expect(thumbs).toContain('photo-2_16x16.jpg');
    const one = await fetch(app.baseUrl + done.result.files[0].url);
    expect(one.status).toBe(200);
    await one.arrayBuffer();
    expect(one.headers.get('content-disposition')).toBe(`inline; filename="shell_16x16.jpg"; filename*=UTF-8''shell_16x16.jpg`);
    execFileSync('unzip', ['-tq', zipPath]);
  });

  it('the archive of an upload named "-x.html" downloads as x.zip; of an unnamed one as image.zip', async () => {
    for (const [name, expected] of [['-x.html', 'x.zip'], ['', 'image.zip'], ['\u202e.exe', 'image.zip']] as const) {
      const { id } = await acceptedPost(multipartBody([imagePart(await makeJpeg(), name)]));
      const done = await finished(id);
      const zip = await fetch(app.baseUrl + done.result.archiveUrl);
      expect(zip.headers.get('content-disposition')).toContain(`filename="${expected}"`);
      await zip.arrayBuffer();
    }
  });
});
