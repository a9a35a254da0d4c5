// One queue's jobs (Bull Board's queue page): a tab per BullMQ state with its count, the jobs of the
// chosen state a page at a time, and retry / promote / remove of the selected ones. The buttons are
// there for everyone and disabled without the permission, so a viewer sees what an operator could do.
import { setQuery, type Route } from '../../router.js';
import { can } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { h, plural } from '../../ui/dom.js';
import { formatNumber, shortTaskId, stateBadge } from '../../ui/format.js';
import { pageNumbers } from '../../ui/list-view.js';
import { notify } from '../../ui/messages.js';
import { JOB_STATES, monitorApi, type JobBulkResult, type JobState, type QueueJob, type QueueJobPage } from './api.js';
import { keepLive, pageBar, shortTime } from './common.js';

const PAGE_SIZE = 25;

const TAB_LABEL: Record<JobState, string> = {
  waiting: 'Waiting',
  prioritized: 'Prioritized',
  delayed: 'Delayed',
  active: 'Active',
  'waiting-children': 'Waiting for children',
  completed: 'Completed',
  failed: 'Failed',
};

type Action = 'retry' | 'promote' | 'remove';
const ACTIONS: { action: Action; label: string; permission: string; fits: (state: JobState) => boolean }[] = [
  { action: 'retry', label: 'Retry selected', permission: 'change_task', fits: (s) => s === 'failed' },
  { action: 'promote', label: 'Promote selected', permission: 'change_task', fits: (s) => s === 'delayed' },
  { action: 'remove', label: 'Remove selected', permission: 'delete_task', fits: (s) => s !== 'active' },
];

export const queueJobsRoute: Route = {
  path: '/admin/queues/:name/',
  permission: 'view_task',
  async render(ctx) {
    const queue = ctx.params.name!;
    ctx.setTitle(`Queue ${queue}`, [
      { label: 'Monitor', href: '/admin/monitor/' },
      { label: 'Queues', href: '/admin/queues/' },
    ]);
    const stateParam = ctx.query.get('state') ?? 'waiting';
    const state: JobState = (JOB_STATES as readonly string[]).includes(stateParam) ? (stateParam as JobState) : 'waiting';
    const page = Math.max(1, Number(ctx.query.get('page')) || 1);
    const order = ctx.query.get('order') === 'asc' ? 'asc' : 'desc';

    const pausedBadge = h('span', { class: 'badge status-paused', 'data-testid': 'queue-paused', hidden: true, title: 'No worker starts its waiting tasks until it is resumed (on the Queues page)' }, 'paused');
    const bar = pageBar(pausedBadge);
    const tabs = h('nav', { class: 'state-tabs', 'aria-label': 'Job states', 'data-testid': 'job-tabs' });
    const selected = new Set<string>();
    const count = h('span', { class: 'muted', 'data-testid': 'jobs-selected' });
    const buttons = ACTIONS.filter((a) => a.fits(state)).map((a) => {
      const allowed = can(a.permission);
      const button = h(
        'button',
        { type: 'button', class: `button secondary${a.action === 'remove' ? ' danger' : ''}`, 'data-testid': `jobs-${a.action}`, title: allowed ? undefined : `Needs the ${a.permission} permission` },
        a.label,
      );
      button.addEventListener('click', () => void run(a.action));
      return { ...a, allowed, button };
    });
    const actionBar = h('div', { class: 'job-actions' }, ...buttons.map((b) => b.button), count);
    const table = h('div', { class: 'table-wrap' });
    const footer = h('div', { class: 'list-footer' });
    ctx.outlet.append(bar.element, tabs, actionBar, table, footer);

    const updateButtons = () => {
      for (const b of buttons) b.button.disabled = !b.allowed || selected.size === 0;
      count.textContent = selected.size ? `${formatNumber(selected.size)} selected` : '';
    };

    async function run(action: Action): Promise<void> {
      const ids = [...selected];
      if (!ids.length) return;
      if (action !== 'promote') {
        const ok = await confirmDialog({
          title: action === 'retry' ? `Retry ${plural(ids.length, 'task', 'tasks')}?` : `Remove ${plural(ids.length, 'task', 'tasks')}?`,
          message:
            action === 'retry'
              ? 'The selected failed tasks run again. Tasks that are no longer failed are left alone.'
              : 'The selected tasks and their results are deleted. Running tasks are left alone. This cannot be undone.',
          confirmLabel: action === 'retry' ? 'Retry' : 'Remove',
          danger: action === 'remove',
        });
        if (!ok) return;
      }
      for (const b of buttons) b.button.disabled = true;
      try {
        notify('success', summary(await monitorApi.jobsAction(queue, action, ids)));
        selected.clear();
      } catch (err) {
        notify('error', (err as Error).message);
      }
      await load().catch(() => {});
    }

    const load = async () => {
      let res: QueueJobPage;
      try {
        res = await monitorApi.jobs(queue, { state, page, limit: PAGE_SIZE, order });
      } catch (err) {
        if (ctx.signal.aborted) return;
        table.replaceChildren(h('p', { class: 'error', role: 'alert' }, (err as Error).message));
        return;
      }
      if (ctx.signal.aborted) return;
      pausedBadge.hidden = !res.paused;
      tabs.replaceChildren(...JOB_STATES.map((s) => tab(s, res.counts[s], s === state)));
      for (const id of [...selected]) if (!res.items.some((j) => j.id === id)) selected.delete(id);
      table.replaceChildren(res.items.length ? jobTable(res.items, state, selected, updateButtons, buttons.length > 0) : h('p', { class: 'empty', 'data-testid': 'jobs-empty' }, `No ${TAB_LABEL[state].toLowerCase()} jobs in this queue.`));
      footer.replaceChildren(pager(res));
      updateButtons();
    };
    await load();
    keepLive(ctx, bar.indicator, load, { ms: 1500, filter: { queue } });
  },
};

function tab(state: JobState, n: number, current: boolean): HTMLElement {
  const link = h('a', { href: `?state=${state}`, 'data-testid': `tab-${state}`, 'aria-current': current ? 'page' : undefined }, TAB_LABEL[state], h('span', { class: 'count' }, formatNumber(n)));
  link.addEventListener('click', (e) => {
    e.preventDefault();
    setQuery({ state, page: null });
  });
  return link;
}

function jobTable(items: QueueJob[], state: JobState, selected: Set<string>, changed: () => void, selectable: boolean): HTMLElement {
  const boxes: HTMLInputElement[] = [];
  const head = h('tr', {});
  if (selectable) {
    const all = h('input', { type: 'checkbox', 'aria-label': 'Select all on this page', 'data-testid': 'jobs-select-all' });
    all.checked = items.every((j) => selected.has(j.id));
    all.addEventListener('change', () => {
      for (const [i, j] of items.entries()) {
        if (all.checked) selected.add(j.id);
        else selected.delete(j.id);
        boxes[i]!.checked = all.checked;
      }
      changed();
    });
    head.append(h('th', { class: 'select' }, all));
  }
  const timeLabel = state === 'delayed' ? 'Due' : state === 'completed' || state === 'failed' ? 'Finished' : state === 'active' ? 'Started' : 'Sent';
  head.append(...['Task id', 'Name', 'State', 'Arguments', timeLabel, 'Attempts'].map((l) => h('th', { scope: 'col', class: l === 'Attempts' ? 'num' : undefined }, l)));
  if (state === 'failed') head.append(h('th', { scope: 'col' }, 'Reason'));
  const body = h('tbody', {});
  for (const job of items) {
    const row = h('tr', { 'data-id': job.id });
    if (selectable) {
      const box = h('input', { type: 'checkbox', 'aria-label': `Select ${job.id}` });
      box.checked = selected.has(job.id);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(job.id);
        else selected.delete(job.id);
        changed();
      });
      boxes.push(box);
      row.append(h('td', { class: 'select' }, box));
    }
    const args = job.kwargsPreview && job.kwargsPreview !== '{}' ? `${job.argsPreview} ${job.kwargsPreview}` : job.argsPreview;
    const when = state === 'delayed' ? job.dueAt : state === 'completed' || state === 'failed' ? job.finishedAt : state === 'active' ? job.startedAt : job.createdAt;
    row.append(
      h('td', { class: 'nowrap' }, h('a', { href: `/admin/tasks/${encodeURIComponent(job.id)}/`, class: 'task-id', title: job.id }, shortTaskId(job.id))),
      h('td', {}, job.name),
      h('td', {}, stateBadge(job.status), job.priority ? h('span', { class: 'subline' }, `priority ${job.priority}`) : ''),
      h('td', {}, h('span', { class: 'args-preview', title: args }, args)),
      h('td', { class: 'nowrap' }, shortTime(when)),
      h('td', { class: 'num' }, formatNumber(job.attempts)),
    );
    if (state === 'failed') row.append(h('td', {}, h('span', { class: 'error-preview', title: job.failedReason ?? '' }, job.failedReason ?? '')));
    body.append(row);
  }
  return h('table', { class: 'list compact', 'data-testid': 'jobs' }, h('thead', {}, head), body);
}

function pager(res: QueueJobPage): HTMLElement {
  const pages = Math.max(1, Math.ceil(res.total / res.limit));
  const first = (res.page - 1) * res.limit + 1;
  const nav = h('nav', { class: 'pagination', 'aria-label': 'Pages' });
  const link = (p: number, label: string, current = false) => {
    if (current) return h('span', { class: 'current', 'aria-current': 'page' }, label);
    const a = h('a', { href: `?state=${res.state}&page=${p}` }, label);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      setQuery({ page: p === 1 ? null : p });
    });
    return a;
  };
  if (res.page > 1) nav.append(link(res.page - 1, '‹ Previous'));
  for (const p of pageNumbers(res.page, pages)) nav.append(p === 0 ? h('span', { class: 'gap' }, '…') : link(p, String(p), p === res.page));
  if (res.page < pages) nav.append(link(res.page + 1, 'Next ›'));
  const shown = res.items.length ? `${formatNumber(first)}–${formatNumber(first + res.items.length - 1)} of ${plural(res.total, 'job', 'jobs')}` : plural(res.total, 'job', 'jobs');
  return h('div', { class: 'pager' }, h('span', { class: 'muted' }, shown), pages > 1 ? nav : '');
}

function summary(r: JobBulkResult): string {
  const verb = r.action === 'retry' ? 'queued again' : r.action === 'promote' ? 'run now' : 'removed';
  const parts = [`${plural(r.done, 'task', 'tasks')} ${verb}`];
  if (r.wrongState) parts.push(`${formatNumber(r.wrongState)} left alone (no longer in a state that allows it)`);
  if (r.notFound) parts.push(`${formatNumber(r.notFound)} no longer exist`);
  return `${parts.join('; ')}.`;
}
