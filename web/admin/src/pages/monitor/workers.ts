// Workers (Flower's workers tab): online or gone, where they run, what they consume, how busy they are.
import type { Route } from '../../router.js';
import { formatBytes, h } from '../../ui/dom.js';
import { formatNumber } from '../../ui/format.js';
import { monitorApi, type WorkerView } from './api.js';
import { formatAge, keepLive, pageBar, shortTime, statCard } from './common.js';

export const workersRoute: Route = {
  path: '/admin/workers/',
  permission: 'view_task',
  async render(ctx) {
    ctx.setTitle('Workers', [{ label: 'Monitor', href: '/admin/monitor/' }]);
    const bar = pageBar();
    const online = statCard('Online', 'workers-online');
    const gone = statCard('Gone (last hour)', 'workers-gone');
    const slots = statCard('Busy slots', 'workers-busy');
    const processed = statCard('Processed', 'workers-processed');
    const table = h('div', { class: 'table-wrap' });
    ctx.outlet.append(bar.element, h('div', { class: 'cards' }, online.element, gone.element, slots.element, processed.element), table);

    const load = async () => {
      const res = await monitorApi.workers();
      if (ctx.signal.aborted) return;
      const live = res.items.filter((w) => w.status === 'online');
      online.set(formatNumber(res.online), '', res.online ? 'good' : 'bad');
      gone.set(formatNumber(res.gone));
      const busy = live.reduce((s, w) => s + w.active, 0);
      const capacity = live.reduce((s, w) => s + w.concurrency, 0);
      slots.set(`${formatNumber(busy)} / ${formatNumber(capacity)}`, capacity ? `${Math.round((busy / capacity) * 100)} % in use` : '');
      const failed = res.items.reduce((s, w) => s + w.failed, 0);
      processed.set(formatNumber(res.items.reduce((s, w) => s + w.processed, 0)), failed ? `${formatNumber(failed)} failed` : '', '');
      table.replaceChildren(res.items.length ? workersTable(res.items) : h('p', { class: 'empty' }, 'No worker has reported in the last hour. Start one with “seler worker”.'));
    };
    await load();
    // Task events change the counts; a worker starting or stopping sends no task event (see the report).
    keepLive(ctx, bar.indicator, load, { ms: 2000 });
  },
};

function workersTable(items: WorkerView[]): HTMLElement {
  const head = ['Status', 'Worker', 'Queues', 'Pool', 'Active', 'Processed', 'Failed', 'Uptime', 'Memory', 'Last heartbeat'];
  const numeric = new Set(['Active', 'Processed', 'Failed', 'Memory']);
  return h(
    'table',
    { class: 'list compact', 'data-testid': 'workers' },
    h('thead', {}, h('tr', {}, ...head.map((l) => h('th', { scope: 'col', class: numeric.has(l) ? 'num' : undefined }, l)))),
    h(
      'tbody',
      {},
      ...items.map((w) =>
        h(
          'tr',
          { 'data-name': w.name, class: w.status },
          h(
            'td',
            {},
            h('span', { class: `badge status-${w.status}`, title: w.goneAt ? `${w.goneReason ?? 'gone'} at ${w.goneAt}` : undefined }, w.status === 'online' ? 'Online' : w.goneReason === 'stopped' ? 'Stopped' : w.goneReason === 'lost' ? 'Lost' : 'Gone'),
          ),
          h('td', {}, h('span', { class: 'mono' }, w.name), h('span', { class: 'subline' }, `host ${w.host} · pid ${w.pid}`)),
          h('td', {}, h('span', { class: 'chips' }, ...w.queues.map((q) => h('a', { class: 'chip', href: `/admin/tasks/?queue=${encodeURIComponent(q)}` }, q)))),
          h('td', { class: 'nowrap' }, `${w.pool} × ${formatNumber(w.concurrency)}`, h('span', { class: 'subline' }, 'pool × concurrency')),
          h('td', { class: 'num' }, w.active ? h('a', { href: '/admin/tasks/?state=STARTED' }, `${formatNumber(w.active)} / ${formatNumber(w.concurrency)}`) : `0 / ${formatNumber(w.concurrency)}`),
          h('td', { class: 'num' }, formatNumber(w.processed)),
          h('td', { class: 'num' }, formatNumber(w.failed)),
          h('td', { class: 'nowrap' }, formatAge(w.uptimeSeconds)),
          h('td', { class: 'num' }, formatBytes(w.memoryRss)),
          h('td', { class: 'nowrap' }, shortTime(w.lastHeartbeat)),
        ),
      ),
    ),
  );
}
