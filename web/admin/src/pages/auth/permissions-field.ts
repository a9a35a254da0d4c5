// Permissions as Django shows them, grouped by model: one row per model with its view / add / change /
// delete boxes (and "all"). Codenames the signed-in user does not hold cannot be granted by them
// (the server refuses it too), so those boxes are locked for anyone but a superuser.
import { api } from '../../api.js';
import { can, currentUser } from '../../session.js';
import { h } from '../../ui/dom.js';
import type { PermissionInfo } from './types.js';

const ACTIONS = ['view', 'add', 'change', 'delete'] as const;

let catalogue: Promise<PermissionInfo[]> | undefined;
export function permissionCatalogue(): Promise<PermissionInfo[]> {
  catalogue ??= api.get<PermissionInfo[]>('/api/v1/admin/permissions').catch((err: unknown) => {
    catalogue = undefined;
    throw err;
  });
  return catalogue;
}

/** "Can change periodic task" → "periodic task". */
const modelLabel = (p: PermissionInfo) => p.name.replace(/^Can \w+ /, '');

/** The section a model belongs to, for the headings of the table. */
const SECTIONS: [string, string[]][] = [
  ['Periodic tasks', ['periodictask', 'intervalschedule', 'crontabschedule', 'solarschedule', 'clockedschedule']],
  ['Authentication and authorization', ['user', 'group', 'token', 'logentry']],
  ['Monitor', ['task']],
];

export interface PermissionsField {
  element: HTMLElement;
  value(): string[];
}

export function permissionsField(all: PermissionInfo[], selected: string[], options: { readOnly?: boolean; testId?: string } = {}): PermissionsField {
  const chosen = new Set(selected);
  const superuser = currentUser().isSuperuser;
  const boxes: HTMLInputElement[] = [];
  const models = [...new Set(all.map((p) => p.model))];
  const sectionOf = (model: string) => SECTIONS.find(([, ms]) => ms.includes(model))?.[0] ?? 'Other';
  const body = h('tbody', {});
  let lastSection = '';
  for (const model of [...models].sort((a, b) => SECTIONS.findIndex(([s]) => s === sectionOf(a)) - SECTIONS.findIndex(([s]) => s === sectionOf(b)))) {
    const section = sectionOf(model);
    if (section !== lastSection) {
      body.append(h('tr', { class: 'section' }, h('th', { colspan: 6, scope: 'rowgroup' }, section)));
      lastSection = section;
    }
    const perms = all.filter((p) => p.model === model);
    const rowBoxes: HTMLInputElement[] = [];
    const cells = ACTIONS.map((action) => {
      const p = perms.find((x) => x.action === action);
      if (!p) return h('td', {});
      const box = h('input', { type: 'checkbox', name: 'permissions', value: p.codename, 'aria-label': p.name, title: p.codename, 'data-codename': p.codename });
      box.checked = chosen.has(p.codename);
      if (options.readOnly) box.disabled = true;
      else if (!superuser && !can(p.codename)) {
        box.disabled = true;
        box.title = `${p.codename}: you do not have this permission, so you cannot give it`;
      }
      boxes.push(box);
      rowBoxes.push(box);
      return h('td', { class: 'check' }, box);
    });
    const allBox = h('input', { type: 'checkbox', 'aria-label': `All permissions on ${modelLabel(perms[0]!)}` });
    const sync = () => (allBox.checked = rowBoxes.every((b) => b.checked));
    sync();
    allBox.disabled = rowBoxes.every((b) => b.disabled);
    allBox.addEventListener('change', () => {
      for (const b of rowBoxes) if (!b.disabled) b.checked = allBox.checked;
      sync();
    });
    for (const b of rowBoxes) b.addEventListener('change', sync);
    body.append(h('tr', {}, h('th', { scope: 'row' }, modelLabel(perms[0]!)), ...cells, h('td', { class: 'check' }, allBox)));
  }
  const element = h(
    'div',
    { class: 'permission-matrix', 'data-testid': options.testId ?? 'permissions' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Model'), ...ACTIONS.map((a) => h('th', { scope: 'col', class: 'check' }, a)), h('th', { scope: 'col', class: 'check' }, 'all'))),
      body,
    ),
  );
  return { element, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}
