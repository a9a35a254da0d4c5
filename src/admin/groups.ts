// Groups: a name and a set of permissions that every member gets.
import type { Kysely } from 'kysely';
import type { Database, Db } from '../platform/db/index.js';
import type { GroupRecord } from './contract.js';
import { isPermission, unknownPermissions } from './permissions.js';
import { contains, isUniqueViolation, num, pageWindow, type Page, type PageQuery } from './store-util.js';
import { adminError } from './errors.js';

export type { GroupRecord } from './contract.js';

export interface GroupInput {
  name?: string;
  permissions?: string[];
}

function check(input: GroupInput, creating: boolean): Record<string, string> {
  const fields: Record<string, string> = {};
  if (input.name !== undefined || creating) {
    const name = input.name?.trim() ?? '';
    if (!name || name.length > 150) fields.name = 'A name of 1 to 150 characters is required.';
  }
  const unknown = unknownPermissions(input.permissions);
  if (unknown) fields.permissions = unknown;
  return fields;
}

async function records(database: Db, rows: { id: number | string; name: string }[]): Promise<GroupRecord[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => num(r.id));
  const [perms, counts] = await Promise.all([
    database.db.selectFrom('auth_group_permission').select(['group_id', 'codename']).where('group_id', 'in', ids).orderBy('codename').execute(),
    database.db
      .selectFrom('auth_user_group')
      .select(['group_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('group_id', 'in', ids)
      .groupBy('group_id')
      .execute(),
  ]);
  return rows.map((r) => ({
    id: num(r.id),
    name: r.name,
    permissions: perms.filter((p) => num(p.group_id) === num(r.id)).map((p) => p.codename).filter(isPermission),
    userCount: num(counts.find((c) => num(c.group_id) === num(r.id))?.n ?? 0),
  }));
}

export async function getGroup(database: Db, id: number): Promise<GroupRecord | null> {
  if (!Number.isSafeInteger(id)) return null;
  const rows = await database.db.selectFrom('auth_group').select(['id', 'name']).where('id', '=', id).execute();
  return (await records(database, rows))[0] ?? null;
}

export async function listGroups(database: Db, query: PageQuery & { search?: string } = {}): Promise<Page<GroupRecord>> {
  const { page, pageSize, offset } = pageWindow(query);
  let q = database.db.selectFrom('auth_group');
  if (query.search) q = q.where(contains('name', query.search));
  const total = (await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n;
  const rows = await q.select(['id', 'name']).orderBy('name').limit(pageSize).offset(offset).execute();
  return { items: await records(database, rows), total: num(total), page, pageSize };
}

const taken = (name: string) => adminError.invalid_group({ name: `A group named "${name}" already exists.` });

/** Replaces a group's permissions (inside the caller's transaction). */
async function writePermissions(db: Kysely<Database>, id: number, permissions: string[]): Promise<void> {
  await db.deleteFrom('auth_group_permission').where('group_id', '=', id).execute();
  const unique = [...new Set(permissions)];
  if (unique.length) await db.insertInto('auth_group_permission').values(unique.map((codename) => ({ group_id: id, codename }))).execute();
}

export async function createGroup(database: Db, input: GroupInput): Promise<GroupRecord> {
  const fields = check(input, true);
  if (Object.keys(fields).length) throw adminError.invalid_group(fields);
  const name = input.name!.trim();
  // One transaction: a group never exists without the permissions it was created with.
  const id = await database.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('auth_group')
      .values({ name })
      .returning('id')
      .executeTakeFirstOrThrow()
      .catch((err: unknown) => {
        throw isUniqueViolation(err) ? taken(name) : err;
      });
    const created = num(row.id);
    if (input.permissions?.length) await writePermissions(trx, created, input.permissions);
    return created;
  });
  return (await getGroup(database, id))!;
}

export async function updateGroup(database: Db, id: number, input: GroupInput): Promise<{ group: GroupRecord; changed: string[] }> {
  const before = await getGroup(database, id);
  if (!before) throw adminError.group_not_found(id);
  const fields = check(input, false);
  if (Object.keys(fields).length) throw adminError.invalid_group(fields);
  const name = input.name?.trim();
  await database.db.transaction().execute(async (trx) => {
    if (name !== undefined && name !== before.name)
      await trx
        .updateTable('auth_group')
        .set({ name })
        .where('id', '=', id)
        .execute()
        .catch((err: unknown) => {
          throw isUniqueViolation(err) ? taken(name) : err;
        });
    if (input.permissions) await writePermissions(trx, id, input.permissions);
  });
  const group = (await getGroup(database, id))!;
  const changed = [...(group.name !== before.name ? ['name'] : []), ...(group.permissions.join() !== before.permissions.join() ? ['permissions'] : [])];
  return { group, changed };
}

export async function deleteGroup(database: Db, id: number): Promise<GroupRecord> {
  const group = await getGroup(database, id);
  if (!group) throw adminError.group_not_found(id);
  await database.db.deleteFrom('auth_group').where('id', '=', id).execute();
  return group;
}

/** Every permission the named or numbered groups give (for "you cannot grant what you lack"). */
export async function groupsPermissions(database: Db, refs: (number | string)[]): Promise<string[]> {
  const ids = refs.filter((r): r is number => typeof r === 'number');
  const names = refs.filter((r): r is string => typeof r === 'string');
  if (!ids.length && !names.length) return [];
  const rows = await database.db
    .selectFrom('auth_group_permission as gp')
    .innerJoin('auth_group as g', 'g.id', 'gp.group_id')
    .select('gp.codename')
    .where((eb) => eb.or([...(ids.length ? [eb('g.id', 'in', ids)] : []), ...(names.length ? [eb('g.name', 'in', names)] : [])]))
    .execute();
  return [...new Set(rows.map((r) => r.codename))];
}
