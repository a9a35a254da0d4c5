// One contract, two stores: the local directory and S3 on a real server (OpenStack Swift's s3api,
// started for the run by test/helpers/s3.ts). The same assertions hold for both.
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSwift, uniqueBucket } from '../../../test/helpers/s3.js';
import { LocalObjectStore, ObjectNotFoundError, StorageUnavailableError, type ObjectStore } from './index.js';
import { S3ObjectStore } from './s3.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(store: ObjectStore, prefix: string) {
  const out = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}

function contract(name: string, open: () => Promise<{ store: ObjectStore; cleanup(): Promise<void> | void }>) {
  describe(name, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void> | void;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
    }, 120_000);
    afterAll(async () => {
      store?.close();
      await cleanup?.();
    });

    it('puts a stream and a buffer, gets them whole and by range, heads them', async () => {
      const body = Buffer.from('0123456789abcdefghij'.repeat(5000));
      const started = Date.now();
      expect(await store.put('uploads/a', Readable.from([body.subarray(0, 30_000), body.subarray(30_000)]))).toEqual({ bytes: body.length });
      expect(await store.put('results/t1/x_8x8.jpg', Buffer.from('thumb'), { contentType: 'image/jpeg' })).toEqual({ bytes: 5 });

      expect((await readAll(await store.get('uploads/a'))).equals(body)).toBe(true);
      expect(await text(await store.get('uploads/a', { start: 10, end: 19 }))).toBe('abcdefghij');
      expect(await text(await store.get('uploads/a', { start: body.length - 4 }))).toBe('ghij');
      expect(await text(await store.get('results/t1/x_8x8.jpg'))).toBe('thumb');

      const head = await store.head('uploads/a');
      expect(head).toMatchObject({ key: 'uploads/a', bytes: body.length });
      expect(Math.abs(head!.lastModified.getTime() - started)).toBeLessThan(60_000);
      expect(await store.head('uploads/none')).toBeUndefined();
    });

    it('a missing object is ObjectNotFoundError on get', async () => {
      await expect(store.get('uploads/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get('results/nothing/here.jpg')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('puts a file, lists by prefix with sizes and ages, deletes many (missing keys too)', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'seler-store-'));
      try {
        const file = path.join(dir, 'f');
        writeFileSync(file, Buffer.alloc(1234, 7));
        expect(await store.putFile('results/t2/one.png', file)).toEqual({ bytes: 1234 });
        expect(existsSync(file)).toBe(true);
        await store.put('results/t2/two.png', Buffer.from('22'));
        await store.put('results/t3/three.png', Buffer.from('333'));
        await store.put('results-not/x', Buffer.from('no'));

        const listed = await listAll(store, 'results/');
        const mine = listed.filter((o) => /^results\/t[23]\//.test(o.key));
        expect(mine.map((o) => [o.key, o.bytes])).toEqual([
          ['results/t2/one.png', 1234],
          ['results/t2/two.png', 2],
          ['results/t3/three.png', 3],
        ]);
        expect(listed.some((o) => o.key.startsWith('results-not'))).toBe(false);
        for (const o of mine) expect(o.lastModified).toBeInstanceOf(Date);
        expect((await listAll(store, 'results/t2/')).map((o) => o.key)).toEqual(['results/t2/one.png', 'results/t2/two.png']);

        await store.deleteMany(['results/t2/one.png', 'results/t2/two.png', 'results/t2/never-was.png']);
        expect(await listAll(store, 'results/t2/')).toEqual([]);
        expect(await store.head('results/t3/three.png')).toBeDefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('deletes more than one batch of keys', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `results/many/${String(i).padStart(4, '0')}`);
      const queue = [...keys];
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let k = queue.shift(); k; k = queue.shift()) await store.put(k, Buffer.from(k));
      }));
      expect((await listAll(store, 'results/many/')).length).toBe(25);
      await store.deleteMany(keys);
      expect(await listAll(store, 'results/many/')).toEqual([]);
    }, 60_000);

    it('a failing source stores nothing, and the error is the source’s', async () => {
      const broken = new Readable({ read() {} });
      broken.push(Buffer.alloc(100_000, 1));
      setTimeout(() => broken.destroy(new Error('client went away')), 20);
      await expect(store.put('uploads/broken', broken)).rejects.toThrow('client went away');
      expect(await store.head('uploads/broken')).toBeUndefined();
    });

    it('a meter that refuses ends the put and stores nothing', async () => {
      let seen = 0;
      const meter = (n: number) => {
        seen += n;
        if (seen > 50_000) throw new Error('over budget');
      };
      await expect(store.put('uploads/metered', Readable.from([Buffer.alloc(40_000), Buffer.alloc(40_000)]), { meter })).rejects.toThrow('over budget');
      expect(await store.head('uploads/metered')).toBeUndefined();
    });

    it('refuses keys that could escape or hide', async () => {
      for (const key of ['../x', 'uploads/../../etc', '/abs', 'a//b', 'uploads/.hidden', 'a\\b', 'a/\u0000']) {
        await expect(store.put(key, Buffer.from('x')), key).rejects.toThrow(/invalid object key/);
      }
      expect(() => store.list('uploads')).not.toThrow(); // an async iterable: the check runs when iterated
      await expect(listAll(store, 'uploads')).rejects.toThrow(/must end with/);
    });

    it('is ready', async () => {
      await store.ready();
    });
  });
}

contract('the local directory store', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-local-store-'));
  return { store: new LocalObjectStore(dir, { probeDirs: ['uploads', 'results'] }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

contract('the S3 store (on Swift)', async () => {
  const swift = await testSwift();
  const bucket = uniqueBucket('store');
  await swift.createBucket(bucket);
  const store = new S3ObjectStore({
    kind: 's3',
    bucket,
    prefix: 'seler/',
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  }, { deleteBatch: 10 }); // several batches in the test without a thousand PUTs
  return { store, cleanup: () => {} };
});

describe('store specifics', () => {
  it('local: temporary files never show in listings; emptied directories go, except the top-level ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seler-local-store-'));
    try {
      const store = new LocalObjectStore(dir);
      await store.put('results/task/a.jpg', Buffer.from('a'));
      writeFileSync(path.join(dir, 'results', 'task', '.a.jpg.123.tmp'), 'partial');
      expect((await listAll(store, '')).map((o) => o.key)).toEqual(['results/task/a.jpg']);
      expect(store.localPath('results/task/a.jpg')).toBe(path.join(dir, 'results', 'task', 'a.jpg'));
      rmSync(path.join(dir, 'results', 'task', '.a.jpg.123.tmp'));
      await store.put('results/other/deep/b.jpg', Buffer.from('b'));
      await store.deleteMany(['results/task/a.jpg', 'results/other/deep/b.jpg']);
      expect(readdirSync(dir)).toEqual(['results']); // top-level directories stay
      expect(readdirSync(path.join(dir, 'results'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('S3: a presigned URL serves the object with the headers asked for, and only that object', async () => {
    const swift = await testSwift();
    const bucket = uniqueBucket('presign');
    await swift.createBucket(bucket);
    const store = new S3ObjectStore({ kind: 's3', bucket, prefix: '', endpoint: swift.endpoint, region: swift.region, forcePathStyle: true, credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey } });
    try {
      await store.put('results/t/x.png', Buffer.from('png bytes'));
      const url = await store.presignedGetUrl('results/t/x.png', { expiresInSeconds: 60, contentType: 'image/png', contentDisposition: 'inline; filename="x.png"' });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-disposition')).toBe('inline; filename="x.png"');
      expect(await res.text()).toBe('png bytes');
      expect((await fetch(url.replace('x.png', 'y.png'))).status).toBe(403);
    } finally {
      store.close();
    }
  });

  it('S3: a wrong secret, a missing bucket and a dead endpoint are StorageUnavailableError, and ready() says why', async () => {
    const swift = await testSwift();
    const base = { kind: 's3' as const, prefix: '', endpoint: swift.endpoint, region: swift.region, forcePathStyle: true };
    const bucket = uniqueBucket('refuse');
    await swift.createBucket(bucket);
    const wrong = new S3ObjectStore({ ...base, bucket, credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const missing = new S3ObjectStore({ ...base, bucket: uniqueBucket('none'), credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey } });
    const dead = new S3ObjectStore({ ...base, bucket, endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      await expect(wrong.put('uploads/x', Buffer.from('x'))).rejects.toMatchObject({ name: 'StorageUnavailableError', reason: 'refused' });
      await expect(wrong.ready()).rejects.toThrow(/not usable: access refused/);
      await expect(missing.put('uploads/x', Buffer.from('x'))).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(missing.ready()).rejects.toThrow(/bucket does not exist/);
      await expect(dead.put('uploads/x', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ name: 'StorageUnavailableError', reason: 'unreachable' });
      await expect(dead.ready()).rejects.toThrow(/not usable/);
    } finally {
      wrong.close();
      missing.close();
      dead.close();
    }
  }, 60_000);
});
