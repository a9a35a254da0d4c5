// The task browser (Flower's tasks tab): filter by state, name, queue and time range, search by id or
// argument text, server-side pages; live: rows appear and change as task events arrive.
import type { Query } from '../../api.js';
import { navigate, type Route } from '../../router.js';
import { h } from '../../ui/dom.js';
import { formatDuration, stateBadge, shortTaskId } from '../../ui/format.js';
import { listView, type BulkAction, type ListPage } from '../../ui/list-view.js';
import { monitorApi, TASK_STATES, type TaskListQuery, type TaskRow } from './api.js';
import { keepLive, pageBar, shortTime } from './common.js';

/** Time-range choices (the `since` filter of the page's query string) → milliseconds back from now. */
export const RANGES: { value: string; label: string; ms: number }[] = [
  { value: '5m', label: 'last 5 minutes', ms: 5 * 60_000 },
  { value: '15m', label: 'last 15 minutes', ms: 15 * 60_000 },
  { value: '1h', label: 'last hour', ms: 3600_000 },
  { value: '6h', label: 'last 6 hours', ms: 6 * 3600_000 },
  { value: '24h', label: 'last 24 hours', ms: 24 * 3600_000 },
  { value: '7d', label: 'last 7 days', ms: 7 * 24 * 3600_000 },
];

/** The list view's query (search, pageSize, since, sort) in the monitor API's terms (q, limit, from, order). */
export function toApiQuery(query: Query, now = Date.now()): TaskListQuery {
  const out: TaskListQuery = {};
  const str = (k: string) => (query[k] === undefined || query[k] === null || query[k] === '' ? undefined : String(query[k]));
  out.state = str('state');
  out.name = str('name');
  out.queue = str('queue');
  out.q = str('search');
  const range = RANGES.find((r) => r.value === str('since'));
  if (range) out.from = now - range.ms;
  if (str('from')) out.from = str('from');
  if (str('to')) out.to = str('to');
  if (str('sort') === 'sentAt') out.order = 'asc';
  out.page = Number(query.page) || 1;
  out.limit = Number(query.pageSize) || 50;
  for (const k of Object.keys(out) as (keyof TaskListQuery)[]) if (out[k] === undefined) delete out[k];
  return out;
}


export const tasksRoute: Route = {
  path: '/admin/tasks/',
  permission: 'view_task',
  async render(ctx) {
    ctx.setTitle('Tasks', [{ label: 'Monitor', href: '/admin/monitor/' }]);
    const bar = pageBar();
    ctx.outlet.append(bar.element);
    const choices = await monitorApi.filters();
    if (ctx.signal.aborted) return;

    // Rows whose state changed since the last load get a brief highlight.
    const seen = new Map<string, string>();
    let firstLoad = true;
    const changed = new Set<string>();
    const note = h('p', { class: 'list-note', hidden: true });

    const fetchPage = async (query: Query): Promise<ListPage<TaskRow>> => {
      const q = toApiQuery(query);
      const res = await monitorApi.tasks(q);
      changed.clear();
      for (const t of res.items) {
        const before = seen.get(t.id);
        if (!firstLoad && before !== t.state) changed.add(t.id);
        seen.set(t.id, t.state);
      }
      firstLoad = false;
      note.hidden = !res.scan?.truncated;
      note.textContent = res.scan?.truncated ? `Searched the ${res.scan.examined.toLocaleString()} most recent matching entries; use “Next” for older ones, or narrow the filters.` : '';
      return { items: res.items, total: res.total, page: res.page ?? q.page ?? 1, pageSize: res.limit, hasMore: res.nextCursor !== null };
    };

    const bulkActions: BulkAction[] = [
      {
        label: 'Retry selected',
        permission: 'change_task',
        confirm: (n) => `Run ${n} selected task(s) again? Only FAILURE tasks can be retried; others are skipped.`,
        async run(ids) {
          const outcome = await Promise.allSettled(ids.map((id) => monitorApi.retry(id)));
          const ok = outcome.filter((o) => o.status === 'fulfilled').length;
          return `${ok} task(s) queued again${ok < ids.length ? `; ${ids.length - ok} skipped (not FAILURE, or gone)` : ''}.`;
        },
      },
      {
        label: 'Revoke selected',
        permission: 'change_task',
        confirm: (n) => `Revoke ${n} selected task(s)? Waiting ones will not run; running ones are asked to stop.`,
        danger: true,
        async run(ids) {
          const outcome = await Promise.allSettled(ids.map((id) => monitorApi.revoke(id, false)));
          const ok = outcome.filter((o) => o.status === 'fulfilled').length;
          return `${ok} task(s) revoked${ok < ids.length ? `; ${ids.length - ok} skipped (already finished, or gone)` : ''}.`;
        },
      },
      {
        label: 'Delete selected',
        permission: 'delete_task',
        confirm: (n) => `Delete ${n} selected task(s) and their results? Running tasks are skipped. This cannot be undone.`,
        danger: true,
        async run(ids) {
          const outcome = await Promise.allSettled(ids.map((id) => monitorApi.remove(id)));
          const ok = outcome.filter((o) => o.status === 'fulfilled').length;
          return `${ok} task(s) deleted${ok < ids.length ? `; ${ids.length - ok} skipped (running, or gone)` : ''}.`;
        },
      },
    ];

    const list = listView<TaskRow>({
      ctx,
      endpoint: '/api/v1/monitor/tasks',
      fetch: fetchPage,
      testId: 'task-list',
      pageSize: 25,
      noun: ['task', 'tasks'],
      search: 'by task id or argument text',
      emptyText: 'No task has been sent yet (or all have expired).',
      idOf: (t) => t.id,
      bulkActions,
      filters: [
        { key: 'state', label: 'State', options: TASK_STATES.map((s) => ({ value: s, label: s })) },
        { key: 'name', label: 'Task', options: choices.names.map((n) => ({ value: n, label: n })) },
        { key: 'queue', label: 'Queue', options: choices.queues.map((q) => ({ value: q, label: q })) },
        { key: 'since', label: 'Sent', options: RANGES.map((r) => ({ value: r.value, label: r.label })) },
      ],
      columns: [
        { label: 'Task id', className: 'nowrap', render: (t) => h('a', { href: `/admin/tasks/${encodeURIComponent(t.id)}/`, class: 'task-id', title: t.id }, shortTaskId(t.id)) },
        { label: 'Name', render: (t) => t.name },
        {
          label: 'State',
          render: (t) => {
            const badge = stateBadge(t.state);
            badge.dataset.testid = 'task-state';
            if (changed.has(t.id)) badge.classList.add('flash');
            return badge;
          },
        },
        { label: 'Queue', render: (t) => t.queue },
        {
          label: 'Arguments',
          render: (t) =>
            h('span', {}, h('span', { class: 'args-preview', title: t.argsPreview }, t.argsPreview || '[]'), t.error && t.state !== 'SUCCESS' ? h('span', { class: 'error-preview', title: t.error }, t.error) : ''),
        },
        { label: 'Sent', sort: 'sentAt', className: 'nowrap', render: (t) => shortTime(t.sentAt) },
        { label: 'Runtime', className: 'num', render: (t) => (t.runtimeMs === null ? h('span', { class: 'muted' }, '—') : formatDuration(t.runtimeMs)) },
        { label: 'Retries', className: 'num', render: (t) => String(t.retries) },
        { label: 'Worker', className: 'nowrap', render: (t) => (t.worker ? h('span', { class: 'mono' }, t.worker) : h('span', { class: 'muted' }, '—')) },
      ],
    });
    ctx.outlet.append(list.element, note);

    // A search for an exact task id with one hit opens it (Flower does the same).
    const search = ctx.query.get('search')?.trim();
    if (search && /^[\w.:-]{8,}$/.test(search)) {
      const res = await monitorApi.tasks({ q: search, limit: 2 }).catch(() => undefined);
      if (!ctx.signal.aborted && res?.exactId && res.items.length === 1) navigate(`/admin/tasks/${encodeURIComponent(res.items[0]!.id)}/`, { replace: true });
    }

    keepLive(ctx, bar.indicator, () => list.refresh(), {
      ms: 1000,
      filter: { name: ctx.query.get('name') ?? undefined, queue: ctx.query.get('queue') ?? undefined },
    });
  },
};
