// The OpenAPI document is complete enough to drive the API from /docs: sections in a user's order,
// a way to authenticate, request bodies (a file picker for uploads), a described response for
// every status; and an upload made from Swagger UI's "Try it out" in headless Chromium works.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/thumbnails/test-images.js';
import { startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser } from '../helpers/browser.js';

interface Operation {
  tags?: string[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, { type?: string; format?: string; items?: { format?: string } }> } }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
  security?: unknown[];
}
interface OpenApi {
  tags: { name: string; description: string }[];
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
  paths: Record<string, Record<string, Operation>>;
}

let app: TestApp;
let browser: Browser;
let spec: OpenApi;

beforeAll(async () => {
  app = await startTestApp();
  spec = (await (await fetch(`${app.baseUrl}/docs/json`)).json()) as OpenApi;
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const operations = () => Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
/** Actions that take no body by design (the URL names everything). */
const BODYLESS = /\/(logout|run|retry|promote|run-again|pause|resume)$/;
const STAFF = new Set(['monitor', 'periodic tasks', 'schedules', 'admin']);

describe('the OpenAPI document', () => {
  it('puts thumbnails and tasks first, and describes every section', () => {
    expect(spec.tags.map((t) => t.name).slice(0, 2)).toEqual(['thumbnails', 'tasks']);
    for (const tag of spec.tags) expect(tag.description.length, tag.name).toBeGreaterThan(10);
    const used = new Set(operations().flatMap(({ op }) => op.tags ?? []));
    for (const tag of used) expect(spec.tags.map((t) => t.name), `section ${tag}`).toContain(tag);
  });

  it('says how to authenticate: a bearer token, or the session cookie with its CSRF header, on every staff operation', () => {
    expect(spec.components.securitySchemes).toMatchObject({
      bearerToken: { type: 'http', scheme: 'bearer' },
      sessionCookie: { type: 'apiKey', in: 'cookie', name: 'seler_session' },
      csrfHeader: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
    });
    const staff = operations().filter(({ op }) => op.tags?.some((t) => STAFF.has(t)));
    expect(staff.length).toBeGreaterThan(30);
    for (const { path, method, op } of staff) expect(op.security, `${method} ${path}`).toEqual([{ bearerToken: [] }, { sessionCookie: [], csrfHeader: [] }]);
    expect(spec.paths['/api/v1/thumbnails']!.post!.security).toBeUndefined();
  });

  it('describes every response of every operation, and every write has a request body unless it needs none', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(50);
    for (const { path, method, op } of ops) {
      const statuses = Object.keys(op.responses);
      expect(statuses.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(op.responses)) expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
      expect(statuses.some((s) => s.startsWith('2') || s.startsWith('3')), `${method} ${path} has a success`).toBe(true);
      if (['post', 'put', 'patch'].includes(method) && !BODYLESS.test(path)) expect(op.requestBody, `${method} ${path}`).toBeDefined();
    }
  });

  it('offers a file picker for the uploads', () => {
    const upload = spec.paths['/api/v1/thumbnails']!.post!.requestBody!.content['multipart/form-data']!.schema.properties!;
    expect(upload.images).toMatchObject({ type: 'array', items: { format: 'binary' } });
    expect(Object.keys(upload)).toEqual(expect.arrayContaining(['sizes', 'format', 'fit']));
    const lab = spec.paths['/']!.post!.requestBody!.content['multipart/form-data']!.schema.properties!;
    expect(lab.image_file).toMatchObject({ type: 'string', format: 'binary' });
    expect(spec.paths['/api/v1/tasks/{id}/archive']!.get!.responses['200']!.content).toHaveProperty('application/zip');
  });
});

it('uploads an image from the docs page (Try it out) and gets 202 with the task', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = collectPageErrors(page);
  await page.goto(`${app.baseUrl}/docs`);
  const block = page.locator('#operations-thumbnails-post_api_v1_thumbnails');
  await block.waitFor({ timeout: 20_000 });
  await block.locator('.opblock-summary').click();
  await block.locator('button.try-out__btn').click();
  await block.locator('input[type=file]').first().setInputFiles({ name: 'docs.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg({ width: 320, height: 200 }) });
  await block.locator('button.execute').click();
  const status = block.locator('.responses-table.live-responses-table .response .response-col_status').first();
  await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/202/);
  const body = JSON.parse((await block.locator('.live-responses-table .response-col_description pre.microlight, .live-responses-table .response-col_description pre').first().textContent()) ?? '{}') as { id: string };
  const done = await waitFor(async () => {
    const view = await app.runtime.client.getTask(body.id);
    return view?.status === 'SUCCESS' ? view : undefined;
  }, 30_000);
  expect(done.name).toBe('thumbnails.make');
  expect(errors).toEqual([]);
  await page.close();
});
