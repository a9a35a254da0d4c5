// Django's per-model permissions as a static catalogue: codenames `<action>_<model>`. Users and
// groups hold codenames; a superuser has every permission and an inactive user none.

import { PERMISSION_ACTIONS, type Permission, type PermissionInfo, type PermissionModel } from './contract.js';
import { adminError } from './errors.js';

export { PERMISSION_ACTIONS, type Permission, type PermissionAction, type PermissionInfo, type PermissionModel } from './contract.js';

/** Each model's name in words ("Can change periodic task"). */
export const PERMISSION_MODELS = {
  periodictask: 'periodic task',
  intervalschedule: 'interval',
  crontabschedule: 'crontab',
  solarschedule: 'solar event',
  clockedschedule: 'clocked',
  user: 'user',
  group: 'group',
  token: 'API token',
  task: 'task result',
  worker: 'worker',
  logentry: 'log entry',
} as const satisfies Record<PermissionModel, string>;

export const PERMISSIONS: readonly PermissionInfo[] = Object.entries(PERMISSION_MODELS).flatMap(([model, label]) =>
  PERMISSION_ACTIONS.map((action) => ({
    codename: `${action}_${model}` as Permission,
    action,
    model: model as PermissionModel,
    name: `Can ${action} ${label}`,
  })),
);

const CODENAMES = new Set<string>(PERMISSIONS.map((p) => p.codename));

export function isPermission(codename: string): codename is Permission {
  return CODENAMES.has(codename);
}

/** What permission checks need to know about a user. */
export interface PermissionHolder {
  isActive: boolean;
  isSuperuser: boolean;
  /** Direct and through groups. */
  permissions: ReadonlySet<string>;
}

export function userHasPerm(user: PermissionHolder | null | undefined, perm: Permission): boolean {
  if (!user?.isActive) return false;
  return user.isSuperuser || user.permissions.has(perm);
}

/** The field error for a list naming codenames that do not exist, or undefined when all do. */
export function unknownPermissions(permissions: readonly string[] = []): string | undefined {
  const unknown = permissions.filter((p) => !isPermission(p));
  return unknown.length ? `Unknown permission${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.` : undefined;
}

/** Throws 403 `permission_denied` unless the user has the permission. */
export function assertPerm(user: PermissionHolder, perm: Permission): void {
  if (!userHasPerm(user, perm)) throw adminError.permission_denied(`You do not have the "${perm}" permission.`);
}

/** Refuses to let someone grant permissions they do not hold themselves (superusers may grant any). */
export function assertCanGrant(actor: PermissionHolder, permissions: readonly string[]): void {
  if (actor.isSuperuser) return;
  const missing = permissions.filter((p) => !userHasPerm(actor, p as Permission));
  if (missing.length) throw adminError.permission_denied(`You cannot grant permissions you do not have: ${missing.join(', ')}.`);
}

/** Every permission the user effectively has, sorted (all of them for a superuser). */
export function effectivePermissions(user: PermissionHolder): Permission[] {
  if (!user.isActive) return [];
  if (user.isSuperuser) return PERMISSIONS.map((p) => p.codename);
  return PERMISSIONS.map((p) => p.codename).filter((c) => user.permissions.has(c));
}
