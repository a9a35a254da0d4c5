// Server-side sessions: the cookie carries a random 32-byte id; the table keeps only its sha256, so a
// copy of the database does not hand out live sessions. Log-out and revocation delete the row.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../platform/db/index.js';
import { num } from './store-util.js';

export interface SessionPolicy {
  /** Ends a session unused for this long. */
  idleMs: number;
  /** Ends every session this long after log-in, however busy. */
  maxAgeMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 12 * 3600_000, maxAgeMs: 14 * 24 * 3600_000 };

/** last_seen is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export interface Session {
  /** sha256 hex of the cookie's id: the row's key, and what CSRF tokens are bound to. */
  key: string;
  userId: number;
  created: number;
  expires: number;
  lastSeen: number;
}

export const sessionKey = (id: string): string => createHash('sha256').update(id).digest('hex');

export async function createSession(
  database: Db,
  userId: number,
  options: { policy: SessionPolicy; now: number; ip?: string; userAgent?: string },
): Promise<{ id: string; session: Session }> {
  const id = randomBytes(32).toString('base64url');
  const session: Session = { key: sessionKey(id), userId, created: options.now, expires: options.now + options.policy.maxAgeMs, lastSeen: options.now };
  await database.db
    .insertInto('auth_session')
    .values({
      id: session.key,
      user_id: userId,
      created: session.created,
      expires: session.expires,
      last_seen: session.lastSeen,
      ip: (options.ip ?? '').slice(0, 64),
      user_agent: (options.userAgent ?? '').slice(0, 300),
    })
    .execute();
  return { id, session };
}

/** The live session for a cookie's id; an expired one is deleted and yields null. */
export async function resolveSession(database: Db, id: string, options: { policy: SessionPolicy; now: number }): Promise<Session | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const key = sessionKey(id);
  const row = await database.db.selectFrom('auth_session').selectAll().where('id', '=', key).executeTakeFirst();
  if (!row) return null;
  const session: Session = { key, userId: num(row.user_id), created: num(row.created), expires: num(row.expires), lastSeen: num(row.last_seen) };
  const { now, policy } = options;
  if (now >= session.expires || now - session.lastSeen >= policy.idleMs) {
    await deleteSession(database, key);
    return null;
  }
  if (now - session.lastSeen >= TOUCH_EVERY_MS) {
    await database.db.updateTable('auth_session').set({ last_seen: now }).where('id', '=', key).execute();
    session.lastSeen = now;
  }
  return session;
}

export async function deleteSession(database: Db, key: string): Promise<void> {
  await database.db.deleteFrom('auth_session').where('id', '=', key).execute();
}

/** Ends every session of a user (password changed, deactivated), except optionally one. */
export async function deleteUserSessions(database: Db, userId: number, exceptKey?: string): Promise<void> {
  let q = database.db.deleteFrom('auth_session').where('user_id', '=', userId);
  if (exceptKey) q = q.where('id', '!=', exceptKey);
  await q.execute();
}

/** Removes sessions past either limit (called now and then, e.g. at log-in). */
export async function purgeExpiredSessions(database: Db, policy: SessionPolicy, now: number): Promise<void> {
  await database.db
    .deleteFrom('auth_session')
    .where((eb) => eb.or([eb('expires', '<=', now), eb('last_seen', '<=', now - policy.idleMs)]))
    .execute();
}
