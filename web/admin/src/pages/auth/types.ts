// The admin auth API's shapes (src/admin/contract.ts) and the console paths of this section.
import type { GroupRecord, TokenRecord, UserRecord } from '../../../../../src/admin/contract.js';

// The shapes are the server's own declarations (type-only imports: no server code reaches the bundle).
export type { LogEntry, PermissionInfo } from '../../../../../src/admin/contract.js';
export type User = UserRecord;
export type Group = GroupRecord;
export type Token = TokenRecord;

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
