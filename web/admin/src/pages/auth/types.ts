// The admin auth API's shapes (src/admin/api-schemas.ts) and the console paths of this section.

export interface User {
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
  /** Given directly, not through groups. */
  permissions: string[];
}

export interface Group {
  id: number;
  name: string;
  permissions: string[];
  userCount: number;
}

export interface Token {
  id: number;
  userId: number;
  username: string;
  name: string;
  prefix: string;
  created: string;
  lastUsed: string | null;
  revoked: string | null;
}

export interface LogEntry {
  id: number;
  actionTime: string;
  userId: number | null;
  username: string;
  action: 'add' | 'change' | 'delete' | 'other';
  objectType: string;
  objectId: string | null;
  objectRepr: string;
  changeMessage: unknown;
}

export interface PermissionInfo {
  codename: string;
  action: 'view' | 'add' | 'change' | 'delete';
  model: string;
  name: string;
}

export const USERS = '/admin/users/';
export const GROUPS = '/admin/groups/';
export const TOKENS = '/admin/tokens/';
export const LOG = '/admin/log/';
export const PASSWORD = '/admin/password/';

/** The rules the server applies to passwords (src/admin/passwords.ts), shown as help. */
export const PASSWORD_RULES = [
  'At least 10 characters.',
  'Not too similar to the username or email.',
  'Not a commonly used password.',
  'Not entirely numeric.',
];
