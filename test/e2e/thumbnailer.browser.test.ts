// The Thumbnailer in a real headless Chromium against a real seler (web + worker, real Redis).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeJpeg, makePng } from '../../src/thumbnails/test-images.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;
const downloads = mkdtempSync(path.join(tmpdir(), 'seler-downloads-'));

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(downloads, { recursive: true, force: true });
});

it('adds two images, submits, shows progress and previews, and downloads a valid zip', async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(app.baseUrl + '/');

  await page.getByTestId('file-input').setInputFiles([
    { name: 'sunset.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg({ width: 640, height: 480 }) },
    { name: 'logo.png', mimeType: 'image/png', buffer: await makePng({ width: 300, height: 300, alpha: true }) },
  ]);
  await expect.poll(() => page.getByTestId('file-card').count()).toBe(2);

  const download = page.waitForEvent('download', { timeout: 20_000 });
  await page.getByTestId('submit').click();

  // The status shows the Celery state as the task moves, and ends in SUCCESS.
  await page.locator('[data-testid="status"][data-status="SUCCESS"]').waitFor({ timeout: 20_000 });
  for (const bar of await page.getByTestId('upload-progress').all()) {
    const [value, max] = await bar.evaluate((el) => [(el as unknown as { value: number }).value, (el as unknown as { max: number }).max]);
    expect(value).toBe(max);
  }

  const thumbnails = page.getByTestId('thumbnail');
  await expect.poll(() => thumbnails.count()).toBe(2);
  for (const img of await thumbnails.all()) {
    await expect.poll(() => img.evaluate((el) => { const img = el as unknown as { complete: boolean; naturalWidth: number }; return img.complete && img.naturalWidth; })).toBeGreaterThan(0);
  }
  const href = await page.getByTestId('download').getAttribute('href');
  expect(href).toMatch(/^\/api\/v1\/tasks\/[\w-]+\/archive$/);

  // The zip downloads by itself, as in the lab, and holds both originals and both thumbnails.
  const file = path.join(downloads, 'thumbnails.zip');
  await (await download).saveAs(file);
  const entries = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort();
  expect(entries).toEqual(['logo.png', 'logo_128x128.png', 'sunset.jpg', 'sunset_128x128.jpg']);
  execFileSync('unzip', ['-tq', file]);
  expect(pageErrors).toEqual([]);
}, 60_000);

it('shows the server’s error for a file it refuses', async () => {
  const page = await browser.newPage();
  await page.goto(app.baseUrl + '/');
  // A file whose name and type claim an image but whose bytes are SVG: only the server can tell.
  await page.getByTestId('file-input').setInputFiles([
    { name: 'sneaky.png', mimeType: 'image/png', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>') },
  ]);
  await page.getByTestId('submit').click();
  const error = page.getByTestId('error');
  await error.waitFor({ state: 'visible', timeout: 15_000 });
  expect(await error.textContent()).toContain('sneaky.png');
}, 30_000);
