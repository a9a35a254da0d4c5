// Failed log-ins, by username and by client IP: after `slowAfter` failures in the window, every
// attempt is answered `delayStepMs` later per extra failure; after `lockAfter` failures for one
// username, that username is locked for `lockMs` (attempts are refused without checking the password).
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
  ip: string;
}

export interface ThrottleState {
  usernameFailures: number;
  ipFailures: number;
  /** Epoch ms the username's lock ends, or null. */
  lockedUntil: number | null;
  delayMs: number;
}

// Case-folded so that "Admin" and "admin" share a counter (and a lock).
const userKey = (username: string) => username.toLowerCase().slice(0, 200);

async function failures(database: Db, kind: 'username' | 'ip', key: string, since: number): Promise<number[]> {
  const rows = await database.db
    .selectFrom('auth_login_attempt')
    .select('at')
    .where('kind', '=', kind)
    .where('key', '=', key)
    .where('at', '>', since)
    .orderBy('at', 'desc')
    .execute();
  return rows.map((r) => num(r.at));
}

export async function throttleState(database: Db, keys: AttemptKeys, policy: ThrottlePolicy, now: number): Promise<ThrottleState> {
  // Looking back window + lock covers a lock earned at the very end of a window.
  const since = now - policy.windowMs - policy.lockMs;
  const [byUser, byIp] = await Promise.all([
    failures(database, 'username', userKey(keys.username), since),
    failures(database, 'ip', keys.ip.slice(0, 200), since),
  ]);
  let lockedUntil: number | null = null;
  // The lock starts at the lockAfter-th failure inside one window; nothing is recorded while locked.
  const latest = byUser[0];
  const nth = byUser[policy.lockAfter - 1];
  if (latest !== undefined && nth !== undefined && latest - nth <= policy.windowMs && now < latest + policy.lockMs) lockedUntil = latest + policy.lockMs;
  const recentUser = byUser.filter((t) => t > now - policy.windowMs).length;
  const recentIp = byIp.filter((t) => t > now - policy.windowMs).length;
  const over = Math.max(recentUser, recentIp) - policy.slowAfter + 1;
  const delayMs = over > 0 ? Math.min(policy.maxDelayMs, over * policy.delayStepMs) : 0;
  return { usernameFailures: recentUser, ipFailures: recentIp, lockedUntil, delayMs };
}

export async function recordFailure(database: Db, keys: AttemptKeys, now: number): Promise<void> {
  await database.db
    .insertInto('auth_login_attempt')
    .values([
      { kind: 'username', key: userKey(keys.username), at: now },
      { kind: 'ip', key: keys.ip.slice(0, 200), at: now },
    ])
    .execute();
}

/**
 * A successful log-in clears the username's failures. The IP's are left to age out: clearing them
 * would let someone with one valid account reset the slow-down they earn by guessing at others.
 */
export async function resetFailures(database: Db, keys: AttemptKeys): Promise<void> {
  await database.db.deleteFrom('auth_login_attempt').where('kind', '=', 'username').where('key', '=', userKey(keys.username)).execute();
}

export async function purgeOldAttempts(database: Db, policy: ThrottlePolicy, now: number): Promise<void> {
  await database.db.deleteFrom('auth_login_attempt').where('at', '<=', now - policy.windowMs - policy.lockMs).execute();
}
