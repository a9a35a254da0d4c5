// Users, groups, API tokens and the change history (Django's auth and admin log).
import './auth.css';
import type { Section } from '../../nav.js';
import type { Route, RouteContext } from '../../router.js';
import { h } from '../../ui/dom.js';
import { renderGroupForm, renderGroupList } from './groups.js';
import { renderHistory } from './history.js';
import { renderPasswordChange } from './password.js';
import { renderTokenAdd, renderTokenList } from './tokens.js';
import { GROUPS, LOG, PASSWORD, TOKENS, USERS } from './types.js';
import { renderUserForm, renderUserList } from './users.js';

/** /…/:id/ with a numeric id, else a "not found" page. */
const byId = (render: (ctx: RouteContext, id: number) => Promise<void>, back: string) => (ctx: RouteContext) => {
  const id = Number(ctx.params.id);
  if (Number.isSafeInteger(id) && id > 0) return render(ctx, id);
  ctx.setTitle('Page not found');
  ctx.outlet.append(h('p', {}, 'There is no such page in the administration. ', h('a', { href: back }, 'Back to the list.')));
};

const routes: Route[] = [
  { path: USERS, permission: 'view_user', render: renderUserList },
  { path: `${USERS}add/`, permission: 'add_user', render: (ctx) => renderUserForm(ctx) },
  { path: `${USERS}:id/`, permission: 'view_user', render: byId(renderUserForm, USERS) },
  { path: GROUPS, permission: 'view_group', render: renderGroupList },
  { path: `${GROUPS}add/`, permission: 'add_group', render: (ctx) => renderGroupForm(ctx) },
  { path: `${GROUPS}:id/`, permission: 'view_group', render: byId(renderGroupForm, GROUPS) },
  // Every staff user manages their own tokens, sees their own history and changes their own password.
  { path: TOKENS, render: renderTokenList },
  { path: `${TOKENS}add/`, render: renderTokenAdd },
  { path: LOG, render: renderHistory },
  { path: PASSWORD, render: renderPasswordChange },
];

export const authSection: Section = {
  routes,
  nav: [
    {
      title: 'Authentication and authorization',
      items: [
        { label: 'Users', href: USERS, permission: 'view_user', add: { href: `${USERS}add/`, permission: 'add_user' }, testId: 'nav-users' },
        { label: 'Groups', href: GROUPS, permission: 'view_group', add: { href: `${GROUPS}add/`, permission: 'add_group' }, testId: 'nav-groups' },
        { label: 'API tokens', href: TOKENS, permission: 'view_token', add: { href: `${TOKENS}add/`, permission: 'add_token' }, testId: 'nav-tokens' },
        { label: 'Change history', href: LOG, permission: 'view_logentry', testId: 'nav-history' },
      ],
    },
  ],
};
