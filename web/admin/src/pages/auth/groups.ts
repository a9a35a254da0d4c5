// Groups: the change list and the add / change form (a name and the grouped permission boxes).
import { api, ApiError } from '../../api.js';
import type { RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { h, plural } from '../../ui/dom.js';
import { busy, clearErrors, field, input, showErrors } from '../../ui/form.js';
import { formatNumber } from '../../ui/format.js';
import { listView, type Column } from '../../ui/list-view.js';
import { permissionCatalogue, permissionsField } from './permissions-field.js';
import { afterSave, deleteButton, saveButtons, submitterOf } from '../../ui/save.js';
import { GROUPS, type Group } from './types.js';

const API = '/api/v1/admin/groups';
const TRAIL = [{ label: 'Groups', href: GROUPS }];
const groupPath = (id: number) => `${GROUPS}${id}/`;

export function renderGroupList(ctx: RouteContext): void {
  ctx.setTitle('Groups');
  const actions = h('div', { class: 'page-actions' });
  if (can('add_group')) actions.append(h('a', { class: 'button', href: `${GROUPS}add/`, 'data-testid': 'add-group' }, '+ Add group'));
  const columns: Column<Group>[] = [
    { label: 'Name', render: (g) => h('a', { href: groupPath(g.id) }, g.name) },
    { label: 'Permissions', className: 'num', render: (g) => formatNumber(g.permissions.length) },
    { label: 'Users', className: 'num', render: (g) => formatNumber(g.userCount) },
  ];
  const list = listView<Group>({
    ctx,
    endpoint: API,
    columns,
    idOf: (g) => g.id,
    search: 'groups',
    bulkActions: [
      {
        label: 'Delete selected groups',
        permission: 'delete_group',
        danger: true,
        confirm: (n) => `Delete ${plural(n, 'group')}? Their members lose the permissions they gave.`,
        async run(ids) {
          const failures: string[] = [];
          for (const id of ids) await api.delete(`${API}/${id}`).catch((err: Error) => failures.push(err.message));
          return `Successfully deleted ${plural(ids.length - failures.length, 'group')}.${failures.length ? ` Not deleted: ${failures.join('; ')}.` : ''}`;
        },
      },
    ],
    noun: ['group', 'groups'],
    testId: 'groups',
  });
  ctx.outlet.append(actions, list.element);
}

export async function renderGroupForm(ctx: RouteContext, id?: number): Promise<void> {
  let group: Group | undefined;
  let catalogue;
  try {
    [group, catalogue] = await Promise.all([id === undefined ? undefined : api.get<Group>(`${API}/${id}`), permissionCatalogue()]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle('Group not found', TRAIL);
      ctx.outlet.append(h('p', { class: 'error', role: 'alert' }, `There is no group with id ${id}. `, h('a', { href: GROUPS }, 'Back to the groups.')));
      return;
    }
    throw err;
  }
  if (ctx.signal.aborted) return;
  const readOnly = group ? !can('change_group') : !can('add_group');
  ctx.setTitle(group ? (readOnly ? `View group: ${group.name}` : group.name) : 'Add group', TRAIL);

  const name = input('name', { value: group?.name ?? '', maxlength: 150, required: true, autocomplete: 'off', 'data-testid': 'group-name' });
  const perms = permissionsField(catalogue, group?.permissions ?? [], { readOnly });
  const form = h(
    'form',
    { class: 'edit group', novalidate: true, 'data-testid': 'group-form' },
    h(
      'fieldset',
      { class: 'primary' },
      field({ name: 'name', label: 'Name', required: true, control: name }),
      field({ name: 'permissions', label: 'Permissions', control: perms.element, help: group ? `Every member (${plural(group.userCount, 'user')}) gets these permissions.` : 'Every member gets these permissions.' }),
    ),
  );
  if (readOnly) {
    name.disabled = true;
    form.append(h('p', { class: 'muted read-only-note' }, 'You can view this group but not change it.'));
  } else {
    const del =
      group && can('delete_group')
        ? deleteButton({
            confirm: { title: 'Delete group?', message: `Are you sure you want to delete the group “${group.name}”? Its ${plural(group.userCount, 'member')} lose the permissions it gave.`, confirmLabel: 'Yes, delete' },
            url: `${API}/${group.id}`,
            list: GROUPS,
            deleted: () => `The group “${group.name}” was deleted successfully.`,
          })
        : null;
    form.append(saveButtons(del));
  }
  ctx.outlet.append(form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const how = submitterOf(event);
    clearErrors(form);
    const body: Record<string, unknown> = { name: name.value.trim() };
    const permissions = perms.value();
    const before: readonly string[] = group?.permissions ?? [];
    if (!group || permissions.length !== before.length || permissions.some((p) => !before.includes(p))) body.permissions = permissions;
    try {
      const saved = await busy(form, () => (group ? api.patch<Group>(`${API}/${group.id}`, body) : api.post<Group>(API, body)));
      afterSave(how, { noun: 'group', name: saved.name, added: !group, list: GROUPS, change: groupPath(saved.id), add: `${GROUPS}add/`, replace: !!group });
    } catch (err) {
      if (!ctx.signal.aborted) showErrors(form, err as Error);
    }
  });
}
