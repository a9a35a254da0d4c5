// The console frame: top bar (site, user, log out), side navigation by permission, breadcrumbs,
// messages, and the outlet pages render into.
import { api } from './api.js';
import type { NavGroup } from './nav.js';
import type { Route, RouteContext } from './router.js';
import { can, currentUser } from './session.js';
import { h } from './ui/dom.js';
import { setMessageArea, showPendingMessages } from './ui/messages.js';

export const allowed = (permission: string | string[] | undefined): boolean =>
  permission === undefined || (Array.isArray(permission) ? permission.some(can) : can(permission));

export interface Frame {
  render(route: Route | undefined, params: Record<string, string>): void;
}

export function mountFrame(root: HTMLElement, groups: NavGroup[]): Frame {
  const user = currentUser();
  const logout = h('button', { type: 'button', class: 'linkish', 'data-testid': 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    // The log-out endpoint wants the CSRF token; a plain form post keeps the redirect behaviour.
    const form = h('form', { method: 'post', action: '/admin/logout', hidden: true }, h('input', { type: 'hidden', name: '_csrf', value: await api.csrf() }));
    document.body.append(form);
    form.submit();
  });
  const bar = h(
    'header',
    { class: 'bar' },
    h('a', { class: 'brand', href: '/admin/' }, 'seler administration'),
    h('nav', { class: 'bar-links', 'aria-label': 'Site' }, h('a', { href: '/', target: '_blank' }, 'View site'), h('a', { href: '/docs', target: '_blank' }, 'API docs')),
    h(
      'div',
      { class: 'who' },
      'Signed in as ',
      h('strong', {}, user.username),
      user.isSuperuser ? ' (superuser)' : '',
      // Every staff user's own pages, as in Django's top bar.
      h('nav', { class: 'user-links', 'aria-label': 'Your account' }, h('a', { href: '/admin/password/' }, 'Change password'), h('a', { href: '/admin/tokens/' }, 'API tokens'), h('a', { href: '/admin/log/' }, 'History')),
      logout,
    ),
  );
  const side = h('nav', { class: 'side', 'aria-label': 'Console' });
  for (const group of groups) {
    const items = group.items.filter((i) => allowed(i.permission));
    if (!items.length) continue;
    side.append(h('h2', {}, group.title), h('ul', {}, ...items.map((i) => h('li', {}, h('a', { href: i.href, 'data-testid': i.testId }, i.label)))));
  }
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' });
  const title = h('h1', {});
  const messages = h('ul', { class: 'messages' });
  setMessageArea(messages);
  const outlet = h('div', { class: 'page' });
  const main = h('main', { class: 'main', id: 'main' }, crumbs, messages, title, outlet);
  root.replaceChildren(bar, h('div', { class: 'frame' }, side, main));
  root.classList.remove('boot');
  root.removeAttribute('aria-busy');

  let controller: AbortController | undefined;

  const setTitle = (text: string, trail: { label: string; href: string }[] = []) => {
    title.textContent = text;
    document.title = `${text} | seler administration`;
    const home = location.pathname === '/admin/';
    crumbs.hidden = home;
    crumbs.replaceChildren(
      ...[{ label: 'Home', href: '/admin/' }, ...trail].flatMap((c) => [h('a', { href: c.href }, c.label), ' › ']),
      h('span', { 'aria-current': 'page' }, text),
    );
  };

  return {
    render(route, params) {
      controller?.abort();
      controller = new AbortController();
      showPendingMessages();
      outlet.replaceChildren();
      for (const a of side.querySelectorAll('a')) a.classList.toggle('active', location.pathname.startsWith(a.getAttribute('href')!) && a.getAttribute('href') !== '/admin/');
      if (!route) {
        setTitle('Page not found');
        outlet.append(h('p', {}, 'There is no such page in the administration. ', h('a', { href: '/admin/' }, 'Back to the home page.')));
        return;
      }
      if (!allowed(route.permission)) {
        setTitle('Permission denied');
        outlet.append(h('p', { class: 'error' }, 'You do not have permission to view this page.'));
        return;
      }
      const ctx: RouteContext = { params, query: new URLSearchParams(location.search), outlet, signal: controller.signal, setTitle };
      Promise.resolve(route.render(ctx)).catch((err: Error) => {
        if (ctx.signal.aborted) return;
        outlet.replaceChildren(h('p', { class: 'error', role: 'alert' }, err.message));
      });
    },
  };
}
