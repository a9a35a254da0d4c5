// A queue's job browser in a real headless Chromium against a real web + worker: the state tabs with
// their counts, retrying a selection of failed tasks and promoting a delayed one; a viewer sees the
// buttons disabled; a task's page shows its own log lines.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSuperuser, createUser } from '../../src/admin/index.js';
import { defineTask } from '../../src/tasks/index.js';
import { startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser, logInToAdmin } from '../helpers/browser.js';

const QUEUE = 'jobs-ui';
let broken = true;
defineTask('test.jobsui.fragile', { queue: QUEUE, description: 'fails while the test says so' }, ([order]: [string]) => {
  if (broken) throw new Error(`cannot ship ${order}`);
  return { order };
});

const PASSWORD = 'queue jobs browser test 1';
const LONG = 20_000;
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp();
  await createSuperuser(app.runtime.db!, { username: 'root', password: PASSWORD });
  await createUser(app.runtime.db!, { username: 'viewer', password: PASSWORD, isStaff: true, permissions: ['view_task'] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const newPage = (): Promise<Page> => browser.newPage({ viewport: { width: 1280, height: 800 } });
const statusOf = async (id: string) => (await app.runtime.client.getTask(id))?.status;

it('browses a queue by state and retries a selection of failed tasks, then promotes a delayed one', async () => {
  broken = true;
  const failed = await Promise.all(['a', 'b', 'c'].map(async (o) => (await app.runtime.client.enqueue('test.jobsui.fragile' as never, { args: [o] } as never)).id));
  await waitFor(async () => (await Promise.all(failed.map(statusOf))).every((s) => s === 'FAILURE'), LONG);
  const later = await app.runtime.client.enqueue('demo.add', { args: [20, 22], queue: QUEUE, countdown: 3600 });

  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/queues/');
  await page.locator(`table[data-testid=queues] tr[data-queue="${QUEUE}"] [data-testid=queue-jobs]`).click();
  await expect.poll(() => page.locator('main#main h1').textContent(), { timeout: LONG }).toBe(`Queue ${QUEUE}`);
  await expect.poll(() => page.getByTestId('tab-failed').textContent(), { timeout: LONG }).toBe('Failed3');
  expect(await page.getByTestId('tab-delayed').textContent()).toBe('Delayed1');
  expect(await page.getByTestId('tab-waiting').getAttribute('aria-current')).toBe('page');
  await page.getByTestId('jobs-empty').waitFor({ timeout: LONG });

  await page.getByTestId('tab-failed').click();
  await expect.poll(() => page.locator('table[data-testid=jobs] tbody tr').count(), { timeout: LONG }).toBe(3);
  expect(new URL(page.url()).searchParams.get('state')).toBe('failed');
  expect(await page.getByTestId('jobs-retry').isDisabled()).toBe(true); // nothing selected yet
  for (const id of failed.slice(0, 2)) await page.locator(`table[data-testid=jobs] tr[data-id="${id}"] input[type=checkbox]`).check();
  expect(await page.getByTestId('jobs-selected').textContent()).toBe('2 selected');
  broken = false;
  await page.getByTestId('jobs-retry').click();
  await page.getByTestId('confirm-ok').click();
  await expect.poll(() => page.locator('.messages .message-success').last().textContent(), { timeout: LONG }).toContain('2 tasks queued again');
  await waitFor(async () => (await statusOf(failed[0]!)) === 'SUCCESS' && (await statusOf(failed[1]!)) === 'SUCCESS', LONG);
  expect(await statusOf(failed[2]!)).toBe('FAILURE');
  await expect.poll(() => page.locator('table[data-testid=jobs] tbody tr').count(), { timeout: LONG }).toBe(1);

  await page.getByTestId('tab-delayed').click();
  await page.locator(`table[data-testid=jobs] tr[data-id="${later.id}"]`).waitFor({ timeout: LONG });
  await page.getByTestId('jobs-select-all').check();
  await page.getByTestId('jobs-promote').click();
  await waitFor(async () => (await statusOf(later.id)) === 'SUCCESS', LONG);
  await page.getByTestId('jobs-empty').waitFor({ timeout: LONG });
  expect(errors).toEqual([]);
  await page.close();
});

it('shows a viewer the jobs with the actions disabled, and a task’s own log lines on its page', async () => {
  const { id } = await app.runtime.client.enqueue('demo.log', { args: [2, 'from the browser test'] });
  await waitFor(async () => (await statusOf(id)) === 'SUCCESS', LONG);
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'viewer', PASSWORD, `/admin/queues/${QUEUE}/?state=failed`);
  const box = page.locator('table[data-testid=jobs] tbody input[type=checkbox]').first();
  await box.waitFor({ timeout: LONG });
  await box.check();
  expect(await page.getByTestId('jobs-retry').isDisabled()).toBe(true);
  expect(await page.getByTestId('jobs-remove').isDisabled()).toBe(true);
  expect(await page.getByTestId('jobs-retry').getAttribute('title')).toContain('change_task');

  await page.goto(`${app.baseUrl}/admin/tasks/${id}/`);
  await expect.poll(() => page.getByTestId('task-log').textContent(), { timeout: LONG }).toMatch(/from the browser test line 1\n.*from the browser test line 2$/);
  expect(errors).toEqual([]);
  await page.close();
});
