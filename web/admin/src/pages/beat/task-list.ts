// The change list of periodic tasks: name, task, schedule in words, enabled, last run, run count,
// next run, source; search, filters, sorting, pagination, bulk enable/disable/delete. It refreshes
// itself every few seconds (one list call) so the last run and the run count move live.
import { api } from '../../api.js';
import type { RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { h, plural } from '../../ui/dom.js';
import { formatDateTime, formatNumber, relativeTime, yesNo } from '../../ui/format.js';
import { listView, type Column } from '../../ui/list-view.js';
import { every } from './live.js';
import { loadRegistered, sourceBadge } from './task-page.js';
import { BASE, KIND_LABELS, SCHEDULE_KINDS, addPath, changePath, type BulkResult, type PeriodicTask } from './types.js';

export const REFRESH_MS = 3000;

const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

/** Today's times as a time only, others with a short date; the full moment in the tooltip. */
function when(iso: string | null, testId: string, emptyText = 'never'): HTMLElement {
  if (!iso) return h('span', { class: 'muted', 'data-testid': testId }, emptyText);
  const d = new Date(iso);
  const today = d.toDateString() === new Date().toDateString();
  return h(
    'span',
    { class: 'when', 'data-testid': testId, 'data-value': iso },
    h('time', { datetime: iso, title: `${formatDateTime(iso)} · ${iso}` }, today ? timeOnly.format(d) : dateAndTime.format(d)),
    h('span', { class: 'muted small relative' }, relativeTime(iso)),
  );
}

const columns: Column<PeriodicTask>[] = [
  {
    label: 'Name',
    sort: 'name',
    render: (t) => h('span', { class: 'name-cell' }, h('a', { href: changePath(t.id), 'data-testid': 'task-link' }, t.name), t.description ? h('span', { class: 'muted small desc' }, t.description) : ''),
  },
  {
    label: 'Task',
    sort: 'task',
    render: (t) => h('span', {}, h('code', {}, t.task), t.taskRegistered ? '' : h('span', { class: 'badge warn', title: 'No module of the web process defines this task' }, 'custom')),
  },
  { label: 'Schedule', render: (t) => h('span', { class: 'schedule-cell' }, h('span', { class: `badge kind kind-${t.scheduleKind}` }, KIND_LABELS[t.scheduleKind]), ' ', t.scheduleDescription) },
  { label: 'Enabled', sort: 'enabled', render: (t) => h('span', { 'data-testid': 'enabled', 'data-value': String(t.enabled) }, yesNo(t.enabled)) },
  { label: 'Last run', sort: 'lastRunAt', render: (t) => when(t.lastRunAt, 'last-run') },
  { label: 'Run count', sort: 'totalRunCount', className: 'num', render: (t) => h('span', { 'data-testid': 'run-count', 'data-value': String(t.totalRunCount) }, formatNumber(t.totalRunCount)) },
  { label: 'Next run', sort: 'nextRunAt', render: (t) => (t.enabled ? when(t.nextRunAt, 'next-run', 'not scheduled') : h('span', { class: 'muted', 'data-testid': 'next-run' }, 'disabled')) },
  { label: 'Source', render: (t) => sourceBadge(t.source) },
];

function bulkMessage(r: BulkResult, verb: string): string {
  const parts = [`${plural(r.changed.length, 'periodic task')} ${r.changed.length === 1 ? 'was' : 'were'} ${verb}.`];
  if (r.unchanged.length) parts.push(`${plural(r.unchanged.length, 'was', 'were')} already ${verb}.`);
  if (r.refused.length) parts.push(r.refused.map((x) => x.message).join('; ') + '.');
  if (r.notFound.length) parts.push(`${plural(r.notFound.length, 'task')} no longer existed.`);
  if (r.restoredOnBeatStart.length) parts.push(`${plural(r.restoredOnBeatStart.length, 'deleted task is', 'deleted tasks are')} declared in seler.config.json and will come back at the next beat start unless removed there.`);
  return parts.join(' ');
}

export async function renderTaskList(ctx: RouteContext): Promise<void> {
  ctx.setTitle('Periodic tasks');
  const registered = await loadRegistered().catch(() => []);
  if (ctx.signal.aborted) return;
  const actions = h('div', { class: 'page-actions' });
  if (can('add_periodictask')) actions.append(h('a', { class: 'button', href: addPath(), 'data-testid': 'add-periodic-task' }, '+ Add periodic task'));
  const bulk = (action: 'enable' | 'disable' | 'delete', verb: string) => async (ids: string[]) =>
    bulkMessage(await api.post<BulkResult>(`${BASE}/bulk`, { ids: ids.map(Number), action }), verb);
  const list = listView<PeriodicTask>({
    ctx,
    endpoint: BASE,
    columns,
    idOf: (t) => t.id,
    search: 'periodic tasks',
    filters: [
      { key: 'enabled', label: 'Enabled', options: [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }] },
      { key: 'scheduleKind', label: 'Schedule', options: SCHEDULE_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] })) },
      { key: 'source', label: 'Source', options: [{ value: 'admin', label: 'admin' }, { value: 'config', label: 'config' }, { value: 'builtin', label: 'builtin' }] },
      ...(registered.length ? [{ key: 'task', label: 'Task', options: registered.map((t) => ({ value: t.name, label: t.name })) }] : []),
      ...(registered.length ? [{ key: 'queue', label: 'Queue', options: [...new Set(registered.map((t) => t.queue))].sort().map((q) => ({ value: q, label: q })) }] : []),
    ],
    bulkActions: [
      { label: 'Enable selected periodic tasks', permission: 'change_periodictask', run: bulk('enable', 'enabled') },
      { label: 'Disable selected periodic tasks', permission: 'change_periodictask', run: bulk('disable', 'disabled') },
      {
        label: 'Delete selected periodic tasks',
        permission: 'delete_periodictask',
        danger: true,
        confirm: (n) => `Delete ${plural(n, 'periodic task')} and their run history? Tasks declared in seler.config.json come back at the next beat start unless removed there; built-in tasks cannot be deleted.`,
        run: bulk('delete', 'deleted'),
      },
    ],
    noun: ['periodic task', 'periodic tasks'],
    emptyText: 'There are no periodic tasks yet.',
    testId: 'periodic-tasks',
  });
  ctx.outlet.append(actions, list.element, h('p', { class: 'muted small live-note' }, `This list updates itself every ${REFRESH_MS / 1000} seconds.`));
  every(ctx.signal, REFRESH_MS, () => list.refresh());
}
