// The admin JSON API's shapes (users, groups, tokens, permissions, history), as the server sends
// them and the admin console reads them (web/admin/src/pages/auth/types.ts). Pure types (and one
// `as const` list): the browser code imports this file too, so it imports nothing but other contract modules.

export const PERMISSION_ACTIONS = ['view', 'add', 'change', 'delete'] as const;
export type PermissionAction = (typeof PERMISSION_ACTIONS)[number];
/** The models permissions are about (permissions.ts names each one). */
export type PermissionModel =
  | 'periodictask'
  | 'intervalschedule'
  | 'crontabschedule'
  | 'solarschedule'
  | 'clockedschedule'
  | 'user'
  | 'group'
  | 'token'
  | 'task'
  | 'worker'
  | 'logentry';
/** A Django-style codename: "change_periodictask". */
export type Permission = `${PermissionAction}_${PermissionModel}`;

export interface PermissionInfo {
  codename: Permission;
  action: PermissionAction;
  model: PermissionModel;
  /** "Can change periodic task", as Django words it. */
  name: string;
}

export interface UserRecord {
  id: number;
  username: string;
  email: string;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  hasUsablePassword: boolean;
  dateJoined: string;
  lastLogin: string | null;
  groups: { id: number; name: string }[];
  /** Permissions given to the user directly (not through groups). */
  permissions: Permission[];
}

export interface GroupRecord {
  id: number;
  name: string;
  permissions: Permission[];
  userCount: number;
}

export interface TokenRecord {
  id: number;
  userId: number;
  username: string;
  name: string;
  /** The token's first characters ("seler_AbCd…"). */
  prefix: string;
  created: string;
  lastUsed: string | null;
  revoked: string | null;
}

export type ChangeAction = 'add' | 'change' | 'delete' | 'other';

/** One entry of the change history (Django's LogEntry). */
export interface LogEntry {
  id: number;
  actionTime: string;
  userId: number | null;
  username: string;
  action: ChangeAction;
  objectType: string;
  objectId: string | null;
  objectRepr: string;
  changeMessage: unknown;
}
