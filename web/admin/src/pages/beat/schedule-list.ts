// Intervals, Crontabs, Solar events, Clocked: the distinct schedules of one kind in use (schedules are
// stored inline in each periodic task), in words, with the tasks using each, and a link to add a
// periodic task with that schedule (the add form pre-filled from the query string).
import type { RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { h } from '../../ui/dom.js';
import { formatDateTime, formatNumber } from '../../ui/format.js';
import { listView, type Column } from '../../ui/list-view.js';
import { addPath, changePath, scheduleQuery, specOf, type ScheduleKind, type ScheduleUsage } from './types.js';

export interface KindPage {
  kind: ScheduleKind;
  path: string;
  title: string;
  noun: [string, string];
  permission: string;
  /** "an interval" */
  one: string;
}

export const KIND_PAGES: KindPage[] = [
  { kind: 'interval', path: '/admin/intervals/', title: 'Intervals', noun: ['interval', 'intervals'], permission: 'view_intervalschedule', one: 'an interval' },
  { kind: 'crontab', path: '/admin/crontabs/', title: 'Crontabs', noun: ['crontab', 'crontabs'], permission: 'view_crontabschedule', one: 'a crontab' },
  { kind: 'solar', path: '/admin/solar-events/', title: 'Solar events', noun: ['solar event', 'solar events'], permission: 'view_solarschedule', one: 'a solar event' },
  { kind: 'clocked', path: '/admin/clocked/', title: 'Clocked', noun: ['clocked schedule', 'clocked schedules'], permission: 'view_clockedschedule', one: 'a clocked schedule' },
];

/** The schedule's own values, compactly: "0 9-17 * * mon-fri Europe/Warsaw". */
function values(s: ScheduleUsage): Node {
  const spec = specOf(s.schedule);
  switch (s.kind) {
    case 'interval':
      return h('code', {}, `every ${String(spec.every)} ${String(spec.period)}`);
    case 'crontab':
      return h('span', {}, h('code', {}, [spec.minute, spec.hour, spec.dayOfMonth, spec.monthOfYear, spec.dayOfWeek].map(String).join(' ')), h('span', { class: 'muted small' }, ` ${String(spec.timezone)}`));
    case 'solar':
      return h('code', {}, `${String(spec.event)} at ${String(spec.latitude)}, ${String(spec.longitude)}`);
    case 'clocked':
      return h('span', {}, h('code', {}, String(spec.at)), h('span', { class: 'muted small' }, ` ${formatDateTime(String(spec.at))}`));
  }
}

export function renderKindPage(page: KindPage) {
  return (ctx: RouteContext) => {
    ctx.setTitle(page.title);
    const mayAdd = can('add_periodictask');
    const columns: Column<ScheduleUsage>[] = [
      { label: 'Schedule', sort: 'schedule', render: (s) => h('strong', { 'data-testid': 'schedule-words' }, s.description) },
      { label: page.kind === 'crontab' ? 'm h dom mon dow · zone' : 'Values', render: values },
      {
        label: 'Periodic tasks',
        render: (s) =>
          h(
            'ul',
            { class: 'inline-list' },
            ...s.tasks.map((t) => h('li', {}, h('a', { href: changePath(t.id), class: t.enabled ? undefined : 'disabled-task', title: t.enabled ? undefined : 'disabled' }, t.name), t.enabled ? '' : h('span', { class: 'muted small' }, ' (disabled)'))),
          ),
      },
      { label: 'Tasks', sort: 'taskCount', className: 'num', render: (s) => formatNumber(s.taskCount) },
    ];
    if (mayAdd) columns.push({ label: '', render: (s) => h('a', { href: addPath(scheduleQuery(s.schedule)), class: 'small', 'data-testid': 'add-with-schedule' }, '+ Add a periodic task with this schedule') });
    const actions = h('div', { class: 'page-actions' });
    if (mayAdd) actions.append(h('a', { class: 'button', href: addPath(new URLSearchParams({ kind: page.kind })) }, `+ Add a periodic task with a new ${page.noun[0]}`));
    actions.append(h('p', { class: 'muted small intro' }, `Schedules are part of each periodic task: this page lists the distinct ${page.noun[1]} in use and the tasks using each. Change a schedule on its task’s page.`));
    const list = listView<ScheduleUsage>({
      ctx,
      endpoint: '/api/v1/admin/schedules',
      fixedQuery: { kind: page.kind },
      columns,
      idOf: (s) => s.key,
      search: page.noun[1],
      filters: [{ key: 'enabled', label: 'Used by', options: [{ value: 'true', label: 'an enabled task' }, { value: 'false', label: 'disabled tasks only' }] }],
      noun: page.noun,
      emptyText: `No periodic task uses ${page.one} yet.`,
      testId: `schedules-${page.kind}`,
    });
    ctx.outlet.append(actions, list.element);
  };
}
