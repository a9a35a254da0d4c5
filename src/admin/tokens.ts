// API tokens for scripts (`Authorization: Bearer <token>`): 32 random bytes, shown once; the table
// keeps the sha256 and a short prefix to recognise the token by. Revoked tokens stay listed.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../platform/db/index.js';
import type { TokenRecord } from './contract.js';
import { isoOrNull, iso, num, pageWindow, type Page, type PageQuery } from './store-util.js';
import { adminError } from './errors.js';

export const TOKEN_PREFIX = 'seler_';
const TOKEN = /^seler_[A-Za-z0-9_-]{43}$/;
/** last_used is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

export type { TokenRecord } from './contract.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function createToken(database: Db, userId: number, name: string, now = Date.now()): Promise<{ token: string; record: TokenRecord }> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100) throw adminError.invalid_token_request({ name: 'Give the token a name of 1 to 100 characters.' });
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = await database.db
    .insertInto('auth_token')
    .values({ user_id: userId, name: trimmed, token_hash: hashToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6), created: now, last_used: null, revoked: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, record: (await getToken(database, num(row.id)))! };
}

function baseQuery(database: Db) {
  return database.db
    .selectFrom('auth_token as t')
    .innerJoin('auth_user as u', 'u.id', 't.user_id')
    .select(['t.id', 't.user_id', 'u.username', 't.name', 't.prefix', 't.created', 't.last_used', 't.revoked']);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

const toRecord = (r: Row): TokenRecord => ({
  id: num(r.id),
  userId: num(r.user_id),
  username: r.username,
  name: r.name,
  prefix: `${r.prefix}…`,
  created: iso(r.created),
  lastUsed: isoOrNull(r.last_used),
  revoked: isoOrNull(r.revoked),
});

export async function getToken(database: Db, id: number): Promise<TokenRecord | null> {
  if (!Number.isSafeInteger(id)) return null;
  const row = await baseQuery(database).where('t.id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : null;
}

export async function listTokens(database: Db, query: PageQuery & { userId?: number; includeRevoked?: boolean } = {}): Promise<Page<TokenRecord>> {
  const { page, pageSize, offset } = pageWindow(query);
  let q = baseQuery(database);
  if (query.userId !== undefined) q = q.where('t.user_id', '=', query.userId);
  if (query.includeRevoked === false) q = q.where('t.revoked', 'is', null);
  const total = (await q.clearSelect().select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n;
  const rows = await q.orderBy('t.id', 'desc').limit(pageSize).offset(offset).execute();
  return { items: rows.map(toRecord), total: num(total), page, pageSize };
}

export async function revokeToken(database: Db, id: number, now = Date.now()): Promise<TokenRecord> {
  const token = await getToken(database, id);
  if (!token) throw adminError.token_not_found(id);
  if (!token.revoked) await database.db.updateTable('auth_token').set({ revoked: now }).where('id', '=', id).where('revoked', 'is', null).execute();
  return (await getToken(database, id))!;
}

/** Revokes every live token of a user (their password changed, or they were deactivated or lost staff). */
export async function revokeUserTokens(database: Db, userId: number, now = Date.now()): Promise<number> {
  const result = await database.db.updateTable('auth_token').set({ revoked: now }).where('user_id', '=', userId).where('revoked', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The user id a live token belongs to, or null (unknown, malformed or revoked). */
export async function authenticateToken(database: Db, token: string, now = Date.now()): Promise<{ userId: number; tokenId: number } | null> {
  if (!TOKEN.test(token)) return null;
  const row = await database.db
    .selectFrom('auth_token')
    .select(['id', 'user_id', 'last_used', 'revoked'])
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.revoked !== null) return null;
  if (row.last_used === null || now - num(row.last_used) >= TOUCH_EVERY_MS)
    await database.db.updateTable('auth_token').set({ last_used: now }).where('id', '=', row.id).execute();
  return { userId: num(row.user_id), tokenId: num(row.id) };
}
