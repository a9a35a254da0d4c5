// The admin console's frame in a real headless Chromium: log in, the home page lists what the user
// may see, navigation stays in the page, and log-out ends the session.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSuperuser, createUser } from '../../src/admin/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser, logInToAdmin } from '../helpers/browser.js';

const PASSWORD = 'browser test password 1';
/** Waits on a condition; generous for a loaded machine. */
const SOON = { timeout: 20_000 };
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

// Users, groups, API tokens and the change history, through the forms.
it('adds a group with permissions and a user in it (password rules shown next to the field), and the user sees only what the group allows', async () => {
  const page = await browser.newPage();
  const errors = collectPageErrors(page, ['/api/v1/admin/users']);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/groups/add/');
  await page.getByTestId('group-name').fill('operators');
  await page.getByTestId('permissions').locator('input[data-codename="view_periodictask"]').check();
  await page.getByTestId('permissions').locator('input[data-codename="change_periodictask"]').check();
  await page.getByTestId('save').click();
  await page.waitForURL((url) => url.pathname === '/admin/groups/');
  await page.locator('ul.messages').getByText('The group “operators” was added successfully.').waitFor();
  await page.locator('table[data-testid="groups"]').getByRole('link', { name: 'operators' }).waitFor();

  await page.goto(`${app.baseUrl}/admin/users/add/`);
  await page.getByTestId('username').fill('olga');
  await page.getByTestId('password').fill('1234567890');
  await page.getByTestId('password2').fill('1234567890');
  await page.getByTestId('groups').getByLabel('operators').check();
  await page.getByTestId('save-continue').click();
  const passwordError = page.locator('.field[data-field="password"] .field-error');
  await passwordError.waitFor();
  expect(await passwordError.textContent()).toMatch(/numeric|common/i);
  expect(new URL(page.url()).pathname).toBe('/admin/users/add/');

  await page.getByTestId('password').fill('a much better passphrase');
  await page.getByTestId('password2').fill('a much better passphrase');
  await page.getByTestId('save-continue').click();
  await page.waitForURL(/\/admin\/users\/\d+\/$/);
  await page.locator('ul.messages').getByText('The user “olga” was added successfully. You may edit it again below.').waitFor();
  expect(await page.getByTestId('groups').getByLabel('operators').isChecked()).toBe(true);
  expect(errors.filter((e) => !/ 400 /.test(e))).toEqual([]);

  // The new user sees the periodic tasks their group allows, and nothing of users or groups.
  const theirs = await browser.newPage();
  const theirErrors = collectPageErrors(theirs);
  await logInToAdmin(theirs, app.baseUrl, 'olga', 'a much better passphrase');
  expect(await theirs.locator('nav.side a').allTextContents()).toEqual(['Periodic tasks']);
  await theirs.goto(`${app.baseUrl}/admin/users/`);
  await expect.poll(() => theirs.locator('main#main h1').textContent(), SOON).toBe('Permission denied');
  expect(theirErrors).toEqual([]);
}, 60_000);

it('creates an API token shown once with a copy button, revokes it after confirmation, and records both in the change history', async () => {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/tokens/');
  await page.getByTestId('add-token').click();
  await page.getByTestId('token-name').fill('nightly script');
  await page.getByTestId('create-token').click();
  const token = await page.getByTestId('new-token').inputValue();
  expect(token.length).toBeGreaterThan(20);
  await page.getByTestId('copy-token').click();
  await page.getByTestId('token-reveal').locator('[role=status]').filter({ hasText: /Copied|Ctrl\+C/ }).waitFor();
  // The token works for scripts.
  expect((await fetch(`${app.baseUrl}/api/v1/admin/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

  await page.goto(`${app.baseUrl}/admin/tokens/`);
  const tokenRow = page.locator('table[data-testid="tokens"] tbody tr').filter({ hasText: 'nightly script' });
  await tokenRow.getByTestId('revoke').click();
  await page.getByTestId('confirm-ok').click();
  await tokenRow.getByText('revoked').waitFor();
  expect((await fetch(`${app.baseUrl}/api/v1/admin/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

  await page.goto(`${app.baseUrl}/admin/log/?objectType=token`);
  const history = page.locator('table[data-testid="history"] tbody tr');
  await expect.poll(() => history.count(), SOON).toBe(2);
  expect(await history.first().textContent()).toContain('Changed revoked.');
  expect(await history.nth(1).textContent()).toContain('Added.');
  expect(errors).toEqual([]);
}, 60_000);
