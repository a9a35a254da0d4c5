// Users in the SQL database: create (and createsuperuser), read with groups and permissions, update,
// delete, and what log-in needs. Usernames are unique ignoring case; log-in matches them exactly.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, Db } from '../platform/db/index.js';
import type { AuthUserTable } from '../platform/db/schema.js';
import { UNUSABLE_PASSWORD, hashPassword, passwordProblems } from './passwords.js';
import type { UserRecord } from './contract.js';
import { isPermission, unknownPermissions, type PermissionHolder } from './permissions.js';
import { deleteUserSessions } from './sessions.js';
import { revokeUserTokens } from './tokens.js';
import { contains, flag, iso, isoOrNull, isUniqueViolation, num, pageWindow, type Page, type PageQuery } from './store-util.js';
import { adminError } from './errors.js';

export { userHasPerm } from './permissions.js';
export type { UserRecord } from './contract.js';

/** The signed-in user as requests see it: flags and every permission (direct and through groups). */
export interface AuthUser extends PermissionHolder {
  id: number;
  username: string;
  email: string;
  isStaff: boolean;
}

/** A group by id or by name. */
export type GroupRef = number | string;

export interface NewUser {
  username: string;
  email?: string;
  /** Omitted or null: the user cannot log in with a password (tokens only). */
  password?: string | null;
  isActive?: boolean;
  isStaff?: boolean;
  isSuperuser?: boolean;
  groups?: GroupRef[];
  permissions?: string[];
}

export type UserChanges = Partial<Omit<NewUser, 'username'>> & { username?: string };

export interface UserListQuery extends PageQuery {
  search?: string;
  isActive?: boolean;
  isStaff?: boolean;
  isSuperuser?: boolean;
}

const USERNAME = /^[\p{L}\p{N}_.@+-]{1,150}$/u;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Executor = Kysely<Database> | Transaction<Database>;

function checkFields(input: UserChanges, fields: Record<string, string>, usernameForPassword: string | undefined): void {
  if (input.username !== undefined && !USERNAME.test(input.username))
    fields.username = 'Use 1 to 150 letters, digits and @ . + - _ (no spaces).';
  if (input.email && (input.email.length > 254 || !EMAIL.test(input.email))) fields.email = 'Enter a valid email address.';
  if (typeof input.password === 'string') {
    const problems = passwordProblems(input.password, { username: usernameForPassword, email: input.email ?? undefined });
    if (problems.length) fields.password = problems.join(' ');
  }
  const unknown = unknownPermissions(input.permissions);
  if (unknown) fields.permissions = unknown;
}

async function groupIds(db: Executor, refs: GroupRef[], fields: Record<string, string>): Promise<number[]> {
  if (!refs.length) return [];
  const ids = refs.filter((r): r is number => typeof r === 'number');
  const names = refs.filter((r): r is string => typeof r === 'string');
  let query = db.selectFrom('auth_group').select(['id', 'name']);
  query = query.where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(names.length ? [eb('name', 'in', names)] : [])]));
  const rows = await query.execute();
  const missing = refs.filter((r) => !rows.some((g) => (typeof r === 'number' ? num(g.id) === r : g.name === r)));
  if (missing.length) fields.groups = `Unknown group${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}.`;
  return [...new Set(rows.map((g) => num(g.id)))];
}

export async function usernameTaken(db: Executor, username: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('auth_user').select('id').where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()));
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

async function setLinks(db: Executor, userId: number, groups: number[] | undefined, permissions: string[] | undefined): Promise<void> {
  if (groups) {
    await db.deleteFrom('auth_user_group').where('user_id', '=', userId).execute();
    if (groups.length) await db.insertInto('auth_user_group').values(groups.map((group_id) => ({ user_id: userId, group_id }))).execute();
  }
  if (permissions) {
    await db.deleteFrom('auth_user_permission').where('user_id', '=', userId).execute();
    const unique = [...new Set(permissions)];
    if (unique.length) await db.insertInto('auth_user_permission').values(unique.map((codename) => ({ user_id: userId, codename }))).execute();
  }
}

export async function createUser(database: Db, input: NewUser, now = Date.now()): Promise<UserRecord> {
  const fields: Record<string, string> = {};
  if (typeof input.username !== 'string' || !input.username) fields.username = 'A username is required.';
  checkFields(input, fields, input.username);
  // Hashed before the transaction: scrypt takes ~100 ms, and holding a transaction that long blocks writers.
  const password = typeof input.password === 'string' && !Object.keys(fields).length ? await hashPassword(input.password) : UNUSABLE_PASSWORD;
  const id = await database.db.transaction().execute(async (trx) => {
    const groups = await groupIds(trx, input.groups ?? [], fields);
    if (!fields.username && (await usernameTaken(trx, input.username))) fields.username = `A user named "${input.username}" already exists.`;
    if (Object.keys(fields).length) throw adminError.invalid_user(fields);
    const row = await trx
      .insertInto('auth_user')
      .values({
        username: input.username,
        email: input.email ?? '',
        password,
        is_active: flag(input.isActive ?? true),
        is_staff: flag(input.isStaff ?? false),
        is_superuser: flag(input.isSuperuser ?? false),
        date_joined: now,
        last_login: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) throw adminError.invalid_user({ username: `A user named "${input.username}" already exists.` });
        throw err;
      });
    const userId = num(row.id);
    await setLinks(trx, userId, groups, input.permissions);
    return userId;
  });
  return (await getUser(database, id))!;
}

export function createSuperuser(database: Db, input: { username: string; email?: string; password: string }): Promise<UserRecord> {
  return createUser(database, { ...input, isActive: true, isStaff: true, isSuperuser: true });
}

/** Whether any active superuser exists (`seler start` says how to create one when none does). */
export async function hasSuperuser(database: Db): Promise<boolean> {
  const row = await database.db.selectFrom('auth_user').select('id').where('is_superuser', '=', 1).where('is_active', '=', 1).executeTakeFirst();
  return row !== undefined;
}

type UserRow = Pick<Selectable<AuthUserTable>, 'id' | 'username' | 'email' | 'is_active' | 'is_staff' | 'is_superuser'>;

/** The fields a user record and the signed-in user share, from a row. */
function userFlags(r: UserRow) {
  return {
    id: num(r.id),
    username: r.username,
    email: r.email,
    isActive: r.is_active === 1,
    isStaff: r.is_staff === 1,
    isSuperuser: r.is_superuser === 1,
  };
}

async function records(db: Executor, rows: Selectable<AuthUserTable>[]): Promise<UserRecord[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => num(r.id));
  const [groups, perms] = await Promise.all([
    db.selectFrom('auth_user_group as ug').innerJoin('auth_group as g', 'g.id', 'ug.group_id').select(['ug.user_id', 'g.id', 'g.name']).where('ug.user_id', 'in', ids).orderBy('g.name').execute(),
    db.selectFrom('auth_user_permission').select(['user_id', 'codename']).where('user_id', 'in', ids).orderBy('codename').execute(),
  ]);
  return rows.map((r) => ({
    ...userFlags(r),
    hasUsablePassword: r.password.startsWith('scrypt$'),
    dateJoined: iso(r.date_joined),
    lastLogin: isoOrNull(r.last_login),
    groups: groups.filter((g) => num(g.user_id) === num(r.id)).map((g) => ({ id: num(g.id), name: g.name })),
    permissions: perms.filter((p) => num(p.user_id) === num(r.id)).map((p) => p.codename).filter(isPermission),
  }));
}

export async function getUser(database: Db, id: number): Promise<UserRecord | null> {
  if (!Number.isSafeInteger(id)) return null;
  const rows = await database.db.selectFrom('auth_user').selectAll().where('id', '=', id).execute();
  return (await records(database.db, rows))[0] ?? null;
}

export async function getUserByUsername(database: Db, username: string): Promise<UserRecord | null> {
  const rows = await database.db.selectFrom('auth_user').selectAll().where('username', '=', username).execute();
  return (await records(database.db, rows))[0] ?? null;
}

export async function listUsers(database: Db, query: UserListQuery = {}): Promise<Page<UserRecord>> {
  const { page, pageSize, offset } = pageWindow(query);
  let q = database.db.selectFrom('auth_user');
  if (query.search) q = q.where((eb) => eb.or([contains('username', query.search!), contains('email', query.search!)]));
  if (query.isActive !== undefined) q = q.where('is_active', '=', flag(query.isActive));
  if (query.isStaff !== undefined) q = q.where('is_staff', '=', flag(query.isStaff));
  if (query.isSuperuser !== undefined) q = q.where('is_superuser', '=', flag(query.isSuperuser));
  const [{ count }] = (await q.select((eb) => eb.fn.countAll<number | string>().as('count')).execute()) as [{ count: number | string }];
  const rows = await q.selectAll().orderBy('username').limit(pageSize).offset(offset).execute();
  return { items: await records(database.db, rows), total: num(count), page, pageSize };
}

/** The user as requests see it, or null when there is no such user. */
export async function loadAuthUser(database: Db, id: number): Promise<AuthUser | null> {
  const row = await database.db.selectFrom('auth_user').select(['id', 'username', 'email', 'is_active', 'is_staff', 'is_superuser']).where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const [direct, viaGroups] = await Promise.all([
    database.db.selectFrom('auth_user_permission').select('codename').where('user_id', '=', id).execute(),
    database.db
      .selectFrom('auth_user_group as ug')
      .innerJoin('auth_group_permission as gp', 'gp.group_id', 'ug.group_id')
      .select('gp.codename')
      .where('ug.user_id', '=', id)
      .execute(),
  ]);
  return {
    ...userFlags(row),
    permissions: new Set([...direct, ...viaGroups].map((p) => p.codename)),
  };
}

/** What log-in needs: the stored hash and the flags. */
export async function findLoginUser(database: Db, username: string) {
  const row = await database.db.selectFrom('auth_user').select(['id', 'password', 'is_active', 'is_staff']).where('username', '=', username).executeTakeFirst();
  return row ? { id: num(row.id), password: row.password, canLogIn: row.is_active === 1 && row.is_staff === 1 } : null;
}

export async function recordLogin(database: Db, id: number, now: number, rehashed?: string): Promise<void> {
  await database.db
    .updateTable('auth_user')
    .set({ last_login: now, ...(rehashed ? { password: rehashed } : {}) })
    .where('id', '=', id)
    .execute();
}

async function otherActiveSuperusers(db: Executor, id: number): Promise<number> {
  const row = await db
    .selectFrom('auth_user')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('is_superuser', '=', 1)
    .where('is_active', '=', 1)
    .where('id', '!=', id)
    .executeTakeFirstOrThrow();
  return num(row.n);
}

const LAST_SUPERUSER = 'This is the last active superuser: make another one first, or nobody could administer seler.';

/**
 * Applies changes; returns the updated record and the names of the fields that changed. A new
 * password, deactivation or losing staff ends the user's sessions (but `keepSession`, the caller's
 * own) and revokes every API token they have: a token must not outlive the credentials it came from.
 */
export async function updateUser(
  database: Db,
  id: number,
  changes: UserChanges,
  options: { keepSession?: string } = {},
): Promise<{ user: UserRecord; changed: string[] }> {
  const before = await getUser(database, id);
  if (!before) throw adminError.user_not_found(id);
  const fields: Record<string, string> = {};
  checkFields(changes, fields, changes.username ?? before.username);
  const password = typeof changes.password === 'string' && !Object.keys(fields).length ? await hashPassword(changes.password) : UNUSABLE_PASSWORD;
  await database.db.transaction().execute(async (trx) => {
    const groups = changes.groups ? await groupIds(trx, changes.groups, fields) : undefined;
    if (changes.username !== undefined && !fields.username && changes.username !== before.username && (await usernameTaken(trx, changes.username, id)))
      fields.username = `A user named "${changes.username}" already exists.`;
    const demoted = before.isSuperuser && before.isActive && (changes.isSuperuser === false || changes.isActive === false);
    if (demoted && (await otherActiveSuperusers(trx, id)) === 0) fields[changes.isActive === false ? 'isActive' : 'isSuperuser'] = LAST_SUPERUSER;
    if (Object.keys(fields).length) throw adminError.invalid_user(fields);
    const set: Record<string, string | number> = {};
    if (changes.username !== undefined) set.username = changes.username;
    if (changes.email !== undefined) set.email = changes.email ?? '';
    if (changes.password !== undefined) set.password = password;
    if (changes.isActive !== undefined) set.is_active = flag(changes.isActive);
    if (changes.isStaff !== undefined) set.is_staff = flag(changes.isStaff);
    if (changes.isSuperuser !== undefined) set.is_superuser = flag(changes.isSuperuser);
    if (Object.keys(set).length) await trx.updateTable('auth_user').set(set).where('id', '=', id).execute();
    await setLinks(trx, id, groups, changes.permissions);
  });
  if (changes.password !== undefined || changes.isActive === false || changes.isStaff === false) {
    await deleteUserSessions(database, id, options.keepSession);
    await revokeUserTokens(database, id);
  }
  const user = (await getUser(database, id))!;
  return { user, changed: changedFields(before, user, changes) };
}

function changedFields(before: UserRecord, after: UserRecord, changes: UserChanges): string[] {
  const out: string[] = [];
  for (const key of ['username', 'email', 'isActive', 'isStaff', 'isSuperuser'] as const) if (before[key] !== after[key]) out.push(key);
  if (changes.password !== undefined) out.push('password');
  if (before.groups.map((g) => g.id).join() !== after.groups.map((g) => g.id).join()) out.push('groups');
  if (before.permissions.join() !== after.permissions.join()) out.push('permissions');
  return out;
}

export async function deleteUser(database: Db, id: number): Promise<UserRecord> {
  const user = await getUser(database, id);
  if (!user) throw adminError.user_not_found(id);
  if (user.isSuperuser && user.isActive && (await otherActiveSuperusers(database.db, id)) === 0) throw adminError.invalid_user({ _: LAST_SUPERUSER });
  await database.db.deleteFrom('auth_user').where('id', '=', id).execute();
  return user;
}
