// CSRF tokens (our own small scheme; see auth-plugin.ts for why not @fastify/csrf-protection).
// A random secret lives in a signed, httpOnly cookie; a token is `salt.HMAC(key, secret.salt.binding)`
// where the binding is the session's key (or "anonymous" for the log-in form). A fresh salt per
// page keeps tokens from repeating (BREACH); binding to the session means log-in rotates every token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const ANONYMOUS = 'anonymous';

export function newCsrfSecret(): string {
  return randomBytes(32).toString('base64url');
}

function mac(key: string, secret: string, salt: string, binding: string): string {
  return createHmac('sha256', key).update(`${secret}.${salt}.${binding}`).digest('base64url');
}

export function makeCsrfToken(key: string, secret: string, binding: string): string {
  const salt = randomBytes(12).toString('base64url');
  return `${salt}.${mac(key, secret, salt, binding)}`;
}

export function checkCsrfToken(key: string, secret: string | undefined, token: unknown, binding: string): boolean {
  if (!secret || typeof token !== 'string' || token.length > 200) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const expected = Buffer.from(mac(key, secret, token.slice(0, dot), binding));
  const actual = Buffer.from(token.slice(dot + 1));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
