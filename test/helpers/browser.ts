// Headless Debian Chromium for the browser tests (never a downloaded browser), and the admin log-in.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './cli.js';

const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(path.join(repoRoot, 'dist', 'web', 'index.html'))) throw new Error('the front end is not built: run "npm run build" (npm test does it)');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the networking flags Chromium tries to reach the internet and stalls.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Collects uncaught page errors, console errors and failed responses (with their URL), so a test can
 * assert there were none. `expected` lists URL parts whose error answers the test provokes itself.
 */
export function collectPageErrors(page: Page, expected: string[] = []): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // The response listener reports these with their URL.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !expected.some((part) => res.url().includes(part))) errors.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return errors;
}

/** Logs in through the real log-in form and waits for the console to show. */
export async function logInToAdmin(page: Page, baseUrl: string, username: string, password: string, next = '/admin/'): Promise<void> {
  await page.goto(`${baseUrl}/admin/login?next=${encodeURIComponent(next)}`);
  await page.fill('#id_username', username);
  await page.fill('#id_password', password);
  await Promise.all([page.waitForURL((url) => url.pathname === new URL(next, baseUrl).pathname), page.click('button[type=submit]')]);
  await page.locator('main#main h1').waitFor();
}

/** With SELER_SCREENSHOTS=1, saves the page as docs/screenshots/<name> (the README's pictures); otherwise nothing. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.SELER_SCREENSHOTS !== '1') return;
  const dir = path.join(repoRoot, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.waitForTimeout(300); // let the last live update settle
  await page.screenshot({ path: path.join(dir, name) });
}

/**
 * Closes the browser, waiting at most `timeoutMs`: a Chromium that does not answer its close (seen once
 * in CI, holding a file's teardown past its timeout) is left to exit with this test process's pipe.
 */
export async function closeBrowser(browser: Browser | undefined, timeoutMs = 20_000): Promise<void> {
  if (!browser) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([browser.close().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
