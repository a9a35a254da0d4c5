// Object storage for real: web and worker as separate processes with different data directories
// (nothing shared but Redis and S3), on the run's Swift. Then, in-process: presigned redirects, a
// clear 404 for objects that are gone, and S3 going down (503 on upload, accepted work not lost).
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng } from '../../src/thumbnails/test-images.js';
import { startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { spawnCli } from '../helpers/cli.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { s3Client, testSwift, uniqueBucket } from '../helpers/s3.js';
import { freePort, type Swift } from '../helpers/swift.js';

let swift: Swift;
let s3: S3Client;
const temp: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-s3-e2e-'));
  temp.push(dir);
  return dir;
};

beforeAll(async () => {
  swift = await testSwift();
  s3 = s3Client(swift);
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  s3?.destroy();
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

function s3Env(bucket: string, endpoint = swift.endpoint): Record<string, string> {
  return {
    SELER_STORAGE: `s3://${bucket}/seler`,
    SELER_S3_ENDPOINT: endpoint,
    SELER_S3_REGION: swift.region,
    AWS_ACCESS_KEY_ID: swift.accessKeyId,
    AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
  };
}

async function keysIn(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

function upload(baseUrl: string, files: { name: string; data: Buffer }[], fields: Record<string, string> = {}) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const f of files) body.append('images', new Blob([f.data]), f.name);
  return fetch(`${baseUrl}/api/v1/thumbnails`, { method: 'POST', body });
}

const finished = (baseUrl: string, id: string, timeoutMs = 60_000) =>
  waitFor(async () => {
    const task = (await (await fetch(`${baseUrl}/api/v1/tasks/${id}`)).json()) as Record<string, any>;
    return ['SUCCESS', 'FAILURE', 'REVOKED'].includes(task.status) ? task : undefined;
  }, timeoutMs, 100);

/** The zip's entries, extracted with unzip (which checks every CRC). */
function unzipAll(zip: Buffer): Map<string, Buffer> {
  const dir = tempDir();
  const file = path.join(dir, 'a.zip');
  writeFileSync(file, zip);
  expect(execFileSync('unzip', ['-t', file]).toString()).toContain('No errors detected');
  execFileSync('unzip', ['-q', file, '-d', path.join(dir, 'out')]);
  return new Map(readdirSync(path.join(dir, 'out')).map((name) => [name, readFileSync(path.join(dir, 'out', name))]));
}

describe('web and worker on two hosts (two data directories), sharing only Redis and S3', () => {
  it('an upload to the web process is made by the worker process and downloads as a byte-correct zip', async () => {
    const bucket = uniqueBucket('e2e');
    await swift.createBucket(bucket);
    const common = { REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: uniquePrefix('s3e2e'), SELER_LOG_LEVEL: 'info', ...s3Env(bucket) };
    const webDir = tempDir();
    const workerDir = tempDir();
    const port = await freePort();
    const web = spawnCli(['web'], { env: { ...common, SELER_DATA_DIR: webDir, PORT: String(port) } });
    const worker = spawnCli(['worker', '-Q', 'thumbnails', '-c', '2'], { env: { ...common, SELER_DATA_DIR: workerDir } });
    children.push(web, worker);
    let logs = '';
    for (const c of [web, worker]) {
      c.stdout!.on('data', (d) => (logs += d));
      c.stderr!.on('data', (d) => (logs += d));
    }
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 60_000, 200).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logs}`);
    });
    await waitFor(async () => logs.includes('worker ready'), 60_000, 100);

    const photo = await makeJpeg({ width: 640, height: 480 });
    const logo = await makePng({ width: 300, height: 200, alpha: true });
    const res = await upload(base, [
      { name: 'photo.jpg', data: photo },
      { name: 'logo.png', data: logo },
    ], { sizes: '64x64,128x128' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const task = await finished(base, id);
    expect(task.status, JSON.stringify(task)).toBe('SUCCESS');

    const zip = await fetch(base + task.result.archiveUrl);
    expect(zip.status).toBe(200);
    const bytes = Buffer.from(await zip.arrayBuffer());
    expect(Number(zip.headers.get('content-length'))).toBe(bytes.length);
    expect(task.result.archiveBytes).toBe(bytes.length);
    const entries = unzipAll(bytes);
    expect([...entries.keys()].sort()).toEqual(['logo.png', 'logo_128x128.png', 'logo_64x64.png', 'photo.jpg', 'photo_128x128.jpg', 'photo_64x64.jpg']);
    expect(entries.get('photo.jpg')!.equals(photo)).toBe(true);
    expect(entries.get('logo.png')!.equals(logo)).toBe(true);
    for (const file of task.result.files as { name: string; url: string; bytes: number }[]) {
      const one = Buffer.from(await (await fetch(base + file.url)).arrayBuffer());
      expect(one.length).toBe(file.bytes);
      expect(entries.get(file.name)!.equals(one), file.name).toBe(true);
    }

    // Everything lives in the bucket; neither data directory holds an upload, a result or a scratch copy.
    const keys = await keysIn(bucket);
    expect(keys.filter((k) => k.startsWith('seler/uploads/'))).toHaveLength(2);
    expect(keys.filter((k) => k.startsWith(`seler/results/${id}/`))).toHaveLength(5); // 4 thumbnails + the manifest
    for (const dir of [webDir, workerDir]) {
      expect(readdirSync(dir).includes('media') ? readdirSync(path.join(dir, 'media')) : []).toEqual([]);
      expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    }
    // The job names object keys only, never a path of either host.
    const payload = JSON.stringify(task);
    expect(payload).not.toContain(webDir);
    expect(payload).not.toContain(workerDir);

    web.kill('SIGTERM');
    worker.kill('SIGTERM');
  }, 180_000);
});

/** A TCP proxy in front of Swift that can be cut and restored (S3 "down" without touching the shared server). */
async function cuttableProxy(target: URL): Promise<{ endpoint: string; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = new Socket();
        sockets.add(client).add(upstream);
        upstream.connect(Number(target.port), target.hostname);
        client.pipe(upstream).pipe(client);
        const drop = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await up();
  return { endpoint: `http://127.0.0.1:${port}`, down, up, close: down };
}

describe('in one process on S3', () => {
  let app: TestApp;
  let bucket: string;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  beforeAll(async () => {
    bucket = uniqueBucket('inproc');
    await swift.createBucket(bucket);
    proxy = await cuttableProxy(new URL(swift.endpoint));
    app = await startTestApp({ env: { ...s3Env(bucket, proxy.endpoint), SELER_STORAGE_REDIRECT: 'presigned', SELER_STORAGE_URL_TTL: '60', SELER_UPLOAD_RATE: 'off' }, worker: false });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('thumbnails redirect to a short-lived presigned URL; objects that are gone are a clear 404, never a redirect to nothing', async () => {
    const worker = await import('../../src/app.js').then((m) => m.startWorkerRole(app.runtime, { queues: ['thumbnails'], concurrency: 1 }));
    try {
      const res = await upload(app.baseUrl, [{ name: 'cat.jpg', data: await makeJpeg({ width: 200, height: 100 }) }]);
      expect(res.status).toBe(202);
      const task = await finished(app.baseUrl, ((await res.json()) as { id: string }).id);
      expect(task.status).toBe('SUCCESS');
      const file = task.result.files[0] as { name: string; url: string; bytes: number };

      const redirect = await fetch(app.baseUrl + file.url, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const location = redirect.headers.get('location')!;
      expect(location).toContain('X-Amz-Expires=60');
      expect(redirect.headers.get('cache-control')).toBe('private, no-store');
      const direct = await fetch(location);
      expect(direct.status).toBe(200);
      expect(direct.headers.get('content-type')).toBe('image/jpeg');
      expect(direct.headers.get('content-disposition')).toContain('inline; filename="cat_128x128.jpg"');
      expect((await direct.arrayBuffer()).byteLength).toBe(file.bytes);
      // The zip is streamed by seler itself.
      const zip = await fetch(app.baseUrl + task.result.archiveUrl, { redirect: 'manual' });
      expect(zip.status).toBe(200);
      expect(unzipAll(Buffer.from(await zip.arrayBuffer())).size).toBe(2);

      // The thumbnail's object removed: 404 file_gone as JSON; the original removed: the zip too.
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `seler/results/${task.id}/${file.name}` }));
      const gone = await fetch(app.baseUrl + file.url, { redirect: 'manual' });
      expect(gone.status).toBe(404);
      expect(gone.headers.get('content-type')).toContain('application/json');
      expect(((await gone.json()) as any).error).toMatchObject({ code: 'file_gone', message: expect.stringMatching(/cleaned up/) });
      const original = (await keysIn(bucket)).find((k) => k.startsWith('seler/uploads/'))!;
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: original }));
      const zipGone = await fetch(app.baseUrl + task.result.archiveUrl);
      expect(zipGone.status).toBe(404);
      expect(((await zipGone.json()) as any).error.code).toBe('file_gone');
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('S3 down: uploads get 503 storage_unavailable (no crash), /readyz says why; work accepted before is retried and not lost', async () => {
    // Accepted while S3 is up, with no worker running yet.
    const accepted = await upload(app.baseUrl, [{ name: 'before.jpg', data: await makeJpeg({ width: 120, height: 90 }) }]);
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };

    await proxy.down();
    // The probe's answer may still be cached as fine: the upload itself then fails, as cleanly.
    for (let i = 0; i < 2; i++) {
      const refused = await upload(app.baseUrl, [{ name: 'during.jpg', data: await makeJpeg() }]);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const { error } = (await refused.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('storage_unavailable');
      expect(error.message).not.toContain(bucket);
    }
    const ready = await waitFor(async () => {
      const r = await fetch(`${app.baseUrl}/readyz`);
      return r.status === 503 ? ((await r.json()) as any) : undefined;
    }, 10_000);
    expect(ready.error.message).toMatch(/object store .* is not usable/);
    expect(readdirSync(path.join(app.dataDir, 'tmp'))).toEqual([]); // no scratch copy left behind

    // The worker meets the outage: the task is retried, and succeeds once S3 is back.
    const worker = await import('../../src/app.js').then((m) => m.startWorkerRole(app.runtime, { queues: ['thumbnails'], concurrency: 1 }));
    try {
      await waitFor(async () => {
        const t = (await (await fetch(`${app.baseUrl}/api/v1/tasks/${id}`)).json()) as { status: string };
        return t.status === 'RETRY' ? t : undefined;
      }, 30_000, 50);
      await proxy.up();
      const task = await finished(app.baseUrl, id);
      expect(task.status, JSON.stringify(task)).toBe('SUCCESS');
      const zip = await fetch(app.baseUrl + task.result.archiveUrl);
      expect(unzipAll(Buffer.from(await zip.arrayBuffer())).has('before.jpg')).toBe(true);
      // Readiness re-probes the store on its own interval: it says ready again within a few seconds.
      await waitFor(async () => (await fetch(`${app.baseUrl}/readyz`)).status === 200, 15_000, 200);
    } finally {
      await worker.close();
    }
  }, 120_000);
});
