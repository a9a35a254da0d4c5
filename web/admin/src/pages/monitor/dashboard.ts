// The monitor's dashboard (Flower's front page): workers, queue depth, the last hour in figures and
// charts, runtime percentiles per task name; live through the monitor's event stream.
import type { Route } from '../../router.js';
import { h } from '../../ui/dom.js';
import { formatDuration, formatNumber, stateBadge } from '../../ui/format.js';
import { monitorApi, TASK_STATES, type Overview, type RuntimeStats } from './api.js';
import { minuteChart } from './chart.js';
import { keepLive, pageBar, panel, statCard } from './common.js';

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Tasks finished per minute over the last five minutes, the current one counted for the part that has passed. */
export function throughputPerMinute(o: Overview, now = Date.now()): number {
  const { time, succeeded, failed } = o.series;
  const n = time.length;
  if (!n) return 0;
  const from = Math.max(0, n - 5);
  const done = sum(succeeded.slice(from)) + sum(failed.slice(from));
  const currentStart = (time[n - 1] ?? 0) * 1000;
  const partial = Math.min(1, Math.max(0.05, (now - currentStart) / 60_000));
  const minutes = n - from - 1 + partial;
  return done / minutes;
}

export const dashboardRoute: Route = {
  path: '/admin/monitor/',
  permission: 'view_task',
  async render(ctx) {
    ctx.setTitle('Monitor');
    const bar = pageBar(h('a', { href: '/admin/tasks/', class: 'button secondary' }, 'Browse tasks'));

    const cards = {
      workers: statCard('Workers online', 'stat-workers', '/admin/workers/'),
      waiting: statCard('Waiting', 'stat-waiting', '/admin/queues/'),
      active: statCard('Active', 'stat-active', '/admin/tasks/?state=STARTED'),
      succeeded: statCard('Succeeded · last hour', 'stat-succeeded', '/admin/tasks/?state=SUCCESS'),
      failed: statCard('Failed · last hour', 'stat-failed', '/admin/tasks/?state=FAILURE'),
      throughput: statCard('Throughput / min', 'stat-throughput'),
    };
    const cardRow = h('div', { class: 'cards monitor-cards' }, ...Object.values(cards).map((c) => c.element));

    const finished = minuteChart({
      title: 'Tasks per minute · last hour',
      testId: 'chart-tasks',
      idleLabel: 'last hour',
      signal: ctx.signal,
      series: [
        { label: 'Succeeded', color: '--series-ok' },
        { label: 'Failed', color: '--series-fail' },
        { label: 'Retried', color: '--series-retry' },
      ],
    });
    const sent = minuteChart({
      title: 'Sent and revoked per minute · last hour',
      testId: 'chart-sent',
      idleLabel: 'last hour',
      signal: ctx.signal,
      series: [
        { label: 'Sent', color: '--series-sent' },
        { label: 'Revoked', color: '--series-revoked' },
      ],
    });
    const charts = h('div', { class: 'charts' }, finished.element, sent.element);

    const runtimes = h('div', { class: 'table-wrap', 'data-testid': 'runtimes' });
    const states = h('div', { class: 'table-wrap', 'data-testid': 'states' });
    const totals = h('div', { class: 'table-wrap', 'data-testid': 'totals' });
    const panels = h(
      'div',
      {},
      panel('Runtime of successful runs per task · last hour', runtimes),
      h('div', { class: 'panels panels-2-1' }, panel('Since the monitor began, by task name', totals), panel('Retained tasks by state', states)),
    );
    ctx.outlet.append(bar.element, cardRow, charts, panels);

    const load = async () => {
      const o = await monitorApi.overview();
      if (ctx.signal.aborted) return;
      const hour = { succeeded: sum(o.series.succeeded), failed: sum(o.series.failed), retried: sum(o.series.retried) };
      cards.workers.set(formatNumber(o.workers.online), o.workers.gone ? `${o.workers.gone} gone recently` : '', o.workers.online ? 'good' : 'bad');
      cards.waiting.set(formatNumber(o.queues.waiting + o.queues.prioritized), `${formatNumber(o.queues.delayed)} delayed · ${plural(o.queues.count, 'queue')}`);
      cards.active.set(formatNumber(o.queues.active));
      cards.succeeded.set(formatNumber(hour.succeeded), hour.retried ? `${formatNumber(hour.retried)} retries` : '', hour.succeeded ? 'good' : '');
      cards.failed.set(formatNumber(hour.failed), `${formatNumber(o.queues.failed)} in failed sets`, hour.failed ? 'bad' : '');
      const tp = throughputPerMinute(o);
      cards.throughput.set(tp >= 10 ? formatNumber(Math.round(tp)) : tp.toFixed(1), 'finished, last 5 min');
      finished.setData(o.series.time, [o.series.succeeded, o.series.failed, o.series.retried]);
      sent.setData(o.series.time, [o.series.sent, o.series.revoked]);
      runtimes.replaceChildren(runtimeTable(o.runtimes));
      states.replaceChildren(stateTable(o));
      totals.replaceChildren(totalsTable(o));
    };
    await load();
    keepLive(ctx, bar.indicator, load, { ms: 2000 });
  },
};

function plural(n: number, one: string): string {
  return `${formatNumber(n)} ${n === 1 ? one : `${one}s`}`;
}

function runtimeTable(rows: RuntimeStats[]): HTMLElement {
  if (!rows.length) return h('p', { class: 'empty' }, 'No task succeeded in the last hour.');
  const scale = Math.max(1, ...rows.map((r) => r.p99Ms));
  const body = h('tbody', {});
  for (const r of rows) {
    const bar = h('div', { class: 'pbar', title: `p50 ${formatDuration(r.p50Ms)} – p95 ${formatDuration(r.p95Ms)}, p99 ${formatDuration(r.p99Ms)}` });
    const range = h('div', { class: 'range' });
    range.style.left = `${(r.p50Ms / scale) * 100}%`;
    range.style.width = `${((r.p95Ms - r.p50Ms) / scale) * 100}%`;
    const tick = h('div', { class: 'tick' });
    tick.style.left = `calc(${(r.p99Ms / scale) * 100}% - 1px)`;
    bar.append(range, tick);
    body.append(
      h(
        'tr',
        { 'data-name': r.name },
        h('th', { scope: 'row' }, h('a', { href: `/admin/tasks/?name=${encodeURIComponent(r.name)}` }, r.name)),
        h('td', { class: 'num' }, formatNumber(r.count)),
        h('td', { class: 'num' }, formatDuration(r.p50Ms)),
        h('td', { class: 'num' }, formatDuration(r.p90Ms)),
        h('td', { class: 'num' }, formatDuration(r.p95Ms)),
        h('td', { class: 'num' }, formatDuration(r.p99Ms)),
        h('td', { class: 'num' }, formatDuration(r.maxMs)),
        h('td', { class: 'bar-cell', 'aria-hidden': 'true' }, bar),
      ),
    );
  }
  return h(
    'table',
    { class: 'list' },
    h('thead', {}, h('tr', {}, ...['Task', 'Runs', 'p50', 'p90', 'p95', 'p99', 'Max', 'p50–p95 · p99'].map((l, i) => h('th', { scope: 'col', class: i > 0 && i < 7 ? 'num' : undefined }, l)))),
    body,
  );
}

function stateTable(o: Overview): HTMLElement {
  const body = h('tbody', {});
  for (const s of TASK_STATES) {
    const n = o.tasks.byState[s] ?? 0;
    body.append(h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `/admin/tasks/?state=${s}` }, stateBadge(s))), h('td', { class: 'num', 'data-state': s }, formatNumber(n))));
  }
  body.append(h('tr', {}, h('th', { scope: 'row' }, 'All retained'), h('td', { class: 'num' }, h('a', { href: '/admin/tasks/' }, formatNumber(o.tasks.indexed)))));
  return h('table', { class: 'list' }, body);
}

function totalsTable(o: Overview): HTMLElement {
  if (!o.totals.byName.length) return h('p', { class: 'empty' }, 'No task has been sent yet.');
  const cols = ['sent', 'succeeded', 'failed', 'retried', 'revoked'] as const;
  return h(
    'table',
    { class: 'list' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Task'), ...cols.map((c) => h('th', { scope: 'col', class: 'num' }, c)))),
    h(
      'tbody',
      {},
      ...o.totals.byName.map((r) =>
        h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `/admin/tasks/?name=${encodeURIComponent(r.name)}` }, r.name)), ...cols.map((c) => h('td', { class: 'num' }, formatNumber(r[c])))),
      ),
      h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'All'), ...cols.map((c) => h('td', { class: 'num' }, formatNumber(o.totals.all[c])))),
    ),
  );
}
