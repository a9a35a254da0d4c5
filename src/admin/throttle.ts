// Log-in throttling, django-axes style, with counters that are reserved BEFORE a password is checked.
//
// Three counters per attempt, each bumped by one atomic upsert (auth_login_counter; atomic on SQLite
// and on PostgreSQL, so parallel requests and several web processes share one count):
//  - `uc:<username>␊<client>` — the LOCK. The lockAfter-th attempt from one client at one username
//    inside the window is the last whose password is checked; from then on that client is refused
//    for that username (429 + Retry-After) for lockMs, and every refused try extends it. Only that
//    client is locked: the real user logging in from elsewhere is not, so nobody can lock `admin`
//    out by guessing at it.
//  - `u:<username>` (every client) and `ip:<client>` (every username) — the SLOW-DOWN: after slowAfter
//    attempts in the window, each attempt waits delayStepMs more per extra attempt (at most
//    maxDelayMs) before its password is checked. Slow, never locked: an attacker spread over many
//    addresses makes log-in for that account take up to maxDelayMs, not impossible.
// The reservation counts as a failure until the password proved right: then the attempt gives back
// its place (and every earlier failure on that counter), so concurrency never lets more than
// lockAfter passwords be checked per client and username. POST /admin/login is also rate-limited per
// client and globally (login-routes.ts), and hashing runs in its own threads (hasher.ts).
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import { num } from './store-util.js';

export interface ThrottlePolicy {
  windowMs: number;
  slowAfter: number;
  delayStepMs: number;
  maxDelayMs: number;
  lockAfter: number;
  lockMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  slowAfter: 5,
  delayStepMs: 1000,
  maxDelayMs: 10_000,
  lockAfter: 10,
  lockMs: 15 * 60_000,
};

export interface AttemptKeys {
  username: string;
  /** The client's address (request.ip; X-Forwarded-For only with SELER_TRUST_PROXY). */
  ip: string;
}

interface Counted {
  key: string;
  /** This attempt's place in the counter (1 = the first in the window). */
  count: number;
  expires: number;
}

export interface Reservation {
  lock: Counted;
  user: Counted;
  ip: Counted;
  /** True when this client is locked out of this username: do not check the password. */
  locked: boolean;
  /** When the lock ends (epoch ms): set when locked, and when a failure of this attempt locks. */
  lockedUntil: number | null;
  /** How long to wait before checking the password (the slow-down). */
  delayMs: number;
}

// Case-folded so that "Admin" and "admin" share counters (and a lock).
const userKey = (username: string) => username.toLowerCase().slice(0, 200);
const ipKey = (ip: string) => ip.slice(0, 64);
const big = (n: number) => sql`cast(${Math.round(n)} as bigint)`;

/**
 * One atomic statement: a new window when the row is missing or expired, else count + 1; with
 * `lock`, reaching `lock.after` moves the end to now + lock.ms (never earlier).
 */
async function bump(database: Db, key: string, now: number, windowMs: number, lock?: { after: number; ms: number }): Promise<Counted> {
  const fresh = lock && lock.after <= 1 ? now + lock.ms : now + windowMs;
  const expired = sql`auth_login_counter.expires <= ${big(now)}`;
  const expires = lock
    ? sql<number>`case when ${expired} then ${big(fresh)}
        when auth_login_counter.count + 1 >= ${lock.after} and auth_login_counter.expires < ${big(now + lock.ms)} then ${big(now + lock.ms)}
        else auth_login_counter.expires end`
    : sql<number>`case when ${expired} then ${big(fresh)} else auth_login_counter.expires end`;
  const row = await database.db
    .insertInto('auth_login_counter')
    .values({ key, count: 1, expires: fresh })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql<number>`case when ${expired} then 1 else auth_login_counter.count + 1 end`,
        expires,
      }),
    )
    .returning(['count', 'expires'])
    .executeTakeFirstOrThrow();
  return { key, count: num(row.count), expires: num(row.expires) };
}

export function delayFor(previousAttempts: number, policy: ThrottlePolicy): number {
  const over = previousAttempts - policy.slowAfter + 1;
  return over > 0 ? Math.min(policy.maxDelayMs, over * policy.delayStepMs) : 0;
}

/** Takes this attempt's place in every counter (before any password is checked) and says what to do. */
export async function reserveAttempt(database: Db, keys: AttemptKeys, policy: ThrottlePolicy, now: number): Promise<Reservation> {
  const user = userKey(keys.username);
  const ip = ipKey(keys.ip);
  const lock = await bump(database, `uc:${user}\n${ip}`, now, policy.windowMs, { after: policy.lockAfter, ms: policy.lockMs });
  const [byUser, byIp] = await Promise.all([bump(database, `u:${user}`, now, policy.windowMs), bump(database, `ip:${ip}`, now, policy.windowMs)]);
  const locked = lock.count > policy.lockAfter;
  return {
    lock,
    user: byUser,
    ip: byIp,
    locked,
    lockedUntil: locked ? lock.expires : null,
    delayMs: locked ? 0 : delayFor(Math.max(byUser.count, byIp.count) - 1, policy),
  };
}

/** After a wrong password: the lock's end when this failure was the one that locked, else null. */
export function failureLocks(reservation: Reservation, policy: ThrottlePolicy): number | null {
  return reservation.lock.count >= policy.lockAfter ? reservation.lock.expires : null;
}

/**
 * A successful log-in gives back its place and every failure before it on the username's counters
 * (attempts reserved after it still count). The client's own counter is left to age out: clearing
 * it would let someone with one valid account reset the slow-down they earn by guessing at others.
 */
export async function releaseAttempt(database: Db, reservation: Reservation): Promise<void> {
  for (const c of [reservation.lock, reservation.user])
    await database.db
      .updateTable('auth_login_counter')
      .set({ count: sql<number>`case when count > ${c.count} then count - ${c.count} else 0 end` })
      .where('key', '=', c.key)
      .execute();
}

export async function purgeExpiredCounters(database: Db, now: number): Promise<void> {
  await database.db.deleteFrom('auth_login_counter').where('expires', '<=', now).execute();
}
