// The admin console's frame in a real headless Chromium: log in, the home page lists what the user
// may see, navigation stays in the page, and log-out ends the session.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSuperuser, createUser } from '../../src/admin/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser, logInToAdmin } from '../helpers/browser.js';

const PASSWORD = 'browser test password 1';
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({ worker: false });
  await createSuperuser(app.runtime.db!, { username: 'root', password: PASSWORD });
  await createUser(app.runtime.db!, { username: 'viewer', password: PASSWORD, isStaff: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it('logs in, shows the console home with recent actions, and logs out', async () => {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD);
  await expect.poll(() => page.locator('main#main h1').textContent()).toBe('Site administration');
  expect(await page.locator('.bar .who').textContent()).toContain('root');
  await page.locator('.recent').getByText('None available').waitFor();

  // A console path that does not exist is answered inside the application, not by a server 404.
  await page.goto(`${app.baseUrl}/admin/no-such-page/`);
  await expect.poll(() => page.locator('main#main h1').textContent()).toBe('Page not found');

  await Promise.all([page.waitForURL(/\/admin\/login/), page.getByTestId('logout').click()]);
  const after = await page.request.get(`${app.baseUrl}/api/v1/admin/me`);
  expect(after.status()).toBe(401);
  expect(errors).toEqual([]);
});

it('shows a staff user without permissions that there is nothing for them', async () => {
  const page = await browser.newPage();
  await logInToAdmin(page, app.baseUrl, 'viewer', PASSWORD);
  await page.getByText('You don’t have permission to view or edit anything.').waitFor();
  expect(await page.locator('nav.side a').count()).toBe(0);
});
