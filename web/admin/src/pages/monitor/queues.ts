// Queues (Bull Board's overview): counts by state, throughput, age of the oldest waiting task, and
// the bulk actions on a queue's failed tasks (retry all, clean), each confirmed and permission-checked.
// A queue's name and its figures open its jobs (queue-jobs.ts) on the matching state's tab.
import type { Route } from '../../router.js';
import { can } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { h } from '../../ui/dom.js';
import { formatDuration, formatNumber } from '../../ui/format.js';
import { notify } from '../../ui/messages.js';
import { monitorApi, type QueueView } from './api.js';
import { keepLive, pageBar, sparkline } from './common.js';

/** The queue's job browser, on the tab of a BullMQ state. */
const jobsOf = (queue: string, state?: string) => `/admin/queues/${encodeURIComponent(queue)}/${state ? `?state=${state}` : ''}`;

export const queuesRoute: Route = {
  path: '/admin/queues/',
  permission: 'view_task',
  async render(ctx) {
    ctx.setTitle('Queues', [{ label: 'Monitor', href: '/admin/monitor/' }]);
    const bar = pageBar();
    const table = h('div', { class: 'table-wrap' });
    const note = h(
      'p',
      { class: 'list-note' },
      'Throughput counts tasks finished (succeeded or failed) per minute, averaged over the last five complete minutes; the bars show the last hour. The oldest waiting age ignores prioritized tasks.',
    );
    ctx.outlet.append(bar.element, table, note);

    const load = async () => {
      const res = await monitorApi.queues();
      if (ctx.signal.aborted) return;
      table.replaceChildren(res.items.length ? queuesTable(res.items, load) : h('p', { class: 'empty' }, 'No queue is known yet.'));
    };
    await load();
    keepLive(ctx, bar.indicator, load, { ms: 2000 });
  },
};

function queuesTable(items: QueueView[], reload: () => Promise<void>): HTMLElement {
  const mayRetry = can('change_task');
  const mayClean = can('delete_task');
  const mayPause = can('change_worker');
  const count = (q: QueueView, n: number, state: string, cls?: string) =>
    h('td', { class: 'num' }, n ? h('a', { href: jobsOf(q.name, state), class: cls }, formatNumber(n)) : '0');
  const head = ['Queue', 'Waiting', 'Prioritized', 'Active', 'Delayed', 'Completed', 'Failed', 'Per min', 'Last hour', 'Oldest waiting', 'Workers'];
  if (mayRetry || mayClean) head.push('Failed tasks');
  if (mayPause) head.push('Consumption');
  const numeric = new Set(['Waiting', 'Prioritized', 'Active', 'Delayed', 'Completed', 'Failed', 'Per min', 'Workers']);
  return h(
    'table',
    { class: 'list compact', 'data-testid': 'queues' },
    h('thead', {}, h('tr', {}, ...head.map((l) => h('th', { scope: 'col', class: numeric.has(l) ? 'num' : undefined }, l)))),
    h(
      'tbody',
      {},
      ...items.map((q) => {
        const row = h(
          'tr',
          { 'data-queue': q.name },
          h('th', { scope: 'row' }, h('a', { href: jobsOf(q.name), 'data-testid': 'queue-jobs' }, q.name), q.paused ? h('span', { class: 'badge status-paused' }, ' paused') : ''),
          h('td', { class: 'num', 'data-testid': 'waiting' }, q.counts.waiting ? h('a', { href: jobsOf(q.name, 'waiting') }, formatNumber(q.counts.waiting)) : '0'),
          h('td', { class: 'num', 'data-testid': 'prioritized', title: 'Waiting with a priority: BullMQ serves them before the others, highest priority (1) first' }, q.counts.prioritized ? h('a', { href: jobsOf(q.name, 'prioritized') }, formatNumber(q.counts.prioritized)) : '0'),
          count(q, q.counts.active, 'active'),
          count(q, q.counts.delayed, 'delayed'),
          count(q, q.counts.completed, 'completed'),
          count(q, q.counts.failed, 'failed', 'has-failed'),
          h('td', { class: 'num', 'data-testid': 'throughput' }, formatNumber(q.throughput.perMinute)),
          h('td', { class: 'nowrap', title: `${formatNumber(q.throughput.lastHour)} finished in the last hour` }, sparkline(q.throughput.series, `Finished per minute over the last hour: ${formatNumber(q.throughput.lastHour)} in all`)),
          h('td', { class: 'nowrap' }, q.oldestWaitingAgeMs === null ? h('span', { class: 'muted' }, '—') : h('span', { title: q.oldestWaitingSince ?? '' }, formatDuration(q.oldestWaitingAgeMs))),
          h('td', { class: 'num' }, q.workers ? formatNumber(q.workers) : h('span', { class: 'error', title: 'No online worker consumes this queue' }, '0')),
        );
        if (mayRetry || mayClean) row.append(h('td', {}, actions(q, reload, mayRetry, mayClean)));
        if (mayPause) row.append(h('td', {}, pauseButton(q, reload)));
        return row;
      }),
    ),
  );
}

/** Bull Board's pause: no worker starts a task of the queue until it is resumed. */
function pauseButton(q: QueueView, reload: () => Promise<void>): HTMLElement {
  const button = h('button', { type: 'button', class: `button secondary`, 'data-testid': q.paused ? 'queue-resume' : 'queue-pause' }, q.paused ? 'Resume' : 'Pause');
  button.addEventListener('click', async () => {
    if (!q.paused) {
      const ok = await confirmDialog({
        title: `Pause “${q.name}”?`,
        message: 'No worker starts a task of this queue until it is resumed; running tasks finish, and new tasks still queue up.',
        confirmLabel: 'Pause',
      });
      if (!ok) return;
    }
    button.disabled = true;
    try {
      await monitorApi.pauseQueue(q.name, !q.paused);
      notify('success', `“${q.name}” is ${q.paused ? 'consumed again' : 'paused'}.`);
    } catch (err) {
      notify('error', (err as Error).message);
    }
    await reload().catch(() => {});
  });
  return button;
}

function actions(q: QueueView, reload: () => Promise<void>, mayRetry: boolean, mayClean: boolean): HTMLElement {
  const box = h('div', { class: 'row-actions' });
  const failed = q.counts.failed;
  if (mayRetry) {
    const retry = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'retry-failed', disabled: !failed }, 'Retry all');
    retry.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Retry the failed tasks of “${q.name}”?`,
        message: `Up to ${formatNumber(failed)} failed task(s) of this queue will run again. Revoked tasks are left alone.`,
        confirmLabel: 'Retry all failed',
      });
      if (!ok) return;
      retry.disabled = true;
      try {
        const r = await monitorApi.retryFailed(q.name);
        notify('success', `${formatNumber(r.retried)} failed task(s) of “${q.name}” were queued again${r.skippedRevoked ? ` (${r.skippedRevoked} revoked left alone)` : ''}${r.remaining ? `; ${r.remaining} remain, run it again` : ''}.`);
      } catch (err) {
        notify('error', (err as Error).message);
      }
      await reload().catch(() => {});
    });
    box.append(retry);
  }
  if (mayClean) {
    const clean = h('button', { type: 'button', class: 'button secondary danger', 'data-testid': 'clean-failed', disabled: !failed }, 'Clean');
    clean.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Delete the failed tasks of “${q.name}”?`,
        message: `${formatNumber(failed)} failed or revoked task(s) and their errors will be deleted. This cannot be undone.`,
        confirmLabel: 'Delete them',
        danger: true,
      });
      if (!ok) return;
      clean.disabled = true;
      try {
        const r = await monitorApi.cleanFailed(q.name);
        notify('success', `${formatNumber(r.removed)} failed task(s) of “${q.name}” were deleted.`);
      } catch (err) {
        notify('error', (err as Error).message);
      }
      await reload().catch(() => {});
    });
    box.append(clean);
  }
  return box;
}
