// The capability of an anonymous uploader: the task id (a random UUID) lets them read the task, a
// separate cancel token (random, returned once in the 202) lets them revoke it. Only the token's
// SHA-256 is kept in the job, so nothing stored or shared (no instance secret) can produce a token,
// and every web process can check one without sharing a key.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Kept in the job payload of a task an anonymous caller created (thumbnail uploads). */
export interface TaskOwner {
  kind: 'anonymous';
  /** SHA-256 (hex) of the cancel token. */
  cancel: string;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** 32 random bytes, base64url (43 characters), and the hash to store. */
export function newCancelToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token).toString('hex') };
}

/** Constant-time check of a presented token against the stored hash (both sides are 32-byte digests). */
export function cancelTokenMatches(owner: TaskOwner, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 200) return false;
  const stored = Buffer.from(owner.cancel, 'hex');
  const given = sha256(presented);
  return stored.length === given.length && timingSafeEqual(stored, given);
}
