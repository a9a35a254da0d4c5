// Users: the change list (search, staff / superuser / active filters) and the add / change form
// (username, password with the server's rules, email, flags, groups, direct permissions), as
// Django's auth admin. What the signed-in user may not do is not offered.
import { api, ApiError, type Page } from '../../api.js';
import type { RouteContext } from '../../router.js';
import { can, currentUser } from '../../session.js';
import { h, plural } from '../../ui/dom.js';
import { busy, checkbox, clearErrors, field, input, showErrors } from '../../ui/form.js';
import { timeCell, yesNo } from '../../ui/format.js';
import { listView, type Column } from '../../ui/list-view.js';
import { permissionCatalogue, permissionsField } from './permissions-field.js';
import { afterSave, deleteButton, saveButtons, submitterOf } from '../../ui/save.js';
import { PASSWORD_RULES, USERS, type Group, type User } from './types.js';

const API = '/api/v1/admin/users';
const TRAIL = [{ label: 'Users', href: USERS }];
const userPath = (id: number) => `${USERS}${id}/`;
const bool = [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }];

export function renderUserList(ctx: RouteContext): void {
  ctx.setTitle('Users');
  const actions = h('div', { class: 'page-actions' });
  if (can('add_user')) actions.append(h('a', { class: 'button', href: `${USERS}add/`, 'data-testid': 'add-user' }, '+ Add user'));
  const columns: Column<User>[] = [
    { label: 'Username', render: (u) => h('a', { href: userPath(u.id) }, u.username) },
    { label: 'Email address', render: (u) => u.email || h('span', { class: 'muted' }, '—') },
    { label: 'Staff status', render: (u) => yesNo(u.isStaff) },
    { label: 'Superuser', render: (u) => yesNo(u.isSuperuser) },
    { label: 'Active', render: (u) => yesNo(u.isActive) },
    { label: 'Groups', render: (u) => (u.groups.length ? u.groups.map((g) => g.name).join(', ') : h('span', { class: 'muted' }, '—')) },
    { label: 'Last login', render: (u) => timeCell(u.lastLogin) },
  ];
  const me = currentUser();
  const list = listView<User>({
    ctx,
    endpoint: API,
    columns,
    idOf: (u) => u.id,
    search: 'users',
    filters: [
      { key: 'isStaff', label: 'Staff status', options: bool },
      { key: 'isSuperuser', label: 'Superuser status', options: bool },
      { key: 'isActive', label: 'Active', options: bool },
    ],
    bulkActions: [
      {
        label: 'Delete selected users',
        permission: 'delete_user',
        danger: true,
        confirm: (n) => `Delete ${plural(n, 'user')}? Their sessions and API tokens stop working.`,
        async run(ids) {
          const failures: string[] = [];
          let done = 0;
          for (const id of ids) {
            if (Number(id) === me.id) {
              failures.push('you cannot delete your own account');
              continue;
            }
            try {
              await api.delete(`${API}/${id}`);
              done++;
            } catch (err) {
              failures.push((err as Error).message);
            }
          }
          return `Successfully deleted ${plural(done, 'user')}.${failures.length ? ` Not deleted: ${failures.join('; ')}.` : ''}`;
        },
      },
    ],
    noun: ['user', 'users'],
    testId: 'users',
  });
  ctx.outlet.append(actions, list.element);
}

async function allGroups(): Promise<Group[]> {
  const out: Group[] = [];
  for (let page = 1; page < 50; page++) {
    const r = await api.get<Page<Group>>('/api/v1/admin/groups', { page, pageSize: 200 });
    out.push(...r.items);
    if (out.length >= r.total || !r.items.length) break;
  }
  return out;
}

export async function renderUserForm(ctx: RouteContext, id?: number): Promise<void> {
  const me = currentUser();
  let user: User | undefined;
  let groups: Group[];
  let catalogue;
  try {
    [user, catalogue, groups] = await Promise.all([
      id === undefined ? undefined : api.get<User>(`${API}/${id}`),
      permissionCatalogue(),
      can('view_group') ? allGroups() : Promise.resolve([]),
    ]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle('User not found', TRAIL);
      ctx.outlet.append(h('p', { class: 'error', role: 'alert' }, `There is no user with id ${id}. `, h('a', { href: USERS }, 'Back to the users.')));
      return;
    }
    throw err;
  }
  if (ctx.signal.aborted) return;
  const readOnly = user ? !can('change_user') : !can('add_user');
  // Only a superuser may change a superuser, or give or take superuser status.
  const lockedTarget = !!user?.isSuperuser && !me.isSuperuser;
  const locked = readOnly || lockedTarget;
  ctx.setTitle(user ? (locked ? `View user: ${user.username}` : user.username) : 'Add user', TRAIL);

  const username = input('username', { value: user?.username ?? '', maxlength: 150, autocomplete: 'off', required: true, 'data-testid': 'username' });
  const password = input('password', { type: 'password', autocomplete: 'new-password', 'data-testid': 'password' });
  const password2 = input('password2', { type: 'password', autocomplete: 'new-password', 'data-testid': 'password2' });
  const email = input('email', { type: 'email', value: user?.email ?? '', maxlength: 254, autocomplete: 'off', 'data-testid': 'email' });
  const isActive = checkbox('isActive', user?.isActive ?? true, 'Active');
  const isStaff = checkbox('isStaff', user?.isStaff ?? true, 'Staff status');
  const isSuperuser = checkbox('isSuperuser', user?.isSuperuser ?? false, 'Superuser status');
  const rules = h('ul', { class: 'rules' }, ...PASSWORD_RULES.map((r) => h('li', {}, r)));
  const groupBoxes = groups.map((g) => {
    const box = checkbox('groups', !!user?.groups.some((x) => x.id === g.id), g.name);
    box.querySelector('input')!.value = String(g.id);
    return box;
  });
  const perms = permissionsField(catalogue, user?.permissions ?? [], { readOnly: locked });

  const form = h(
    'form',
    { class: 'edit user', novalidate: true, 'data-testid': 'user-form' },
    h(
      'fieldset',
      { class: 'primary' },
      field({ name: 'username', label: 'Username', required: true, control: username, help: '150 characters or fewer. Letters, digits and @ . + - _ only.' }),
      user
        ? field({
            name: 'password',
            label: 'Password',
            control: password,
            help: h('div', {}, user.hasUsablePassword ? 'Leave empty to keep the current password. ' : 'This user has no password (API tokens only). Set one to let them log in. ', rules),
          })
        : field({ name: 'password', label: 'Password', control: password, help: h('div', {}, 'Leave empty for a user who signs in only with API tokens.', rules) }),
      field({ name: 'password2', label: 'Password confirmation', control: password2, help: 'Enter the same password as before, for verification.' }),
    ),
    h('fieldset', {}, h('legend', {}, 'Personal info'), field({ name: 'email', label: 'Email address', control: email })),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Permissions'),
      field({ name: 'isActive', label: 'Active', control: isActive, help: 'Unselect this instead of deleting accounts: an inactive user cannot log in and has no permissions.' }),
      field({ name: 'isStaff', label: 'Staff status', control: isStaff, help: 'Whether the user can log in to this admin site.' }),
      field({ name: 'isSuperuser', label: 'Superuser status', control: isSuperuser, help: me.isSuperuser ? 'Has every permission without them being given.' : 'Only a superuser can change this.' }),
      field({
        name: 'groups',
        label: 'Groups',
        control: can('view_group') ? (groups.length ? h('div', { class: 'checkbox-list', 'data-testid': 'groups' }, ...groupBoxes) : h('span', { class: 'muted' }, 'There are no groups yet.')) : h('span', { class: 'muted' }, user?.groups.map((g) => g.name).join(', ') || '—'),
        help: 'The user gets every permission of each of their groups.',
      }),
      field({ name: 'permissions', label: 'User permissions', control: perms.element, help: 'Given to this user directly, besides those of their groups.' }),
    ),
  );
  if (user)
    form.append(h('fieldset', {}, h('legend', {}, 'Important dates'), h('dl', { class: 'details inline' }, h('dt', {}, 'Last login'), h('dd', {}, timeCell(user.lastLogin)), h('dt', {}, 'Date joined'), h('dd', {}, timeCell(user.dateJoined)))));
  if (locked) {
    for (const c of form.querySelectorAll<HTMLInputElement>('input, select, textarea')) c.disabled = true;
    form.append(h('p', { class: 'muted read-only-note' }, lockedTarget && !readOnly ? 'Only a superuser can change a superuser.' : 'You can view this user but not change them.'));
  } else {
    if (!me.isSuperuser) isSuperuser.querySelector('input')!.disabled = true;
    const del =
      user && can('delete_user') && user.id !== me.id
        ? deleteButton({
            confirm: { title: 'Delete user?', message: `Are you sure you want to delete the user “${user.username}”? Their sessions and API tokens stop working.`, confirmLabel: 'Yes, delete' },
            url: `${API}/${user.id}`,
            list: USERS,
            deleted: () => `The user “${user.username}” was deleted successfully.`,
          })
        : null;
    form.append(saveButtons(del));
  }
  ctx.outlet.append(form);

  const sameSet = (a: (string | number)[], b: (string | number)[]) => a.length === b.length && a.every((x) => b.includes(x));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const how = submitterOf(event);
    clearErrors(form);
    if (password.value !== password2.value) return showErrors(form, new ApiError(400, 'invalid', 'The two password fields didn’t match.', { password2: 'The two password fields didn’t match.' }));
    const body: Record<string, unknown> = {
      username: username.value.trim(),
      email: email.value.trim(),
      isActive: isActive.querySelector('input')!.checked,
      isStaff: isStaff.querySelector('input')!.checked,
    };
    if (me.isSuperuser) body.isSuperuser = isSuperuser.querySelector('input')!.checked;
    if (password.value) body.password = password.value;
    // The server checks that you hold every permission you send: send them only when they change.
    const groupIds = groupBoxes.map((b) => b.querySelector('input')!).filter((b) => b.checked).map((b) => Number(b.value));
    if (can('view_group') && !sameSet(groupIds, user?.groups.map((g) => g.id) ?? [])) body.groups = groupIds;
    const permissions = perms.value();
    if (!sameSet(permissions, user?.permissions ?? [])) body.permissions = permissions;
    try {
      const saved = await busy(form, () => (user ? api.patch<User>(`${API}/${user.id}`, body) : api.post<User>(API, body)));
      afterSave(how, { noun: 'user', name: saved.username, added: !user, list: USERS, change: userPath(saved.id), add: `${USERS}add/`, replace: !!user });
    } catch (err) {
      if (!ctx.signal.aborted) showErrors(form, err as Error);
    }
  });
}
