// API tokens: your own (everyone's with view_token), create one – shown once, with a copy button –
// and revoke with confirmation. Revoked tokens stay listed, as revoked.
import { api, ApiError, type Page } from '../../api.js';
import type { RouteContext } from '../../router.js';
import { can, currentUser } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { h, plural } from '../../ui/dom.js';
import { busy, clearErrors, field, input, select, showErrors } from '../../ui/form.js';
import { timeCell } from '../../ui/format.js';
import { listView, type Column, type ListView } from '../../ui/list-view.js';
import { notify } from '../../ui/messages.js';
import { TOKENS, type Token, type User } from './types.js';

const API = '/api/v1/admin/tokens';
const TRAIL = [{ label: 'API tokens', href: TOKENS }];

const mayRevoke = (t: Token) => !t.revoked && (t.userId === currentUser().id || can('delete_token'));

async function revoke(t: Token): Promise<boolean> {
  const ok = await confirmDialog({
    title: 'Revoke API token?',
    message: `Revoke “${t.name}” (${t.prefix}…) of ${t.username}? Scripts using it get 401 from now on. This cannot be undone.`,
    danger: true,
    confirmLabel: 'Yes, revoke it',
  });
  if (!ok) return false;
  try {
    await api.delete(`${API}/${t.id}`);
    notify('success', `The API token “${t.name}” was revoked.`);
    return true;
  } catch (err) {
    notify('error', `“${t.name}” could not be revoked: ${(err as Error).message}`);
    return false;
  }
}

export function renderTokenList(ctx: RouteContext): void {
  const everyone = can('view_token');
  ctx.setTitle(everyone ? 'API tokens' : 'My API tokens');
  const actions = h('div', { class: 'page-actions' }, h('a', { class: 'button', href: `${TOKENS}add/`, 'data-testid': 'add-token' }, '+ Create API token'));
  actions.append(h('p', { class: 'muted small intro' }, 'Scripts send a token as “Authorization: Bearer <token>” and act as its user, with their permissions.'));
  let list: ListView | undefined;
  const columns: Column<Token>[] = [
    { label: 'Name', render: (t) => h('strong', {}, t.name) },
    ...(everyone ? [{ label: 'User', render: (t: Token) => t.username }] : []),
    { label: 'Token', render: (t) => h('code', {}, `${t.prefix}…`) },
    { label: 'Created', render: (t) => timeCell(t.created) },
    { label: 'Last used', render: (t) => timeCell(t.lastUsed) },
    { label: 'Status', render: (t) => (t.revoked ? h('span', { class: 'badge bad', title: `Revoked ${t.revoked}` }, 'revoked') : h('span', { class: 'badge ok' }, 'active')) },
    {
      label: '',
      render: (t) => {
        if (!mayRevoke(t)) return '';
        const b = h('button', { type: 'button', class: 'button secondary danger small', 'data-testid': 'revoke' }, 'Revoke');
        b.addEventListener('click', async () => {
          if (await revoke(t)) await list?.refresh();
        });
        return b;
      },
    },
  ];
  list = listView<Token>({
    ctx,
    endpoint: API,
    fixedQuery: everyone ? { all: true } : {},
    columns,
    idOf: (t) => t.id,
    filters: [{ key: 'includeRevoked', label: 'Revoked', options: [{ value: 'false', label: 'hide' }, { value: 'true', label: 'show' }] }],
    bulkActions: [
      {
        label: 'Revoke selected tokens',
        danger: true,
        confirm: (n) => `Revoke ${plural(n, 'API token')}? Scripts using them get 401 from now on.`,
        async run(ids) {
          const failures: string[] = [];
          for (const id of ids) await api.delete(`${API}/${id}`).catch((err: Error) => failures.push(err.message));
          return `Revoked ${plural(ids.length - failures.length, 'API token')}.${failures.length ? ` Not revoked: ${failures.join('; ')}.` : ''}`;
        },
      },
    ],
    noun: ['API token', 'API tokens'],
    emptyText: everyone ? 'There are no API tokens yet.' : 'You have no API tokens yet.',
    testId: 'tokens',
  });
  ctx.outlet.append(actions, list.element);
}

export async function renderTokenAdd(ctx: RouteContext): Promise<void> {
  ctx.setTitle('Create API token', TRAIL);
  const me = currentUser();
  let users: User[] = [];
  // A superuser may create a token for someone else (that is acting as them).
  if (me.isSuperuser && can('view_user')) users = (await api.get<Page<User>>('/api/v1/admin/users', { pageSize: 200, isActive: true }).catch(() => ({ items: [] as User[] }))).items;
  if (ctx.signal.aborted) return;
  const name = input('name', { maxlength: 100, required: true, autocomplete: 'off', placeholder: 'e.g. nightly report script', 'data-testid': 'token-name' });
  const owner = users.length > 1 ? select('userId', users.map((u) => ({ value: String(u.id), label: u.id === me.id ? `${u.username} (you)` : u.username })), String(me.id), { 'data-testid': 'token-user' }) : null;
  const form = h(
    'form',
    { class: 'edit token', novalidate: true },
    h(
      'fieldset',
      { class: 'primary' },
      field({ name: 'name', label: 'Name', required: true, control: name, help: 'What the token is for, to recognise it later.' }),
      owner ? field({ name: 'userId', label: 'User', control: owner, help: 'The token acts as this user, with their permissions.' }) : null,
    ),
    h('div', { class: 'form-actions' }, h('a', { class: 'button secondary', href: TOKENS }, 'Cancel'), h('button', { type: 'submit', class: 'button', 'data-testid': 'create-token' }, 'Create token')),
  );
  ctx.outlet.append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!name.value.trim()) return showErrors(form, new ApiError(400, 'invalid', 'A name is required.', { name: 'This field is required.' }));
    try {
      const body: Record<string, unknown> = { name: name.value.trim() };
      if (owner && Number(owner.value) !== me.id) body.userId = Number(owner.value);
      const created = await busy(form, () => api.post<Token & { token: string }>(API, body));
      form.replaceWith(reveal(created));
    } catch (err) {
      if (!ctx.signal.aborted) showErrors(form, err as Error);
    }
  });
}

/** The new token, shown this once, with a copy button. */
function reveal(created: Token & { token: string }): HTMLElement {
  const value = h('input', { type: 'text', readonly: true, value: created.token, class: 'mono token-value', 'aria-label': 'The new API token', 'data-testid': 'new-token' });
  const copy = h('button', { type: 'button', class: 'button', 'data-testid': 'copy-token' }, 'Copy');
  const status = h('span', { class: 'muted', role: 'status' });
  copy.addEventListener('click', async () => {
    value.select();
    try {
      await navigator.clipboard.writeText(created.token);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      // No clipboard access (an insecure origin, say): the text is selected for Ctrl+C.
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected token.';
    }
  });
  value.addEventListener('focus', () => value.select());
  return h(
    'div',
    { class: 'token-reveal', 'data-testid': 'token-reveal' },
    h('p', {}, h('strong', {}, `The API token “${created.name}” was created for ${created.username}.`)),
    h('p', { class: 'warning-text' }, 'Copy it now: this is the only time it is shown. Only its first characters are kept to recognise it.'),
    h('div', { class: 'copy-row' }, value, copy),
    status,
    h('p', {}, h('a', { href: TOKENS, class: 'button secondary' }, 'Back to the API tokens')),
  );
}
