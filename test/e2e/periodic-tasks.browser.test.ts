// The periodic-task pages of the admin console in a real headless Chromium, against a whole seler:
// web + worker + a real beat on the run's Redis. A task created through the forms runs, and the list
// shows its last run and run count moving; bad input is refused next to its field; bulk disable,
// delete with confirmation, a declared task's field sources, and a view-only user.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSuperuser, createUser } from '../../src/admin/index.js';
import { startBeatRole } from '../../src/app.js';
import { PeriodicTasks, type RunningBeat } from '../../src/beat/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { collectPageErrors, launchBrowser, logInToAdmin, saveScreenshot } from '../helpers/browser.js';

const PASSWORD = 'browser test password 1';
/** Waits on a condition; generous for a loaded machine. */
const SOON = { timeout: 20_000 };
const VIEWPORT = { width: 1280, height: 800 };
const LONG = 60_000;

let app: TestApp;
let beat: RunningBeat;
let browser: Browser;
let tasks: PeriodicTasks;
const configDir = mkdtempSync(path.join(tmpdir(), 'seler-beat-config-'));

beforeAll(async () => {
  // A schedule declared in the configuration file, as the lab's CELERY_BEAT_SCHEDULE.
  const configFile = path.join(configDir, 'seler.config.json');
  writeFileSync(configFile, JSON.stringify({ beatSchedule: { 'nightly noop': { task: 'demo.noop', schedule: { crontab: { minute: '0', hour: '3', timezone: 'Europe/Warsaw' } } } } }));
  app = await startTestApp({ env: { SELER_CONFIG: configFile, SELER_TIMEZONE: 'Europe/Warsaw' } });
  beat = await startBeatRole(app.runtime);
  tasks = new PeriodicTasks(app.runtime.db!, { timezone: 'Europe/Warsaw' });
  await createSuperuser(app.runtime.db!, { username: 'root', password: PASSWORD });
  await createUser(app.runtime.db!, { username: 'viewer', password: PASSWORD, isStaff: true, permissions: ['view_periodictask', 'view_intervalschedule'] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await beat?.close();
  await app?.close();
  rmSync(configDir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  return browser.newPage({ viewport: VIEWPORT });
}

const row = (page: Page, name: string) => page.locator('table[data-testid="periodic-tasks"] tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) });
const messages = (page: Page) => page.locator('ul.messages');

it(
  'creates a 2-second interval for demo.add through the forms and watches its last run and run count move in the list',
  async () => {
    const page = await newPage();
    const errors = collectPageErrors(page);
    await logInToAdmin(page, app.baseUrl, 'root', PASSWORD);

    // From the home page's "Add" link of the Periodic tasks group.
    await page.locator('.app').filter({ hasText: 'Periodic tasks' }).locator('a.add[href="/admin/periodic-tasks/add/"]').click();
    await expect.poll(() => page.locator('main#main h1').textContent(), SOON).toBe('Add periodic task');

    await page.getByTestId('name').fill('add every 2 s');
    await page.getByTestId('task-select').selectOption('demo.add');
    // demo.add declares its arguments: the form has a number input for each, labelled by its title.
    const a = page.getByTestId('arg-args-0');
    const b = page.getByTestId('arg-args-1');
    await a.waitFor();
    expect(await a.getAttribute('type')).toBe('number');
    expect(await page.locator('label[for="' + (await a.getAttribute('id')) + '"]').textContent()).toContain('a');
    await a.fill('2');
    await b.fill('3');

    await page.getByTestId('kind-interval').check();
    await page.getByTestId('interval-every').fill('2');
    await page.getByTestId('interval-period').selectOption('seconds');
    // The live preview: the schedule in words and the next five runs in the zone and in UTC.
    await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 15_000 }).toBe('Every 2 seconds');
    await expect.poll(() => page.locator('[data-testid="next-runs"] tbody tr').count(), SOON).toBe(5);

    await page.getByTestId('save').click();
    await page.waitForURL((url) => url.pathname === '/admin/periodic-tasks/');
    await messages(page).getByText('The periodic task “add every 2 s” was added successfully.').waitFor();

    const saved = (await tasks.list({ search: 'add every 2 s' })).items[0]!;
    expect(saved).toMatchObject({ task: 'demo.add', args: [2, 3], schedule: { interval: { every: 2, period: 'seconds' } }, enabled: true, source: 'admin' });

    // The list refreshes itself: the last run appears and changes, and the run count climbs.
    const r = row(page, 'add every 2 s');
    const lastRun = () => r.getByTestId('last-run').getAttribute('data-value');
    const runCount = async () => Number(await r.getByTestId('run-count').getAttribute('data-value'));
    await expect.poll(lastRun, { timeout: LONG }).not.toBeNull();
    const first = await lastRun();
    await expect.poll(lastRun, { timeout: LONG }).not.toBe(first);
    await expect.poll(runCount, { timeout: LONG }).toBeGreaterThanOrEqual(2);
    expect(await r.getByTestId('last-run').locator('time').textContent()).not.toBe('');

    await saveScreenshot(page, 'periodic-tasks.png');

    // Its change page: the state, and the run history with results (2 + 3 ran on the worker).
    await r.getByRole('link', { name: 'add every 2 s', exact: true }).click();
    await expect.poll(() => page.locator('main#main h1').textContent(), SOON).toBe('add every 2 s');
    await page.getByTestId('run-history').locator('.badge.state-success').first().waitFor({ timeout: LONG });
    expect(await page.getByTestId('arg-args-0').inputValue()).toBe('2');
    await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 15_000 }).toBe('Every 2 seconds');

    // Run now: a manual run, with its task id linked to the monitor's task page.
    await page.getByTestId('run-now').click();
    const link = page.getByTestId('run-now-result').locator('a[data-task-id]');
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(/^\/admin\/tasks\/[^/]+\/$/);
    await page.getByTestId('run-history').locator('.badge.trigger-manual').first().waitFor({ timeout: LONG });

    // The form: the task, and the schedule with its preview in words and next runs.
    await page.locator('main#main h1').click(); // the page, not a field, has the focus
    await page.getByTestId('periodic-task-form').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await saveScreenshot(page, 'periodic-task-form.png');
    expect(errors).toEqual([]);
  },
  LONG * 3,
);

it('shows a bad cron expression next to its field, live and on save, and saves nothing', async () => {
  const page = await newPage();
  // Only the refused save is a failed request: the live preview answers a bad schedule inline.
  const errors = collectPageErrors(page, ['/api/v1/admin/periodic-tasks']);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/periodic-tasks/add/');
  await page.getByTestId('name').fill('bad cron');
  await page.getByTestId('task-select').selectOption('demo.noop');
  await page.getByTestId('kind-crontab').check();
  await page.getByTestId('crontab-minute').fill('61');
  await page.getByTestId('crontab-hour').fill('15');

  const minuteError = page.locator('.field[data-field="schedule.crontab.minute"] .field-error');
  await expect.poll(() => minuteError.textContent(), { timeout: 15_000 }).toContain('61');
  expect(await page.locator('.field[data-field="schedule.crontab.hour"] .field-error').isHidden()).toBe(true);

  await page.getByTestId('save').click();
  await page.locator('form .form-errors').waitFor();
  expect(await minuteError.textContent()).toContain('61');
  expect(await page.locator('.field[data-field="schedule.crontab.minute"]').getAttribute('class')).toContain('has-error');
  expect(new URL(page.url()).pathname).toBe('/admin/periodic-tasks/add/');
  expect((await tasks.list({ search: 'bad cron' })).total).toBe(0);

  // Corrected, the preview explains it in words and the task saves.
  await page.getByTestId('crontab-minute').fill('5');
  await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 15_000 }).toContain('15:05');
  expect(await minuteError.isHidden()).toBe(true);
  const heads = () => page.locator('[data-testid="next-runs"] thead th').allTextContents();
  await expect.poll(heads, SOON).toEqual(['#', 'Europe/Warsaw', 'UTC', '']);
  // A schedule kept in UTC gets one UTC column, not two identical ones.
  await page.getByTestId('crontab-timezone').fill('UTC');
  await expect.poll(heads, SOON).toEqual(['#', 'UTC', '']);
  await page.getByTestId('crontab-timezone').fill('');
  await expect.poll(heads, SOON).toEqual(['#', 'Europe/Warsaw', 'UTC', '']);
  await page.getByTestId('save-continue').click();
  await page.waitForURL(/\/admin\/periodic-tasks\/\d+\/$/);
  await messages(page).getByText('You may edit it again below.').waitFor();
  expect((await tasks.list({ search: 'bad cron' })).items[0]?.schedule).toMatchObject({ crontab: { minute: '5', hour: '15', timezone: 'Europe/Warsaw' } });
  expect(errors).toEqual([]);
}, LONG);

it('disables several periodic tasks with a bulk action', async () => {
  const one = await tasks.create({ name: 'bulk one', task: 'demo.noop', schedule: { interval: { every: 1, period: 'days' } } });
  const two = await tasks.create({ name: 'bulk two', task: 'demo.noop', schedule: { interval: { every: 2, period: 'days' } } });
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/periodic-tasks/');
  await page.getByRole('searchbox').fill('bulk');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/search=bulk/);
  await expect.poll(() => page.locator('table[data-testid="periodic-tasks"] tbody tr').count(), SOON).toBe(2);

  for (const name of ['bulk one', 'bulk two']) await row(page, name).locator('td.select input').check();
  await page.getByLabel('Action', { exact: true }).selectOption({ label: 'Disable selected periodic tasks' });
  await page.getByRole('button', { name: 'Go' }).click();
  await messages(page).getByText('2 periodic tasks were disabled.').waitFor();
  for (const name of ['bulk one', 'bulk two']) await expect.poll(() => row(page, name).getByTestId('enabled').getAttribute('data-value'), SOON).toBe('false');
  expect((await tasks.get(one.id))?.enabled).toBe(false);
  expect((await tasks.get(two.id))?.enabled).toBe(false);

  // The filter shows them among the disabled ones.
  await page.locator('select[data-filter="enabled"]').selectOption('false');
  await page.waitForURL(/enabled=false/);
  await expect.poll(() => page.locator('table[data-testid="periodic-tasks"] tbody tr').count(), SOON).toBe(2);
  expect(errors).toEqual([]);
}, LONG);

it('deletes a periodic task only after confirmation', async () => {
  const doomed = await tasks.create({ name: 'to be deleted', task: 'demo.noop', schedule: { interval: { every: 1, period: 'hours' } } });
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, `/admin/periodic-tasks/${doomed.id}/`);
  await expect.poll(() => page.locator('main#main h1').textContent(), SOON).toBe('to be deleted');

  await page.getByTestId('delete').click();
  await page.getByTestId('confirm-cancel').click();
  expect(await page.locator('dialog').count()).toBe(0);
  expect(await tasks.get(doomed.id)).not.toBeNull();

  await page.getByTestId('delete').click();
  await page.locator('dialog').getByText('Are you sure you want to delete the periodic task “to be deleted”?').waitFor();
  await page.getByTestId('confirm-ok').click();
  await page.waitForURL((url) => url.pathname === '/admin/periodic-tasks/');
  await messages(page).getByText('The periodic task “to be deleted” was deleted successfully.').waitFor();
  expect(await tasks.get(doomed.id)).toBeNull();
  expect(errors).toEqual([]);
}, LONG);

it('shows where a declared task’s fields come from, keeps a change made here, and resets it to the configuration', async () => {
  const declared = (await tasks.list({ source: 'config' })).items.find((t) => t.name === 'nightly noop')!;
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, `/admin/periodic-tasks/${declared.id}/`);
  await page.getByTestId('declared-notice').waitFor();
  const source = (field: string) => page.locator(`.field[data-field="${field}"] > label .field-source`).getAttribute('data-source');
  expect(await source('description')).toBe('config');
  expect(await page.getByTestId('name').getAttribute('readonly')).not.toBeNull();

  await page.getByTestId('description').fill('Changed in the admin');
  await page.getByTestId('save-continue').click();
  await messages(page).getByText('was changed successfully').waitFor();
  await expect.poll(() => source('description'), SOON).toBe('admin');
  expect(await source('schedule')).toBe('config');

  await page.getByTestId('reset-config').click();
  await page.getByTestId('confirm-ok').click();
  await messages(page).getByText('follows its configuration again').waitFor();
  await expect.poll(() => source('description'), SOON).toBe('config');
  expect(await page.getByTestId('description').inputValue()).toBe('');
  expect(errors).toEqual([]);
}, LONG);

it('lists the distinct intervals in use and adds a periodic task with one, pre-filled', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'root', PASSWORD, '/admin/intervals/');
  const table = page.locator('table[data-testid="schedules-interval"]');
  const everyTwo = table.locator('tbody tr').filter({ hasText: 'Every 2 seconds' });
  await everyTwo.getByRole('link', { name: 'add every 2 s' }).waitFor();
  await everyTwo.getByTestId('add-with-schedule').click();
  await page.waitForURL(/\/admin\/periodic-tasks\/add\/\?kind=interval/);
  expect(await page.getByTestId('interval-every').inputValue()).toBe('2');
  expect(await page.getByTestId('kind-interval').isChecked()).toBe(true);
  await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 15_000 }).toBe('Every 2 seconds');
  expect(errors).toEqual([]);
}, LONG);

it('shows a user with only the view permission no Add, no bulk actions and no Save', async () => {
  const page = await newPage();
  const errors = collectPageErrors(page);
  await logInToAdmin(page, app.baseUrl, 'viewer', PASSWORD, '/admin/periodic-tasks/');
  await row(page, 'add every 2 s').waitFor();
  expect(await page.getByTestId('add-periodic-task').count()).toBe(0);
  expect(await page.locator('.toolbar .bulk').isHidden()).toBe(true);
  expect(await page.locator('td.select input').count()).toBe(0);
  // Only the pages the user may see are in the navigation.
  expect(await page.locator('nav.side a').allTextContents()).toEqual(['Periodic tasks', 'Intervals']);

  await row(page, 'add every 2 s').getByRole('link', { name: 'add every 2 s', exact: true }).click();
  await expect.poll(() => page.locator('main#main h1').textContent(), SOON).toBe('View periodic task: add every 2 s');
  await page.getByText('You can view this periodic task but not change it.').waitFor();
  for (const id of ['save', 'save-continue', 'save-add', 'delete', 'run-now']) expect(await page.getByTestId(id).count()).toBe(0);
  expect(await page.getByTestId('name').isDisabled()).toBe(true);
  expect(await page.getByTestId('arg-args-0').isDisabled()).toBe(true);

  await page.goto(`${app.baseUrl}/admin/periodic-tasks/add/`);
  await expect.poll(() => page.locator('main#main h1').textContent(), SOON).toBe('Permission denied');
  expect(errors).toEqual([]);
}, LONG);
