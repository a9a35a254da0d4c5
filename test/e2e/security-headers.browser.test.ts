// Security headers on every kind of response, and the pages still working under their CSP in a real
// headless Chromium: the Thumbnailer page, Swagger UI at /docs, the admin's log-in and console.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/admin/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { closeBrowser, collectPageErrors, launchBrowser, logInToAdmin } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({ worker: false });
  await createUser(app.runtime.db!, { username: 'boss', password: 'correct horse battery staple', isStaff: true, isSuperuser: true });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await closeBrowser(browser);
  await app?.close();
}, 90_000);

const csp = (headers: Headers) => Object.fromEntries((headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k!, v]));

describe('security headers', () => {
  it.each([
    ['/', 'the Thumbnailer page'],
    ['/docs', 'Swagger UI'],
    ['/docs/static/index.html', 'Swagger UI’s page'],
    ['/docs/json', 'the OpenAPI document'],
    ['/api/v1/config', 'API JSON'],
    ['/api/v1/tasks/nope', 'an API error'],
    ['/no/such/page', 'a 404'],
    ['/healthz', 'a health check'],
    ['/admin/login', 'the admin’s log-in page'],
  ])('%s (%s) forbids framing and sniffing, limits the referrer and sends a CSP without inline scripts', async (url) => {
    const res = await fetch(`${app.baseUrl}${url}`, { redirect: 'manual' });
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toMatch(/^(same-origin|no-referrer)$/);
    const policy = csp(res.headers);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    const scripts = policy['script-src'] ?? policy['default-src'];
    expect(scripts).toBeDefined();
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(scripts).not.toContain("'unsafe-eval'");
    expect(policy['object-src'] ?? policy['default-src']).toEqual(expect.arrayContaining([expect.stringMatching(/'none'|'self'/)]));
    expect(policy['base-uri']).toBeDefined();
  });

  it('serves an icon where browsers ask for one, and the log-in page names it', async () => {
    for (const url of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(`${app.baseUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(await res.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
    expect(await (await fetch(`${app.baseUrl}/admin/login`)).text()).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
  });

  it('keeps the admin pages’ own, stricter CSP', async () => {
    const res = await fetch(`${app.baseUrl}/admin/login`);
    expect(csp(res.headers)['default-src']).toEqual(["'none'"]);
    expect(res.headers.get('content-security-policy')?.match(/content-security-policy/gi)).toBeNull();
  });

  it('sends the headers on an event stream too', async () => {
    const controller = new AbortController();
    const res = await fetch(`${app.baseUrl}/api/v1/monitor/events`, { signal: controller.signal });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    controller.abort();
  });
});

/** Opens `url` recording every CSP violation the page reports (as an event and on the console). */
async function openWatched(url: string): Promise<{ page: Page; violations: string[]; errors: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  await page.exposeFunction('__reportViolation', (v: string) => violations.push(v));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => window.__reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));",
  );
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
  });
  const errors = collectPageErrors(page);
  await page.goto(`${app.baseUrl}${url}`);
  return { page, violations, errors };
}

describe('pages under their CSP in Chromium', () => {
  it('the Thumbnailer page renders its form and takes a file with no CSP violation', async () => {
    const { page, violations, errors } = await openWatched('/');
    await page.locator('#form').waitFor();
    await expect.poll(() => page.getByTestId('file-input').count()).toBe(1);
    await expect.poll(() => page.getByTestId('submit').isVisible()).toBe(true);
    // Choosing a file makes a preview from a blob: URL.
    const { makePng } = await import('../../src/thumbnails/test-images.js');
    await page.getByTestId('file-input').setInputFiles([{ name: 'a.png', mimeType: 'image/png', buffer: await makePng({ width: 64, height: 64 }) }]);
    await expect.poll(() => page.getByTestId('file-card').count()).toBe(1);
    await page.waitForTimeout(300);
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Swagger UI at /docs renders its operations with no CSP violation', async () => {
    const { page, violations, errors } = await openWatched('/docs');
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    // Opening an operation renders its schema (more inline styling).
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    await page.waitForTimeout(300);
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the admin log-in and console still work under their own CSP', async () => {
    const { page, violations, errors } = await openWatched('/admin/login');
    await logInToAdmin(page, app.baseUrl, 'boss', 'correct horse battery staple');
    await page.waitForTimeout(300);
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
