// The monitor pages of the admin console in a real headless Chromium, against a real web + worker on
// the run's Redis: a failing task appears live as FAILURE with its traceback, Retry makes it succeed
// once the cause of the failure is gone; the dashboard draws its charts; a viewer sees no actions.
// With SELER_SCREENSHOTS=1 it also writes docs/screenshots/monitor-dashboard.png and monitor-task.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSuperuser, createUser } from '../../src/admin/index.js';
import { defineTask } from '../../src/tasks/index.js';
import { startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser, logInToAdmin, saveScreenshot } from '../helpers/browser.js';

declare module '../../src/tasks/define-task.js' {
  interface TaskTypes {
    'test.monitor.fragile': { args: [string]; kwargs: Record<string, never>; result: { order: string } };
  }
}

/** The cause of the failure, controlled by the test: while it is set, the task fails. */
let brokenBecause: string | null = 'the warehouse is closed';

defineTask('test.monitor.fragile', { description: 'Fails while the test says so (a browser test task).', maxAttempts: 1 }, ([order]) => {
  if (brokenBecause) throw new Error(`cannot ship ${order}: ${brokenBecause}`);
  return { order };
});

const PASSWORD = 'monitor browser test 1';
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

async function newPage(): Promise<Page> {
  return browser.newPage({ viewport: { width: 1280, height: 800 } });
}

const enqueue = (name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => app.runtime.client.enqueue(name, { args, kwargs });

it('shows a failing task live as FAILURE with its traceback, and Retry makes it succeed', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/tasks/');
  await expect.poll(() => page.locator('main#main h1').textContent()).toBe('Tasks');
  await page.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: LONG });

  // Queued after the page is open: it must appear without a reload.
  brokenBecause = 'the warehouse is closed';
  const { id } = await enqueue('test.monitor.fragile', ['order-1138']);
  const row = page.locator(`table[data-testid=task-list] tr[data-id="${id}"]`);
  await row.waitFor({ timeout: LONG });
  await expect.poll(() => row.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('FAILURE');
  expect(await row.textContent()).toContain('test.monitor.fragile');
  expect(await row.textContent()).toContain('order-1138');

  // The filters narrow the list (state and task name), still server-side.
  await page.locator('select[data-filter=state]').selectOption('FAILURE');
  await page.waitForURL((url) => url.searchParams.get('state') === 'FAILURE');
  await row.waitFor({ timeout: LONG });
  await page.locator('select[data-filter=state]').selectOption('SUCCESS');
  await page.locator('table[data-testid=task-list], .list-view .empty').first().waitFor();
  await expect.poll(() => row.count(), { timeout: LONG }).toBe(0);
  await page.locator('.clear-filters').click();

  // Its page: the error with code, message and traceback, the timeline.
  await row.locator('a.task-id').click();
  await page.waitForURL((url) => url.pathname === `/admin/tasks/${id}/`);
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('FAILURE');
  expect(await page.locator('[data-testid=task-error-message]').textContent()).toContain('cannot ship order-1138: the warehouse is closed');
  const traceback = (await page.locator('[data-testid=task-traceback]').textContent()) ?? '';
  expect(traceback).toContain('the warehouse is closed');
  expect(traceback).toMatch(/monitor\.browser\.test\.ts/);
  expect(await page.locator('[data-testid=task-args]').textContent()).toContain('order-1138');
  expect(await page.locator('[data-testid=task-timeline] li[data-event=failed]').count()).toBeGreaterThan(0);
  await page.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: LONG });
  await saveScreenshot(page, 'monitor-task.png');

  // The cause goes away; Retry runs it again, and the page follows it to SUCCESS without a reload.
  brokenBecause = null;
  await page.getByTestId('action-retry').click();
  await page.locator('.messages .message-success').waitFor({ timeout: LONG });
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('SUCCESS');
  await expect.poll(() => page.locator('[data-testid=task-result]').textContent(), { timeout: LONG }).toContain('order-1138');
  expect(await page.locator('[data-testid=task-error]').count()).toBe(0);
  expect(await page.getByTestId('action-retry').count()).toBe(0);
  await expect.poll(() => page.locator('[data-testid=task-timeline] li[data-event=retried]').count(), { timeout: LONG }).toBeGreaterThan(0);
  await expect.poll(() => page.locator('[data-testid=task-timeline] li[data-event=succeeded]').count(), { timeout: LONG }).toBeGreaterThan(0);

  // Back in the list, the same row now says SUCCESS.
  await page.getByTestId('nav-tasks').click();
  await expect.poll(() => page.locator(`tr[data-id="${id}"] [data-testid=task-state]`).textContent(), { timeout: LONG }).toBe('SUCCESS');
  expect(errors).toEqual([]);
  await page.close();
});

it('draws the dashboard charts from the last hour, live, without page errors', async () => {
  brokenBecause = 'closed for the test';
  const queued = [
    ...(await Promise.all(Array.from({ length: 24 }, (_, i) => enqueue('demo.add', [i, i])))),
    ...(await Promise.all(Array.from({ length: 6 }, (_, i) => enqueue('demo.fail', [`planned failure ${i}`])))),
    ...(await Promise.all(Array.from({ length: 4 }, (_, i) => enqueue('demo.sleep', [0.05 * (i + 1)])))),
    ...(await Promise.all(Array.from({ length: 3 }, () => enqueue('demo.flaky', [2])))),
    ...(await Promise.all(Array.from({ length: 3 }, (_, i) => enqueue('test.monitor.fragile', [`order-${i}`])))),
  ];
  const client = app.runtime.client;
  await waitFor(async () => (await Promise.all(queued.map((q) => client.getTask(q.id)))).every((t) => t && ['SUCCESS', 'FAILURE'].includes(t.status)), LONG, 100);

  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/monitor/');
  await expect.poll(() => page.locator('main#main h1').textContent()).toBe('Monitor');
  // Charts: uPlot draws into a canvas, with a legend naming each series.
  const chart = page.getByTestId('chart-tasks');
  await chart.locator('canvas').waitFor({ timeout: LONG });
  const legend = (await chart.locator('.u-legend').textContent()) ?? '';
  for (const label of ['Succeeded', 'Failed', 'Retried']) expect(legend).toContain(label);
  await page.getByTestId('chart-sent').locator('canvas').waitFor();
  // (no DOM types in the Node-side check: the canvas is read as a plain object)
  const size = await chart.locator('canvas').evaluate((c) => ({ width: (c as unknown as { width: number }).width, height: (c as unknown as { height: number }).height }));
  expect(size.width).toBeGreaterThan(200);
  expect(size.height).toBeGreaterThan(100);
  // Figures: at least what this test ran (the first test added one success and one failure).
  await expect.poll(async () => Number((await page.getByTestId('stat-succeeded-value').textContent())?.replace(/\D/g, '')), { timeout: LONG }).toBeGreaterThanOrEqual(24 + 4 + 3);
  await expect.poll(async () => Number((await page.getByTestId('stat-failed-value').textContent())?.replace(/\D/g, '')), { timeout: LONG }).toBeGreaterThanOrEqual(6 + 3);
  expect(await page.getByTestId('stat-workers-value').textContent()).toBe('1');
  await page.locator('[data-testid=runtimes] tr[data-name="demo.add"]').waitFor();
  await page.locator('[data-testid=runtimes] tr[data-name="demo.sleep"]').waitFor();

  // Live: a new failure moves the failed figure without a reload.
  await page.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: LONG });
  const before = Number((await page.getByTestId('stat-failed-value').textContent())?.replace(/\D/g, ''));
  await enqueue('demo.fail', ['one more']);
  // The figure comes from the monitor's indexer through a 2 s refresh: on a CI machine at load 13 it once
  // took over 20 s, so this waits longer than the rest (it still fails if the failure is never counted).
  await expect.poll(async () => Number((await page.getByTestId('stat-failed-value').textContent())?.replace(/\D/g, '')), { timeout: 3 * LONG }).toBe(before + 1);
  await saveScreenshot(page, 'monitor-dashboard.png');

  // The other monitor pages render too.
  await page.getByTestId('nav-workers').click();
  await page.locator('table[data-testid=workers] tbody tr').first().waitFor({ timeout: LONG });
  expect(await page.locator('table[data-testid=workers] .status-online').count()).toBe(1);
  await page.getByTestId('nav-queues').click();
  const defaultQueue = page.locator('table[data-testid=queues] tr[data-queue]').first();
  await defaultQueue.waitFor({ timeout: LONG });
  expect(await page.getByTestId('retry-failed').count()).toBeGreaterThan(0);
  expect(errors).toEqual([]);
  await page.close();
}, 150_000);

it('retries all failed tasks of a queue after confirmation', async () => {
  brokenBecause = null;
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/queues/');
  const row = page.locator('table[data-testid=queues] tr[data-queue]').first();
  await row.waitFor({ timeout: LONG });
  await row.getByTestId('retry-failed').click();
  await page.getByTestId('confirm-ok').click();
  await expect.poll(() => page.locator('.messages .message-success').textContent(), { timeout: LONG }).toMatch(/queued again/);
  // The fragile ones succeed now (demo.fail fails again).
  await waitFor(async () => {
    const res = await page.request.get(`${app.baseUrl}/api/v1/monitor/tasks?name=test.monitor.fragile&state=FAILURE`);
    const body = (await res.json()) as { items: unknown[] };
    return body.items.length === 0;
  }, LONG, 200);
  expect(errors).toEqual([]);
  await page.close();
});

it('runs a delayed task now, revokes and deletes with confirmation', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  const later = await app.runtime.client.enqueue('demo.add', { args: [20, 22], countdown: 3600 });
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, `/admin/tasks/${later.id}/`);
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('PENDING');
  expect(await page.getByTestId('action-retry').count()).toBe(0);
  await page.getByTestId('action-promote').click();
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('SUCCESS');
  await expect.poll(() => page.locator('[data-testid=task-result]').textContent(), { timeout: LONG }).toContain('42');

  // Revoke asks first; saying no changes nothing.
  const waiting = await app.runtime.client.enqueue('demo.add', { args: [1, 2], countdown: 3600 });
  await page.goto(`${app.baseUrl}/admin/tasks/${waiting.id}/`);
  await page.getByTestId('action-revoke').click();
  await page.getByTestId('confirm-cancel').click();
  expect(await page.locator('[data-testid=task-state]').textContent()).toBe('PENDING');
  await page.getByTestId('action-revoke').click();
  await page.getByTestId('confirm-ok').click();
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('REVOKED');
  expect(await page.getByTestId('action-revoke').count()).toBe(0);

  // Delete goes back to the list with a message, and the task is gone.
  await page.getByTestId('action-delete').click();
  await page.getByTestId('confirm-ok').click();
  await page.waitForURL((url) => url.pathname === '/admin/tasks/');
  await expect.poll(() => page.locator('.messages .message-success').textContent()).toContain('was deleted');
  expect(await app.runtime.client.getTask(waiting.id)).toBeNull();
  expect(errors).toEqual([]);
  await page.close();
});

it('shows a viewer without change_task no action buttons', async () => {
  brokenBecause = 'still closed';
  const { id } = await enqueue('test.monitor.fragile', ['order-viewer']);
  await waitFor(async () => (await app.runtime.client.getTask(id))?.status === 'FAILURE', LONG);

  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'viewer', PASSWORD, `/admin/tasks/${id}/`);
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('FAILURE');
  await page.locator('[data-testid=task-traceback]').waitFor();
  expect(await page.getByTestId('task-actions').locator('button').count()).toBe(0);

  // The side navigation offers the monitor; the list has no bulk actions; queues have no action column.
  expect(await page.getByTestId('nav-monitor').count()).toBe(1);
  await page.getByTestId('nav-tasks').click();
  await page.locator(`tr[data-id="${id}"]`).waitFor({ timeout: LONG });
  expect(await page.locator('.list-view input[type=checkbox]').count()).toBe(0);
  await page.getByTestId('nav-queues').click();
  await page.locator('table[data-testid=queues] tr[data-queue]').first().waitFor({ timeout: LONG });
  expect(await page.getByTestId('retry-failed').count()).toBe(0);
  expect(await page.getByTestId('clean-failed').count()).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
});


it('shows long tracebacks wrapped, links in a result, the prioritized count, and runs a finished task again', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  // A failure whose message is one long word: nothing of it may be cut off at the panel's edge.
  brokenBecause = `the${'-very'.repeat(80)}-long-reason`;
  const failed = await enqueue('test.monitor.fragile', ['order-wide']);
  await waitFor(async () => (await app.runtime.client.getTask(failed.id))?.status === 'FAILURE', LONG);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, `/admin/tasks/${failed.id}/`);
  const traceback = page.locator('[data-testid=task-traceback]');
  await traceback.waitFor({ timeout: LONG });
  const overflow = await traceback.evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(1);
  const message = page.locator('[data-testid=task-error-message]');
  const [messageRight, panelRight] = await Promise.all([
    message.evaluate((el) => el.getBoundingClientRect().right),
    page.locator('[data-testid=task-error]').evaluate((el) => el.getBoundingClientRect().right),
  ]);
  expect(messageRight).toBeLessThanOrEqual(panelRight);

  // A result naming one of the site's URLs shows it as a link; Run again sends a copy and opens it.
  brokenBecause = null;
  const rerun = await enqueue('test.monitor.fragile', ['/api/v1/config']);
  await waitFor(async () => (await app.runtime.client.getTask(rerun.id))?.status === 'SUCCESS', LONG);
  await page.goto(`${app.baseUrl}/admin/tasks/${rerun.id}/`);
  const link = page.locator('[data-testid=task-result] a');
  await link.waitFor({ timeout: LONG });
  expect(await link.getAttribute('href')).toBe('/api/v1/config');
  await page.getByTestId('action-run-again').click();
  await page.waitForURL((url) => url.pathname.startsWith('/admin/tasks/') && !url.pathname.includes(rerun.id));
  const copyId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]!);
  await expect.poll(() => page.locator('[data-testid=task-state]').textContent(), { timeout: LONG }).toBe('SUCCESS');
  expect(await app.runtime.client.getTask(copyId)).toMatchObject({ name: 'test.monitor.fragile', args: ['/api/v1/config'], status: 'SUCCESS' });
  expect(await page.locator('.messages .message-success').textContent()).toContain(`sent again as ${copyId}`);

  // Prioritized tasks have their own column on the Queues page.
  await Promise.all([1, 2, 3].map((n) => app.runtime.client.enqueue('demo.add', { args: [n, n], queue: 'mon-prioritized', priority: 5 })));
  await page.goto(`${app.baseUrl}/admin/queues/`);
  const row = page.locator('table[data-testid=queues] tr[data-queue="mon-prioritized"]');
  await row.waitFor({ timeout: LONG });
  expect(await page.locator('table[data-testid=queues] thead').textContent()).toContain('Prioritized');
  expect(await row.getByTestId('prioritized').textContent()).toBe('3');
  expect(await row.getByTestId('waiting').textContent()).toBe('0');
  expect(errors).toEqual([]);
  await page.close();
});

it('controls a worker, a queue and a rate limit from the console', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/workers/');
  const row = page.locator(`table[data-testid=workers] tr[data-name="${app.worker!.name}"]`);
  await row.waitFor({ timeout: LONG });
  await row.getByTestId('control-concurrency').click();
  await page.getByTestId('control-value').fill('3');
  await page.getByTestId('confirm-ok').click();
  await expect.poll(() => page.locator('.messages .message-success').last().textContent(), { timeout: LONG }).toContain('runs up to 3 tasks at once');
  await expect.poll(async () => (await app.runtime.client.redis.hget(`${app.runtime.client.keys.key('workers')}`, app.worker!.name))?.includes('"concurrency":3'), { timeout: LONG }).toBe(true);

  const rate = page.locator('table[data-testid=rate-limits] tr[data-task="demo.add"]');
  await rate.getByTestId('rate-set').click();
  await page.getByTestId('control-value').fill('5/m');
  await page.getByTestId('confirm-ok').click();
  await expect.poll(() => rate.getByTestId('rate-in-force').textContent(), { timeout: LONG }).toBe('5/m');
  await rate.getByTestId('rate-reset').click();
  await expect.poll(() => rate.getByTestId('rate-in-force').textContent(), { timeout: LONG }).toBe('no limit');

  await page.getByTestId('nav-queues').click();
  const queue = page.locator('table[data-testid=queues] tr[data-queue="default"]');
  await queue.getByTestId('queue-pause').click();
  await page.getByTestId('confirm-ok').click();
  await queue.getByTestId('queue-resume').waitFor({ timeout: LONG });
  expect(await app.runtime.client.queue('default').isPaused()).toBe(true);
  await queue.getByTestId('queue-resume').click();
  await queue.getByTestId('queue-pause').waitFor({ timeout: LONG });
  expect(await app.runtime.client.queue('default').isPaused()).toBe(false);
  expect(errors).toEqual([]);
  await page.close();
});
