// Workers (Flower's workers tab): online or gone, where they run, what they consume, how busy they are;
// with change_worker, Flower's controls (concurrency, queues, shutdown) and the tasks' rate limits.
import type { Route } from '../../router.js';
import { can } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { formatBytes, h } from '../../ui/dom.js';
import { formatNumber } from '../../ui/format.js';
import { notify } from '../../ui/messages.js';
import { monitorApi, type RateLimitView, type WorkerView } from './api.js';
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
    const limits = h('div', { class: 'table-wrap' });
    ctx.outlet.append(
      bar.element,
      h('div', { class: 'cards' }, online.element, gone.element, slots.element, processed.element),
      table,
      h('h2', { class: 'section-head' }, 'Rate limits'),
      h('p', { class: 'help' }, 'How many tasks of each kind may start per period, across all workers. A limit set here overrides the one the task declares until it is reset.'),
      limits,
    );

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
      table.replaceChildren(res.items.length ? workersTable(res.items, load) : h('p', { class: 'empty' }, 'No worker has reported in the last hour. Start one with “seler worker”.'));
      const rates = await monitorApi.rateLimits();
      if (ctx.signal.aborted) return;
      limits.replaceChildren(rateLimitTable(rates.items, load));
    };
    await load();
    // Task events change the counts; a worker starting or stopping sends no task event (see the report).
    keepLive(ctx, bar.indicator, load, { ms: 2000 });
  },
};

function workersTable(items: WorkerView[], reload: () => Promise<void>): HTMLElement {
  const mayControl = can('change_worker');
  const head = ['Status', 'Worker', 'Queues', 'Pool', 'Active', 'Processed', 'Failed', 'Uptime', 'Memory', 'Last heartbeat'];
  if (mayControl) head.push('Control');
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
          mayControl ? h('td', {}, w.status === 'online' ? workerControls(w, reload) : '') : '',
        ),
      ),
    ),
  );
}

/** Runs an action, says how it went, and reloads the page's data. */
async function act(run: () => Promise<string>, reload: () => Promise<void>): Promise<void> {
  try {
    notify('success', await run());
  } catch (err) {
    notify('error', (err as Error).message);
  }
  await reload().catch(() => {});
}

/** Asks for one value in a dialog; undefined when cancelled. */
async function askFor(title: string, label: string, input: HTMLInputElement, help: string): Promise<string | undefined> {
  const body = h('div', {}, h('label', { class: 'dialog-field' }, h('span', {}, label), input), h('p', { class: 'help' }, help));
  const ok = await confirmDialog({ title, message: body, confirmLabel: 'Apply' });
  return ok ? input.value.trim() : undefined;
}

function workerControls(w: WorkerView, reload: () => Promise<void>): HTMLElement {
  const button = (label: string, testId: string, cls: string, onClick: () => Promise<void>) => {
    const b = h('button', { type: 'button', class: `button small ${cls}`, 'data-testid': testId }, label);
    b.addEventListener('click', () => void onClick());
    return b;
  };
  return h(
    'div',
    { class: 'row-actions' },
    button('Concurrency…', 'control-concurrency', 'secondary', async () => {
      const input = h('input', { type: 'number', min: '1', max: '1000', step: '1', value: String(w.concurrency), 'data-testid': 'control-value', required: true });
      const value = await askFor(`Concurrency of ${w.name}`, 'Tasks at once', input, 'Takes effect at once; with a threads or process pool, extra children stop when their task ends.');
      if (value === undefined) return;
      await act(async () => {
        const r = await monitorApi.control(w.name, { command: 'concurrency', value: Number(value) });
        return `${w.name} now runs up to ${r.concurrency} tasks at once.`;
      }, reload);
    }),
    button('Queues…', 'control-queues', 'secondary', async () => {
      const input = h('input', { type: 'text', value: w.queues.join(', '), 'data-testid': 'control-value', size: 40 });
      const value = await askFor(`Queues of ${w.name}`, 'Queues (comma-separated)', input, 'A queue removed here stops being consumed once its running tasks end; a new one is consumed at once.');
      if (value === undefined) return;
      const wanted = [...new Set(value.split(',').map((q) => q.trim()).filter(Boolean))];
      await act(async () => {
        let now = w.queues;
        for (const queue of wanted.filter((q) => !w.queues.includes(q))) now = (await monitorApi.control(w.name, { command: 'add-consumer', queue })).queues;
        for (const queue of w.queues.filter((q) => !wanted.includes(q))) now = (await monitorApi.control(w.name, { command: 'cancel-consumer', queue })).queues;
        return `${w.name} consumes ${now.length ? now.join(', ') : 'no queue'}.`;
      }, reload);
    }),
    button('Shut down', 'control-shutdown', 'danger', async () => {
      const ok = await confirmDialog({
        title: `Shut down ${w.name}?`,
        message: `Its process stops taking tasks, finishes the ${w.active} it runs, and exits (as on SIGTERM). Start it again on ${w.host}.`,
        confirmLabel: 'Shut down',
        danger: true,
      });
      if (!ok) return;
      await act(async () => {
        await monitorApi.control(w.name, { command: 'shutdown' });
        return `${w.name} is shutting down.`;
      }, reload);
    }),
  );
}

function rateLimitTable(items: RateLimitView[], reload: () => Promise<void>): HTMLElement {
  const mayChange = can('change_worker');
  const head = ['Task', 'Declared', 'Set here', 'In force'];
  if (mayChange) head.push('');
  return h(
    'table',
    { class: 'list compact', 'data-testid': 'rate-limits' },
    h('thead', {}, h('tr', {}, ...head.map((l) => h('th', { scope: 'col' }, l)))),
    h(
      'tbody',
      {},
      ...items.map((r) => {
        const row = h(
          'tr',
          { 'data-task': r.task },
          h('td', { class: 'mono' }, r.task),
          h('td', {}, r.declared ?? h('span', { class: 'muted' }, 'none')),
          h('td', {}, r.override ?? h('span', { class: 'muted' }, '—')),
          h('td', { 'data-testid': 'rate-in-force' }, r.effective ?? h('span', { class: 'muted' }, 'no limit')),
        );
        if (mayChange) {
          const set = h('button', { type: 'button', class: 'button small secondary', 'data-testid': 'rate-set' }, 'Set…');
          set.addEventListener('click', async () => {
            const input = h('input', { type: 'text', value: r.override ?? r.declared ?? '', placeholder: '10/m', 'data-testid': 'control-value', size: 10 });
            const value = await askFor(`Rate limit of ${r.task}`, 'At most', input, '"10/s", "100/m", "1000/h", "5000/d", or "none" for no limit. Every worker applies it at once.');
            if (value === undefined) return;
            await act(async () => `${r.task}: ${(await monitorApi.setRateLimit(r.task, value)).effective ?? 'no limit'}.`, reload);
          });
          const cells = [set];
          if (r.override !== null) {
            const reset = h('button', { type: 'button', class: 'button small secondary', 'data-testid': 'rate-reset' }, 'Reset');
            reset.addEventListener('click', () => void act(async () => `${r.task}: back to ${(await monitorApi.resetRateLimit(r.task)).effective ?? 'no limit'}.`, reload));
            cells.push(reset);
          }
          row.append(h('td', {}, h('div', { class: 'row-actions' }, ...cells)));
        }
        return row;
      }),
    ),
  );
}
