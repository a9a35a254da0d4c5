// Who is signed in and what they may do (GET /api/v1/admin/me), loaded once at start.
import { api } from './api.js';

export interface Me {
  id: number;
  username: string;
  email: string;
  isStaff: boolean;
  isSuperuser: boolean;
  permissions: string[];
}

let me: Me | undefined;

export async function loadMe(): Promise<Me> {
  me = await api.get<Me>('/api/v1/admin/me');
  return me;
}

export function currentUser(): Me {
  if (!me) throw new Error('loadMe() has not run');
  return me;
}

/** Django-style codename check: "change_periodictask". Superusers hold every permission. */
export function can(permission: string): boolean {
  const user = currentUser();
  return user.isSuperuser || user.permissions.includes(permission);
}
