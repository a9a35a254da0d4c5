// Periodic tasks and their schedules (django-celery-beat's admin).
import './beat.css';
import type { Section } from '../../nav.js';
import type { Route } from '../../router.js';
import { h } from '../../ui/dom.js';
import { KIND_PAGES, renderKindPage } from './schedule-list.js';
import { renderTaskList } from './task-list.js';
import { renderTaskPage } from './task-page.js';
import { LIST_PATH, addPath } from './types.js';

const routes: Route[] = [
  { path: LIST_PATH, permission: 'view_periodictask', render: renderTaskList },
  { path: '/admin/periodic-tasks/add/', permission: 'add_periodictask', render: (ctx) => renderTaskPage(ctx) },
  {
    path: '/admin/periodic-tasks/:id/',
    permission: 'view_periodictask',
    render: (ctx) => {
      const id = Number(ctx.params.id);
      if (!Number.isSafeInteger(id) || id < 1) {
        ctx.setTitle('Page not found');
        ctx.outlet.append(h('p', {}, 'There is no such periodic task. ', h('a', { href: LIST_PATH }, 'Back to the periodic tasks.')));
        return;
      }
      return renderTaskPage(ctx, id);
    },
  },
  ...KIND_PAGES.map((page) => ({ path: page.path, permission: page.permission, render: renderKindPage(page) })),
];

export const beatSection: Section = {
  routes,
  nav: [
    {
      title: 'Periodic tasks',
      items: [
        { label: 'Periodic tasks', href: LIST_PATH, permission: 'view_periodictask', add: { href: addPath(), permission: 'add_periodictask' }, testId: 'nav-periodic-tasks' },
        ...KIND_PAGES.map((page) => ({
          label: page.title,
          href: page.path,
          permission: page.permission,
          add: { href: addPath(new URLSearchParams({ kind: page.kind })), permission: 'add_periodictask' },
          testId: `nav-${page.kind}`,
        })),
      ],
    },
  ],
};
