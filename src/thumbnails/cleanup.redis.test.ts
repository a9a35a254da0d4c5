import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ web: false, env: { SELER_MEDIA_TTL: '3600' } });
});
afterAll(async () => app?.close());

// Ages are the objects' own (a file's mtime on the local store): a task's results go together once
// the newest of them is past the retention, and an emptied task directory goes with them.
it('thumbnails.cleanup removes uploads and results past the retention and keeps the rest', async () => {
  const media = { uploads: path.join(app.config.mediaDir, 'uploads'), results: path.join(app.config.mediaDir, 'results') };
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  writeFileSync(path.join(media.uploads, 'old-upload'), Buffer.alloc(1000));
  writeFileSync(path.join(media.uploads, 'new-upload'), Buffer.alloc(10));
  mkdirSync(path.join(media.results, 'old-task'));
  writeFileSync(path.join(media.results, 'old-task', 'manifest.json'), Buffer.alloc(500));
  mkdirSync(path.join(media.results, 'new-task'));
  // Half old, half new: the task is kept whole.
  mkdirSync(path.join(media.results, 'mixed-task'));
  writeFileSync(path.join(media.results, 'mixed-task', 'a_8x8.jpg'), Buffer.alloc(7));
  writeFileSync(path.join(media.results, 'mixed-task', 'manifest.json'), Buffer.alloc(7));
  utimesSync(path.join(media.uploads, 'old-upload'), twoHoursAgo, twoHoursAgo);
  utimesSync(path.join(media.results, 'old-task', 'manifest.json'), twoHoursAgo, twoHoursAgo);
  utimesSync(path.join(media.results, 'mixed-task', 'a_8x8.jpg'), twoHoursAgo, twoHoursAgo);

  const { id } = await app.runtime.client.enqueue('thumbnails.cleanup');
  const view = await waitFor(async () => {
    const v = await app.runtime.client.getTask(id);
    return v?.status === 'SUCCESS' ? v : undefined;
  });
  expect(view.result).toEqual({ removed: 2, bytes: 1500 });
  expect(readdirSync(media.uploads)).toEqual(['new-upload']);
  expect(readdirSync(media.results).sort()).toEqual(['mixed-task', 'new-task']);
  expect(readdirSync(path.join(media.results, 'mixed-task')).sort()).toEqual(['a_8x8.jpg', 'manifest.json']);
});

// The store and retention reach the task through its worker (ctx.resources), not through module state:
// with two seler runtimes in one process, each worker's tasks use their own runtime's store (before, the
// runtime opened last configured the thumbnail tasks of both).
it('two runtimes in one process: each worker cleans its own store', async () => {
  const other = await startTestApp({ web: false, env: { SELER_MEDIA_TTL: '3600' } });
  try {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const oldUpload = (config: TestApp['config']) => {
      const file = path.join(config.mediaDir, 'uploads', 'old-upload');
      writeFileSync(file, Buffer.alloc(100));
      utimesSync(file, twoHoursAgo, twoHoursAgo);
      return path.join(config.mediaDir, 'uploads');
    };
    const mine = oldUpload(app.config);
    const theirs = oldUpload(other.config);
    const { id } = await app.runtime.client.enqueue('thumbnails.cleanup');
    const view = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v?.status === 'SUCCESS' || v?.status === 'FAILURE' ? v : undefined;
    });
    expect(view.status, JSON.stringify(view.error)).toBe('SUCCESS');
    expect(readdirSync(mine)).not.toContain('old-upload');
    expect(readdirSync(theirs)).toContain('old-upload');
  } finally {
    await other.close();
  }
});

it('cleanup by age works the same on S3 (the real Swift): ages from the listing, a task’s results together', async () => {
  const { testSwift, uniqueBucket } = await import('../../test/helpers/s3.js');
  const { S3ObjectStore } = await import('../platform/storage/s3.js');
  const { cleanupMedia } = await import('./storage.js');
  const swift = await testSwift();
  const bucket = uniqueBucket('cleanup');
  await swift.createBucket(bucket);
  const store = new S3ObjectStore({
    kind: 's3',
    bucket,
    prefix: 'x/',
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  });
  try {
    await store.put('uploads/11111111-1111-4111-8111-111111111111', Buffer.alloc(1000));
    await store.put('results/t1/a_8x8.jpg', Buffer.alloc(20));
    await store.put('results/t1/manifest.json', Buffer.alloc(30));
    // Objects can't be back-dated on S3: the clock is moved instead. One hour on: nothing is past a two-hour retention.
    expect(await cleanupMedia(store, 7200, Date.now() + 3600_000)).toEqual({ removed: 0, bytes: 0 });
    // Two hours and a minute on: everything is, and goes.
    const later = Date.now() + 7260_000;
    expect(await cleanupMedia(store, 7200, later)).toEqual({ removed: 3, bytes: 1050 });
    const left = [];
    for await (const o of store.list('')) left.push(o.key);
    expect(left.filter((k) => !k.startsWith('probe/'))).toEqual([]);
  } finally {
    store.close();
  }
}, 120_000);
