import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { mediaPaths } from './storage.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ web: false, env: { SELER_MEDIA_TTL: '3600' } });
});
afterAll(async () => app?.close());

it('thumbnails.cleanup removes uploads and results past the retention and keeps the rest', async () => {
  const media = mediaPaths(app.config.mediaDir);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  writeFileSync(path.join(media.uploads, 'old-upload'), Buffer.alloc(1000));
  writeFileSync(path.join(media.uploads, 'new-upload'), Buffer.alloc(10));
  mkdirSync(path.join(media.results, 'old-task'));
  writeFileSync(path.join(media.results, 'old-task', 'archive.zip'), Buffer.alloc(500));
  mkdirSync(path.join(media.results, 'new-task'));
  utimesSync(path.join(media.uploads, 'old-upload'), twoHoursAgo, twoHoursAgo);
  utimesSync(path.join(media.results, 'old-task'), twoHoursAgo, twoHoursAgo);

  const { id } = await app.runtime.client.enqueue('thumbnails.cleanup');
  const view = await waitFor(async () => {
    const v = await app.runtime.client.getTask(id);
    return v?.status === 'SUCCESS' ? v : undefined;
  });
  expect(view.result).toEqual({ removed: 2, bytes: 1500 });
  expect(readdirSync(media.uploads)).toEqual(['new-upload']);
  expect(readdirSync(media.results)).toEqual(['new-task']);
});
