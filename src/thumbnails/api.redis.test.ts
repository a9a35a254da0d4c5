import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { taskView } from '../tasks/index.js';
import { HEIC_IMAGE, PDF_BYTES, SVG_IMAGE, makeAnimatedGif, makeBomb, makeJpeg, makeNoisyJpeg, makePng, truncated } from './test-images.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    env: { SELER_MAX_UPLOAD_MB: '1', SELER_MAX_FILES: '3', SELER_MAX_MEGAPIXELS: '50', SELER_MAX_SIZES: '4', SELER_MAX_DIMENSION: '1024' },
  });
});
afterAll(async () => app?.close());

type Part = { field?: string; name: string; data: Buffer | string; type?: string };

function form(parts: Part[], fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const p of parts) body.append(p.field ?? 'images', new Blob([p.data], { type: p.type ?? 'application/octet-stream' }), p.name);
  return body;
}

async function post(url: string, body: FormData | string, headers: Record<string, string> = {}) {
  const res = await fetch(app.baseUrl + url, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

async function getJson(url: string) {
  const res = await fetch(app.baseUrl + url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Reads the task's SSE stream until the server closes it; returns every task snapshot received. */
async function readEvents(eventsUrl: string): Promise<Record<string, any>[]> {
  const res = await fetch(app.baseUrl + eventsUrl);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: task'))
    .map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
}

const finished = (id: string) =>
  waitFor(async () => {
    const { body } = await getJson(`/api/v1/tasks/${id}`);
    return ['SUCCESS', 'FAILURE', 'REVOKED'].includes(body.status) ? body : undefined;
  });

function uploadsLeft(): string[] {
  return readdirSync(path.join(app.config.mediaDir, 'uploads'));
}

describe('POST /api/v1/thumbnails', () => {
  it('makes every size of every image, pushes progress over SSE and serves the zip and files', async () => {
    const photo = await makeJpeg({ width: 400, height: 300, gps: true });
    const logo = await makePng({ width: 120, height: 200, alpha: true });
    const res = await post('/api/v1/thumbnails', form([{ name: 'photo.jpg', data: photo }, { name: 'logo.png', data: logo }]));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ status: 'PENDING', statusUrl: `/api/v1/tasks/${res.body.id}`, eventsUrl: `/api/v1/tasks/${res.body.id}/events` });

    const snapshots = await readEvents(res.body.eventsUrl);
    const last = snapshots.at(-1)!;
    expect(last.status).toBe('SUCCESS');
    expect(snapshots.some((s) => s.status === 'PROGRESS' || s.status === 'STARTED' || s.status === 'PENDING')).toBe(true);

    const result = last.result;
    expect(result.files.map((f: any) => f.name).sort()).toEqual(['logo_128x128.png', 'photo_128x128.jpg']);
    const photoThumb = result.files.find((f: any) => f.name === 'photo_128x128.jpg');
    expect(photoThumb).toMatchObject({ width: 128, height: 96, format: 'jpeg' });

    const file = await fetch(app.baseUrl + photoThumb.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.exif]).toEqual([128, 96, undefined]);

    const zip = await fetch(app.baseUrl + result.archiveUrl);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-disposition')).toContain('filename="photo and 1 more.zip"');
    const zipPath = path.join(app.dataDir, 'download.zip');
    writeFileSync(zipPath, Buffer.from(await zip.arrayBuffer()));
    const listing = execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(['logo.png', 'logo_128x128.png', 'photo.jpg', 'photo_128x128.jpg']);
    execFileSync('unzip', ['-tq', zipPath]); // every CRC checks out
  });

  it('honours sizes, format and fit', async () => {
    const wide = await makeJpeg({ width: 300, height: 100 });
    const res = await post('/api/v1/thumbnails', form([{ name: 'wide.jpg', data: wide }], { sizes: '64x64, 32x16', format: 'webp', fit: 'cover' }));
    expect(res.status).toBe(202);
    const done = await finished(res.body.id);
    expect(done.result.files.map((f: any) => [f.name, f.width, f.height, f.format])).toEqual([
      ['wide_64x64.webp', 64, 64, 'webp'],
      ['wide_32x16.webp', 32, 16, 'webp'],
    ]);
  });

  it('stores uploads under generated names and sanitises hostile names in the zip and headers', async () => {
    const res = await post('/api/v1/thumbnails', form([{ name: '../../etc/pass"wd\r\n.jpg', data: await makeJpeg() }]));
    expect(res.status).toBe(202);
    expect(uploadsLeft().every((n) => /^[0-9a-f-]{36}$/.test(n))).toBe(true);
    const done = await finished(res.body.id);
    expect(done.status).toBe('SUCCESS');
    for (const f of done.result.files) expect(f.name).not.toMatch(/[\\/"\r\n]|\.\./);
    const zip = await fetch(app.baseUrl + done.result.archiveUrl);
    expect(zip.headers.get('content-disposition')).not.toMatch(/[\r\n]|\.\.\//);
  });

  it('takes the first frame of an animated GIF', async () => {
    const res = await post('/api/v1/thumbnails', form([{ name: 'anim.gif', data: await makeAnimatedGif() }]));
    const done = await finished(res.body.id);
    expect(done.status).toBe('SUCCESS');
    const file = await fetch(app.baseUrl + done.result.files[0].url);
    const meta = await sharp(Buffer.from(await file.arrayBuffer()), { pages: -1 }).metadata();
    expect(meta.pages ?? 1).toBe(1);
  });

  it('refuses a truncated image at upload with 422 undecodable_image (README promise), storing nothing', async () => {
    const before = new Set(uploadsLeft());
    const res = await post('/api/v1/thumbnails', form([{ name: 'cut.jpg', data: truncated(await makeJpeg({ width: 400, height: 300 })) }]));
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.code).toBe('undecodable_image');
    expect(res.body.error.message).toContain('cut.jpg');
    expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
  });
});

describe('bad input is refused with the contract status and loses nothing', () => {
  const cases: [string, () => Promise<FormData | string>, number, string, Record<string, string>?][] = [
    ['no file at all', async () => form([], { sizes: '64x64' }), 400, 'no_files'],
    ['a file in the wrong field', async () => form([{ field: 'image', name: 'a.jpg', data: await makeJpeg() }]), 400, 'unexpected_file_field'],
    ['an SVG', async () => form([{ name: 'a.svg', data: SVG_IMAGE, type: 'image/svg+xml' }]), 415, 'unsupported_format'],
    ['a PDF named .jpg', async () => form([{ name: 'a.jpg', data: PDF_BYTES, type: 'image/jpeg' }]), 415, 'unsupported_format'],
    ['a HEIC', async () => form([{ name: 'a.heic', data: HEIC_IMAGE }]), 415, 'unsupported_format'],
    ['random bytes', async () => form([{ name: 'a.png', data: Buffer.from('definitely not an image, just text') }]), 415, 'unsupported_format'],
    ['an empty file', async () => form([{ name: 'a.jpg', data: Buffer.alloc(0) }]), 422, 'empty_file'],
    ['a file over the size limit', async () => form([{ name: 'big.png', data: Buffer.alloc(1.5 * 1024 * 1024, 7) }]), 413, 'file_too_large'],
    ['more files than allowed', async () => form(await Promise.all([1, 2, 3, 4].map(async (i) => ({ name: `${i}.jpg`, data: await makeJpeg() })))), 413, 'too_many_files'],
    ['a decompression bomb', async () => form([{ name: 'bomb.png', data: makeBomb() }]), 413, 'too_many_pixels'],
    ['garbage sizes', async () => form([{ name: 'a.jpg', data: await makeJpeg() }], { sizes: 'big' }), 400, 'invalid_sizes'],
    ['too many sizes', async () => form([{ name: 'a.jpg', data: await makeJpeg() }], { sizes: '1x1,2x2,3x3,4x4,5x5' }), 400, 'invalid_sizes'],
    ['a size over the maximum', async () => form([{ name: 'a.jpg', data: await makeJpeg() }], { sizes: '2000x2000' }), 400, 'invalid_sizes'],
    ['an unknown format', async () => form([{ name: 'a.jpg', data: await makeJpeg() }], { format: 'bmp' }), 400, 'invalid_format'],
    ['an unknown fit', async () => form([{ name: 'a.jpg', data: await makeJpeg() }], { fit: 'stretch' }), 400, 'invalid_fit'],
    ['a JSON body instead of multipart', async () => JSON.stringify({ images: [] }), 400, 'not_multipart', { 'content-type': 'application/json' }],
  ];

  for (const [label, body, status, code, headers] of cases) {
    it(`${label} → ${status} ${code}`, async () => {
      const before = new Set(uploadsLeft());
      const res = await post('/api/v1/thumbnails', await body(), headers);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(10);
      expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
    });
  }

  it('removes the files it already stored when a later file is refused', async () => {
    const before = new Set(uploadsLeft());
    const res = await post('/api/v1/thumbnails', form([{ name: 'ok.jpg', data: await makeJpeg() }, { name: 'bad.svg', data: SVG_IMAGE }]));
    expect(res.status).toBe(415);
    expect(res.body.error.message).toContain('bad.svg');
    expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
  });

  it('answers 404 for unknown task ids everywhere, never PENDING', async () => {
    for (const url of ['/api/v1/tasks/nope', '/task/nope/', '/api/v1/tasks/nope/archive', '/api/v1/tasks/nope/files/x.jpg', '/api/v1/tasks/nope/events']) {
      const res = await getJson(url);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toBe('task_not_found');
    }
  });

  it('does not serve a file name the task did not produce', async () => {
    const res = await post('/api/v1/thumbnails', form([{ name: 'a.jpg', data: await makeJpeg() }]));
    await finished(res.body.id);
    const probe = await getJson(`/api/v1/tasks/${res.body.id}/files/${encodeURIComponent('../../../seler.db')}`);
    expect(probe.status).toBe(404);
    expect(probe.body.error.code).toBe('file_not_found');
  });
});

describe('every bad file of a batch is reported at once', () => {
  it('names each refused file with its own code and reason, in one answer, storing nothing', async () => {
    const before = new Set(uploadsLeft());
    const res = await post(
      '/api/v1/thumbnails',
      form([
        { name: 'vector.svg', data: SVG_IMAGE, type: 'image/svg+xml' },
        { name: 'cut.jpg', data: truncated(await makeJpeg({ width: 400, height: 300 })) },
        { name: 'huge.png', data: Buffer.alloc(1.5 * 1024 * 1024, 7) },
      ]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('files_refused');
    expect(res.body.error.message).toMatch(/^3 files were refused\./);
    for (const name of ['vector.svg', 'cut.jpg', 'huge.png']) expect(res.body.error.message).toContain(`"${name}"`);
    expect(res.body.error.files.map((f: any) => [f.name, f.status, f.code])).toEqual([
      ['vector.svg', 415, 'unsupported_format'],
      ['cut.jpg', 422, 'undecodable_image'],
      ['huge.png', 413, 'file_too_large'],
    ]);
    for (const f of res.body.error.files) expect(f.message.length).toBeGreaterThan(10);
    expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
  });

  it('keeps the shared status and code when every refusal agrees, and drops the good files too', async () => {
    const before = new Set(uploadsLeft());
    // Image extensions and types, bytes that are not an image: the server reads the bytes, not the claims.
    const res = await post(
      '/api/v1/thumbnails',
      form([
        { name: 'fake.jpg', data: PDF_BYTES, type: 'image/jpeg' },
        { name: 'good.jpg', data: await makeJpeg() },
        { name: 'text.png', data: Buffer.from('GIF88a not quite an image at all, sorry'), type: 'image/png' },
      ]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(415);
    expect(res.body.error.code).toBe('unsupported_format');
    expect(res.body.error.files.map((f: any) => f.name)).toEqual(['fake.jpg', 'text.png']);
    expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
  });

  it('a single refused file keeps its own status, and lists it too', async () => {
    const res = await post('/api/v1/thumbnails', form([{ name: 'bad.gif', data: Buffer.from('not a gif'), type: 'image/gif' }]));
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'unsupported_format', files: [{ name: 'bad.gif', code: 'unsupported_format', status: 415 }] });
    expect(res.body.error.message).toMatch(/^"bad.gif": /);
  });
});

describe('quality, crop position and the zip name', () => {
  /** 300x100, grey but for a saturated, busy right third: the centre crop misses it, a smart crop does not. */
  async function greyWithBusyRight(): Promise<Buffer> {
    const data = Buffer.alloc(300 * 100 * 3, 128);
    for (let y = 0; y < 100; y++)
      for (let x = 200; x < 300; x++) {
        const o = (y * 300 + x) * 3;
        data[o] = 255;
        data[o + 1] = (Math.floor(x / 10) + Math.floor(y / 10)) % 2 ? 230 : 0;
        data[o + 2] = 0;
      }
    return sharp(data, { raw: { width: 300, height: 100, channels: 3 } }).png().toBuffer();
  }

  async function thumbnailOf(fields: Record<string, string>, data: Buffer, name = 'busy.png'): Promise<Buffer> {
    const res = await post('/api/v1/thumbnails', form([{ name, data }], { sizes: '100x100', ...fields }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await finished(res.body.id);
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCESS');
    return Buffer.from(await (await fetch(app.baseUrl + done.result.files[0].url)).arrayBuffer());
  }

  it('crops where attention looks, not the centre', async () => {
    const input = await greyWithBusyRight();
    const [centre, attention] = await Promise.all([
      thumbnailOf({ fit: 'cover' }, input),
      thumbnailOf({ fit: 'cover', position: 'attention' }, input),
    ]);
    const red = async (png: Buffer) => {
      const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (let o = 0; o < data.length; o += 3) if (data[o]! > 200 && data[o + 2]! < 60) n++;
      return n / (data.length / 3);
    };
    expect(await red(centre)).toBe(0);
    expect(await red(attention)).toBeGreaterThan(0.5);
  });

  it('quality changes the output', async () => {
    const noisy = await makeNoisyJpeg(600, 400);
    const [low, high] = await Promise.all([
      thumbnailOf({ format: 'webp', quality: '5', sizes: '300x200' }, noisy, 'n.jpg'),
      thumbnailOf({ format: 'webp', quality: '95', sizes: '300x200' }, noisy, 'n.jpg'),
    ]);
    expect(low.length).toBeLessThan(high.length);
  });

  const bad: [string, Record<string, string>, string][] = [
    ['quality 0', { quality: '0' }, 'invalid_quality'],
    ['quality 101', { quality: '101' }, 'invalid_quality'],
    ['quality 50.5', { quality: '50.5' }, 'invalid_quality'],
    ['quality "high"', { quality: 'high' }, 'invalid_quality'],
    ['quality -1', { quality: '-1' }, 'invalid_quality'],
    ['an unknown position', { fit: 'cover', position: 'middle' }, 'invalid_position'],
    ['a smart crop without cover', { fit: 'inside', position: 'attention' }, 'invalid_position'],
    ['a gravity with contain', { fit: 'contain', position: 'north' }, 'invalid_position'],
    ['a 500-character zip name', { archiveName: 'x'.repeat(500) }, 'invalid_archive_name'],
    ['a 10 kB zip name', { archiveName: 'x'.repeat(10_000) }, 'field_too_long'],
  ];
  for (const [label, fields, code] of bad) {
    it(`${label} → 400 ${code}, nothing stored`, async () => {
      const before = new Set(uploadsLeft());
      const res = await post('/api/v1/thumbnails', form([{ name: 'a.jpg', data: await makeJpeg() }], fields));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
      expect(res.body.error.message.length).toBeGreaterThan(10);
      expect(uploadsLeft().filter((n) => !before.has(n))).toEqual([]);
    });
  }

  it('accepts "center" and the gravity names for cover', async () => {
    for (const position of ['center', 'northwest', 'entropy']) {
      const res = await post('/api/v1/thumbnails', form([{ name: 'a.jpg', data: await makeJpeg() }], { fit: 'cover', position, quality: '1' }));
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
  });

  it('names the zip as the client asks, safely, whatever it sends', async () => {
    const hostile = 'Ferien "2026"\r\nSet-Cookie: a=1/..\\照片';
    const res = await post('/api/v1/thumbnails', form([{ name: 'a.jpg', data: await makeJpeg() }, { name: 'b.png', data: await makePng() }], { archiveName: hostile }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await finished(res.body.id);
    expect(done.result.archiveName).toBe('Ferien _2026_Set-Cookie_ a=1_._照片.zip');
    const zip = await fetch(app.baseUrl + done.result.archiveUrl);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('set-cookie')).toBeNull();
    const disposition = zip.headers.get('content-disposition')!;
    expect(disposition).toBe(
      `attachment; filename="Ferien _2026_Set-Cookie_ a=1_.___.zip"; filename*=UTF-8''${encodeURIComponent('Ferien _2026_Set-Cookie_ a=1_._照片.zip')}`,
    );
  });
});

describe('the lab’s own API', () => {
  it('POST / with image_file answers {task_id}; GET /task/<id>/ ends with results.archive_path', async () => {
    const res = await post('/', form([{ field: 'image_file', name: 'rob.jpg', data: await makeJpeg({ width: 300, height: 200 }) }]));
    expect(res.status).toBe(202);
    expect(Object.keys(res.body)).toEqual(['task_id']);
    const status = await waitFor(async () => {
      const r = await getJson(`/task/${res.body.task_id}/`);
      return r.body.task_status === 'SUCCESS' ? r.body : undefined;
    });
    expect(status).toEqual({ task_id: res.body.task_id, task_status: 'SUCCESS', results: { archive_path: `/api/v1/tasks/${res.body.task_id}/archive` } });
    const zip = await fetch(app.baseUrl + status.results.archive_path);
    expect(zip.status).toBe(200);
    expect(Buffer.from(await zip.arrayBuffer()).subarray(0, 2).toString()).toBe('PK');
  });
});

describe('operations endpoints', () => {
  it('reports health, readiness and the OpenAPI document', async () => {
    expect((await getJson('/healthz')).body).toEqual({ status: 'ok' });
    expect((await getJson('/readyz')).body).toEqual({ status: 'ready' });
    const spec = await getJson('/docs/json');
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/api/v1/thumbnails', '/api/v1/tasks/{id}', '/api/v1/tasks/{id}/events']));
    // A task as /docs shows it is generated from the zod schema the route serializes with.
    const documentedTask = spec.body.paths['/api/v1/tasks/{id}'].get.responses['200'].content['application/json'].schema;
    expect(documentedTask.properties).toEqual((z.toJSONSchema(taskView, { target: 'openapi-3.0', io: 'output' }) as { properties: unknown }).properties);
    // The upload's documented fields and refusals come from options.ts, as the server checks them.
    const upload = spec.body.paths['/api/v1/thumbnails'].post;
    const fields = upload.requestBody.content['multipart/form-data'].schema.properties;
    expect(fields.quality).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(fields.position.enum).toEqual(['attention', 'entropy', 'centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest']);
    expect(fields.archiveName).toMatchObject({ type: 'string' });
    expect(upload.responses['415'].content['application/json'].schema.properties.error.properties.files.type).toBe('array');
    const config = await getJson('/api/v1/config');
    expect(config.body).toMatchObject({ positions: fields.position.enum, quality: { min: 1, max: 100, defaults: { jpeg: 82, webp: 80, avif: 50 } }, fits: ['inside', 'cover', 'contain'] });
  });

  it('serves the admin behind a log-in', async () => {
    expect((await getJson('/api/v1/admin/me')).status).toBe(401);
    const page = await fetch(`${app.baseUrl}/admin/`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(/^\/admin\/login/);
    expect((await fetch(`${app.baseUrl}/admin/login`)).status).toBe(200);
  });

  it('revokes a queued task with DELETE and its cancel token', async () => {
    // Marked as an anonymous upload would be (the access rules are attacked in src/tasks/access.redis.test.ts).
    const { id, cancelToken } = await app.runtime.client.enqueue('demo.add', { args: [1, 2], countdown: 60, anonymousOwner: true });
    const res = await fetch(`${app.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers: { 'x-cancel-token': cancelToken! } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('REVOKED');
    expect((await getJson(`/api/v1/tasks/${id}`)).body.status).toBe('REVOKED');
  });
});

describe('shutdown', () => {
  it('ends open event streams so the web server can stop', async () => {
    const own = await startTestApp({ worker: false });
    const { id } = await own.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600, anonymousOwner: true });
    const res = await fetch(`${own.baseUrl}/api/v1/tasks/${id}/events`);
    const reading = res.text();
    const started = Date.now();
    await own.web!.close();
    expect(await reading).toContain('"status":"PENDING"');
    expect(Date.now() - started).toBeLessThan(3000);
    await own.runtime.client.revoke(id);
    await own.close();
  });
});
