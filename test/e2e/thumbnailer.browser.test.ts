// The Thumbnailer in a real headless Chromium against a real seler (web + worker, real Redis).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEIC_IMAGE, makeJpeg, makePng, PDF_BYTES, truncated } from '../../src/thumbnails/test-images.js';
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
  // Named after the upload, not only its first file.
  expect((await download).suggestedFilename()).toBe('sunset and 1 more.zip');
  await (await download).saveAs(file);
  const entries = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort();
  expect(entries).toEqual(['logo.png', 'logo_128x128.png', 'sunset.jpg', 'sunset_128x128.jpg']);
  execFileSync('unzip', ['-tq', file]);
  expect(pageErrors).toEqual([]);
}, 60_000);

it('refuses files whose first bytes are not an image before uploading, naming each', async () => {
  const page = await browser.newPage();
  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') posts.push(r.url());
  });
  await page.goto(app.baseUrl + '/');
  // Names and types that claim an image, bytes that are not one: SVG markup, a PDF, a HEIC.
  await page.getByTestId('file-input').setInputFiles([
    { name: 'sneaky.png', mimeType: 'image/png', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>') },
    { name: 'invoice.jpg', mimeType: 'image/jpeg', buffer: PDF_BYTES },
    { name: 'phone.heic', mimeType: 'image/heic', buffer: HEIC_IMAGE },
    { name: 'good.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg({ width: 40, height: 30 }) },
    // A real PNG with no extension and no type: its bytes decide.
    { name: 'scan', mimeType: '', buffer: await makePng({ width: 20, height: 20 }) },
  ]);
  await expect.poll(() => page.getByTestId('file-card').count()).toBe(2);
  const notice = page.locator('#file-notice');
  await notice.waitFor({ state: 'visible' });
  const text = (await notice.textContent()) ?? '';
  expect(text).toContain('sneaky.png is not an image');
  expect(text).toContain('invoice.jpg is not an image');
  expect(text).toContain('phone.heic is HEIC');
  expect(text).not.toContain('good.jpg');
  expect(await page.locator('.file-name').allTextContents()).toEqual(['good.jpg', 'scan']);
  expect(posts).toEqual([]);
}, 30_000);

it('marks every file the server refuses, each with its own reason', async () => {
  const page = await browser.newPage();
  await page.goto(app.baseUrl + '/');
  // JPEG magic bytes, so the page lets them through; only the server can tell they are cut short.
  const whole = await makeJpeg({ width: 200, height: 150 });
  await page.getByTestId('file-input').setInputFiles([
    { name: 'cut-one.jpg', mimeType: 'image/jpeg', buffer: truncated(whole) },
    { name: 'fine.jpg', mimeType: 'image/jpeg', buffer: whole },
    { name: 'cut-two.jpg', mimeType: 'image/jpeg', buffer: truncated(whole, 0.3) },
  ]);
  await expect.poll(() => page.getByTestId('file-card').count()).toBe(3);
  await page.getByTestId('submit').click();
  const error = page.getByTestId('error');
  await error.waitFor({ state: 'visible', timeout: 15_000 });
  expect(await page.locator('#error-title').textContent()).toBe('2 files refused');
  const marked = page.locator('.file-card.has-error .file-name');
  await expect.poll(() => marked.allTextContents()).toEqual(['cut-one.jpg', 'cut-two.jpg']);
  for (const line of await page.locator('.file-card.has-error .file-error').allTextContents()) expect(line).toMatch(/JPEG image is (corrupt|incomplete)/);
}, 30_000);

it('sends quality and the crop position for cover', async () => {
  const page = await browser.newPage();
  await page.goto(app.baseUrl + '/');
  await page.getByTestId('file-input').setInputFiles([{ name: 'wide.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg({ width: 300, height: 100 }) }]);
  await expect.poll(() => page.getByTestId('file-card').count()).toBe(1);
  expect(await page.locator('#position-field').isHidden()).toBe(true);
  await page.getByTestId('quality').fill('101');
  await expect.poll(() => page.getByTestId('submit').isDisabled()).toBe(true);
  await page.getByTestId('quality').fill('40');
  await page.locator('.fit-option', { hasText: 'Cover' }).click();
  await page.locator('#position-field').waitFor({ state: 'visible' });
  await page.getByTestId('position').selectOption('attention');
  await page.getByTestId('archive-name').fill('  Trip / "day 1"  ');
  const accepted = page.waitForResponse((r) => r.url().endsWith('/api/v1/thumbnails') && r.request().method() === 'POST');
  await page.getByTestId('submit').click();
  const { id } = (await (await accepted).json()) as { id: string };
  await page.locator('[data-testid="status"][data-status="SUCCESS"]').waitFor({ timeout: 20_000 });
  const task = await app.runtime.client.getTask(id);
  expect(task?.args[0]).toMatchObject({ fit: 'cover', quality: 40, position: 'attention', archiveName: 'Trip _ _day 1_.zip' });
}, 30_000);
