// The change history (Django's LogEntry): who changed what, when. Everything with view_logentry,
// otherwise your own actions; filtered by action and object type, or by one object (its History link).
import type { RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { h } from '../../ui/dom.js';
import { timeCell } from '../../ui/format.js';
import { listView, type Column } from '../../ui/list-view.js';
import { GROUPS, LOG, TOKENS, USERS, type LogEntry } from './types.js';

const TYPES: Record<string, string> = { periodictask: 'periodic task', user: 'user', group: 'group', token: 'API token' };
const ACTIONS: Record<LogEntry['action'], string> = { add: 'Addition', change: 'Change', delete: 'Deletion', other: 'Action' };

/** Where an object is shown in the console (nothing for deleted objects or unknown types). */
function objectHref(e: LogEntry): string | undefined {
  if (!e.objectId || e.action === 'delete') return undefined;
  if (e.objectType === 'periodictask') return `/admin/periodic-tasks/${e.objectId}/`;
  if (e.objectType === 'user') return `${USERS}${e.objectId}/`;
  if (e.objectType === 'group') return `${GROUPS}${e.objectId}/`;
  if (e.objectType === 'token') return TOKENS;
  return undefined;
}

/** Django's change message in words: "Added.", "Changed enabled and schedule.", "Deleted.". */
export function changeMessage(message: unknown): string {
  if (typeof message === 'string') return message || '—';
  if (!Array.isArray(message) || !message.length) return 'No fields changed.';
  const words = (list: string[]) => (list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`);
  return message
    .map((part: Record<string, { fields?: string[] }>) => {
      if ('added' in part) return 'Added.';
      if ('deleted' in part) return 'Deleted.';
      if ('changed' in part) return `Changed ${words(part.changed?.fields ?? [])}.`;
      return JSON.stringify(part);
    })
    .join(' ');
}

export function renderHistory(ctx: RouteContext): void {
  const everyone = can('view_logentry');
  ctx.setTitle(everyone ? 'Change history' : 'My change history');
  const objectId = ctx.query.get('objectId');
  const objectType = ctx.query.get('objectType');
  if (objectId) ctx.outlet.append(h('p', { class: 'notice' }, `The history of ${TYPES[objectType ?? ''] ?? objectType ?? 'an object'} #${objectId}. `, h('a', { href: LOG }, 'Show every change.')));
  else if (!everyone) ctx.outlet.append(h('p', { class: 'muted small' }, 'Your own actions (the whole history needs the “view log entry” permission).'));
  const columns: Column<LogEntry>[] = [
    { label: 'Date/time', render: (e) => timeCell(e.actionTime) },
    { label: 'User', render: (e) => e.username || h('span', { class: 'muted' }, 'system') },
    { label: 'Action', render: (e) => h('span', { class: `badge action action-${e.action}` }, ACTIONS[e.action] ?? e.action) },
    { label: 'Object type', render: (e) => TYPES[e.objectType] ?? e.objectType },
    {
      label: 'Object',
      render: (e) => {
        const href = objectHref(e);
        return href ? h('a', { href }, e.objectRepr) : h('span', {}, e.objectRepr);
      },
    },
    { label: 'Change message', render: (e) => h('span', { class: 'change-message' }, changeMessage(e.changeMessage)) },
  ];
  const list = listView<LogEntry>({
    ctx,
    endpoint: '/api/v1/admin/log',
    columns,
    idOf: (e) => e.id,
    filters: [
      { key: 'action', label: 'Action', options: Object.entries(ACTIONS).map(([value, label]) => ({ value, label })) },
      { key: 'objectType', label: 'Object type', options: Object.entries(TYPES).map(([value, label]) => ({ value, label })) },
    ],
    noun: ['change', 'changes'],
    emptyText: 'No changes were recorded yet.',
    testId: 'history',
  });
  ctx.outlet.append(list.element);
}
