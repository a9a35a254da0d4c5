// The console's home: every section the user may see, with "Add" links, and their recent actions.
import { api, type Page } from '../api.js';
import { allowed } from '../layout.js';
import type { NavGroup } from '../nav.js';
import type { Route } from '../router.js';
import { can } from '../session.js';
import { h } from '../ui/dom.js';
import { timeCell } from '../ui/format.js';

interface LogEntry {
  id: number;
  actionTime: string;
  username: string;
  action: 'add' | 'change' | 'delete' | 'other';
  objectType: string;
  objectId: string | null;
  objectRepr: string;
}

export function homeRoute(groups: NavGroup[]): Route {
  return {
    path: '/admin/',
    async render(ctx) {
      ctx.setTitle('Site administration');
      const apps = h('div', { class: 'apps' });
      for (const group of groups) {
        const items = group.items.filter((i) => allowed(i.permission));
        if (!items.length) continue;
        apps.append(
          h(
            'section',
            { class: 'app' },
            h('h2', {}, group.title),
            h(
              'table',
              {},
              h(
                'tbody',
                {},
                ...items.map((i) => h('tr', {}, h('th', { scope: 'row' }, h('a', { href: i.href }, i.label)), h('td', {}, i.add && can(i.add.permission) ? h('a', { href: i.add.href, class: 'add' }, '+ Add') : ''))),
              ),
            ),
          ),
        );
      }
      if (!apps.childElementCount) apps.append(h('p', {}, 'You don’t have permission to view or edit anything.'));
      const recent = h('section', { class: 'recent' }, h('h2', {}, 'My recent actions'));
      ctx.outlet.append(h('div', { class: 'home' }, apps, recent));
      const log = await api.get<Page<LogEntry>>('/api/v1/admin/log', { pageSize: 10 });
      if (ctx.signal.aborted) return;
      recent.append(
        log.items.length
          ? h('ul', { class: 'actions-list' }, ...log.items.map((e) => h('li', { class: `action-${e.action}` }, h('span', { class: 'what' }, `${e.objectRepr}`), h('span', { class: 'muted' }, ` ${e.objectType} · `), timeCell(e.actionTime))))
          : h('p', { class: 'muted' }, 'None available'),
      );
    },
  };
}
