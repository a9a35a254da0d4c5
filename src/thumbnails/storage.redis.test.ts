// A data directory that cannot take writes, for real: a read-only bind mount and a full tmpfs over
// the media directory (tests run as root, where chmod would not stop a write). Uploads must get a
// clear 503 and /readyz must say not ready, naming the directory; once it is writable again, both recover.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { multipartBody, rawPost } from '../../test/helpers/raw-http.js';
import { makeJpeg, makeNoisyJpeg } from './test-images.js';

const isRoot = process.getuid?.() === 0;
let app: TestApp;
let media: string;
const mounted: string[] = [];

function sh(cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

function unmountAll(): void {
  while (mounted.length) {
    const dir = mounted.pop()!;
    try {
      sh('umount', dir);
    } catch {
      sh('umount', '-l', dir);
    }
  }
}

beforeAll(async () => {
  if (!isRoot) return;
  app = await startTestApp({ env: { SELER_UPLOAD_RATE: 'off' } });
  media = app.config.mediaDir;
});
afterAll(async () => {
  unmountAll();
  await app?.close();
});

const upload = async (data?: Buffer, route = '/api/v1/thumbnails') =>
  rawPost(app.baseUrl, multipartBody([{ field: route === '/' ? 'image_file' : 'images', filename: 'p.jpg', data: data ?? (await makeJpeg()), type: 'image/jpeg' }]), {
    path: route,
  });

async function readyz() {
  const res = await fetch(`${app.baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

function expectStorage503(res: Awaited<ReturnType<typeof upload>>) {
  expect(res?.status, res?.body).toBe(503);
  const { error } = JSON.parse(res!.body);
  expect(error.code).toBe('storage_unavailable');
  expect(error.message).toMatch(/cannot store uploads/);
  expect(error.message).not.toContain(media); // no server path for an anonymous client
  expect(Number(res!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

async function expectRecovered() {
  const ready = await waitFor(async () => {
    const r = await readyz();
    return r.status === 200 ? r : undefined;
  }, 5000);
  expect(ready.body).toEqual({ status: 'ready' });
  const res = await upload();
  expect(res?.status, res?.body).toBe(202);
  const id = JSON.parse(res!.body).id;
  const done = await waitFor(async () => {
    const t = (await (await fetch(`${app.baseUrl}/api/v1/tasks/${id}`)).json()) as { status: string };
    return ['SUCCESS', 'FAILURE'].includes(t.status) ? t : undefined;
  });
  expect(done.status).toBe('SUCCESS');
}

const uploadsIn = (dir: string) => readdirSync(path.join(dir, 'uploads')).filter((n) => !n.startsWith('.'));

describe.skipIf(!isRoot)('an unusable data directory (needs root for mount)', () => {
  it('read-only: uploads get 503 storage_unavailable, /readyz 503 naming the directory; writable again: both recover', async () => {
    expect((await readyz()).status).toBe(200);
    sh('mount', '--bind', media, media);
    mounted.push(media);
    sh('mount', '-o', 'remount,ro,bind', media);

    // At once (the probe's answer may still be cached as fine: the write itself fails with EROFS) …
    expectStorage503(await upload());
    // … and on both upload routes, with a big body the client is still sending.
    expectStorage503(await upload(Buffer.concat([await makeNoisyJpeg(1000, 800), Buffer.alloc(2 * 1024 * 1024)]), '/'));
    const notReady = await waitFor(async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    }, 5000);
    expect(notReady.body.error.code).toBe('not_ready');
    expect(notReady.body.error.message).toContain(path.join(media, 'uploads'));
    expect(notReady.body.error.message).toMatch(/not writable|read-only/i);
    expectStorage503(await upload());

    unmountAll();
    await expectRecovered();
  });

  it('full: a write that runs out of space mid-file gets 503 and frees its space; a full disk makes /readyz not ready', async () => {
    sh('mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', media);
    mounted.push(media);
    mkdirSync(path.join(media, 'uploads'));
    mkdirSync(path.join(media, 'results'));
    const free = () => statfsSync(media).bavail * statfsSync(media).bsize;
    const filler = path.join(media, 'filler');
    writeFileSync(filler, Buffer.alloc(free() - 1536 * 1024)); // leave 1.5 MB: above the probe's 1 MB floor
    expect((await waitFor(async () => ((await readyz()).status === 200 ? true : undefined), 5000))).toBe(true);
    const before = free();

    const big = Buffer.concat([await makeNoisyJpeg(1000, 800), Buffer.alloc(3 * 1024 * 1024)]);
    expectStorage503(await upload(big));
    expect(uploadsIn(media)).toEqual([]); // the partial file is gone …
    expect(free()).toBe(before); // … and so is the space it took
    expect((await readyz()).status).toBe(200); // 1.5 MB left: still ready for small uploads

    // Fill to the last byte: the probe's own write fails.
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(64 * 1024));
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ENOSPC');
    }
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(1));
    } catch {
      // full
    }
    const notReady = await waitFor(async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    }, 5000);
    expect(notReady.body.error.message).toContain(media);
    expect(notReady.body.error.message).toMatch(/full|not writable/);
    expectStorage503(await upload());
    expect(uploadsIn(media)).toEqual([]);

    rmSync(filler);
    await expectRecovered();
    unmountAll();
  });

  it('results that cannot be written: the task is retried, then ends as storage_unavailable without a path or a stack', async () => {
    const results = path.join(media, 'results');
    const upload = '11111111-1111-4111-8111-111111111111';
    writeFileSync(path.join(media, 'uploads', upload), await makeJpeg());
    sh('mount', '--bind', results, results);
    mounted.push(results);
    sh('mount', '-o', 'remount,ro,bind', results);
    try {
      const { id } = await app.runtime.client.enqueue('thumbnails.make', {
        anonymousOwner: true,
        args: [{ files: [{ upload, name: 'p.jpg' }], sizes: [{ width: 8, height: 8 }], format: 'original', fit: 'inside' }],
      });
      const done = await waitFor(async () => {
        const t = (await (await fetch(`${app.baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, any>;
        return ['SUCCESS', 'FAILURE'].includes(t.status) ? t : undefined;
      }, 30_000);
      expect(done.status).toBe('FAILURE');
      expect(done.error.code, JSON.stringify(done.error)).toBe('storage_unavailable');
      const text = JSON.stringify(done.error);
      expect(text).not.toContain(media);
      expect(text).not.toMatch(/\n\s+at /);
      // The web side sees it too: results are probed with uploads.
      expect((await waitFor(async () => ((await readyz()).status === 503 ? true : undefined), 5000))).toBe(true);
    } finally {
      unmountAll();
    }
    await expectRecovered();
  });

  it('an uploads directory removed under a running server is made again, never a 500', async () => {
    rmSync(path.join(media, 'uploads'), { recursive: true, force: true });
    const first = await upload();
    expect([202, 503], first?.body).toContain(first?.status);
    const second = await upload();
    expect(second?.status, second?.body).toBe(202);
  });
});
