// Password hashing with scrypt: `scrypt$N$r$p$salt$hash` (base64url salt and hash), so the cost can
// rise later and old hashes still verify (needsRehash tells when to upgrade one at log-in).
// The derivations run in the hasher's own threads (hasher.ts), not on libuv's threadpool.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hasher } from './hasher.js';

export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;
/** Stored for users who may not log in with a password (no hash can equal it). */
export const UNUSABLE_PASSWORD = '!';

export const MIN_PASSWORD_LENGTH = 10;
// Long enough for any passphrase; short enough that nobody makes us hash a megabyte.
export const MAX_PASSWORD_LENGTH = 256;

const COMMON = new Set([
  'password', 'password1', 'password12', 'password123', 'password1234', 'passw0rd', 'p@ssw0rd', 'qwertyuiop', 'qwerty123',
  'qwerty1234', 'iloveyou', 'letmein123', 'welcome123', 'admin12345', 'administrator', 'changeme', 'changeme123',
  'abcdefghij', 'abc1234567', 'sunshine', 'football', 'baseball', 'superman', 'trustno1', 'aaaaaaaaaa',
]);

/** What one key derivation was asked to do (tests observe that every log-in does the same work). */
export interface KdfCall {
  N: number;
  r: number;
  p: number;
  /** Characters of the (capped, normalized) input. */
  inputLength: number;
}
const observers = new Set<(call: KdfCall) => void>();
/** Calls `fn` for each derivation until the returned function is called. */
export function observeKdf(fn: (call: KdfCall) => void): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

// Every input is capped the same way before the KDF, so its cost never depends on the length sent.
const kdfInput = (password: string) => password.slice(0, MAX_PASSWORD_LENGTH).normalize('NFKC').slice(0, MAX_PASSWORD_LENGTH * 2);

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const input = kdfInput(password);
  const { N, r, p } = params;
  for (const fn of observers) fn({ N, r, p, inputLength: input.length });
  return hasher.derive({ password: input, salt, N, r, p, keyLength: KEY_LENGTH });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = SCRYPT_PARAMS;
  const hash = await derive(password, salt, SCRYPT_PARAMS);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

interface Decoded {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function decode(encoded: string): Decoded | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Bounds keep a tampered row from asking for gigabytes of memory.
  if (!Number.isInteger(Math.log2(N)) || N < 2 ** 10 || N > 2 ** 20 || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || hash.length !== KEY_LENGTH) return null;
  return { N, r, p, salt, hash };
}

// A real hash made with today's parameters, verified against when the user does not exist (or has
// no usable password), so the response costs exactly what a real check costs and timing does not
// reveal which usernames exist.
let dummy: Promise<Decoded> | undefined;
const dummyHash = () => (dummy ??= hashPassword(randomBytes(24).toString('base64url')).then((h) => decode(h)!));

/**
 * One derivation whatever the input: unknown user, unusable hash, wrong password, a password of any
 * length (over MAX_PASSWORD_LENGTH it is capped for the KDF and then refused). Same parameters,
 * same capped input, so the same work.
 */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const decoded = encoded ? decode(encoded) : null;
  const target = decoded ?? (await dummyHash());
  const key = await derive(password, target.salt, target);
  const equal = timingSafeEqual(key, target.hash);
  return decoded !== null && equal && password.length <= MAX_PASSWORD_LENGTH;
}

/** True when the hash was made with weaker parameters than today's (re-hash it at the next log-in). */
export function needsRehash(encoded: string): boolean {
  const d = decode(encoded);
  return !d || d.N < SCRYPT_PARAMS.N || d.r < SCRYPT_PARAMS.r || d.p < SCRYPT_PARAMS.p;
}

/** Problems with a new password, as sentences (empty when it is acceptable). */
/** The rules passwordProblems applies, as one sentence (shown before asking for a password, as Django does). */
export const PASSWORD_RULES = `at least ${MIN_PASSWORD_LENGTH} characters, not mostly the username or the e-mail address, not only digits, not a common password`;

export function passwordProblems(password: string, context: { username?: string; email?: string } = {}): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) problems.push(`The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  if (password.length > MAX_PASSWORD_LENGTH) problems.push(`The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
  const lower = password.toLowerCase();
  const username = context.username?.toLowerCase();
  if (username && (lower === username || (lower.includes(username) && username.length >= 4 && username.length * 2 > lower.length)))
    problems.push('The password is too similar to the username.');
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower === local) problems.push('The password is too similar to the email address.');
  if (/^\d+$/.test(password)) problems.push('The password cannot be entirely numeric.');
  if (COMMON.has(lower)) problems.push('The password is too common.');
  return problems;
}
