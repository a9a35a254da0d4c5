// The admin's authentication: session cookies (server-side sessions) or bearer tokens, CSRF checks,
// and the guards the rest of the admin (routes.ts) and the features' routes build on.
//
// CSRF is our own small scheme (csrf.ts), not @fastify/csrf-protection: its check only exists as a
// route hook that fails through reply.send with codes FST_CSRF_*, so it can neither run inside
// requireUser (which must skip it for bearer tokens) nor answer with our `csrf_failed` contract,
// and rotating its secret at log-in needs its private Tokens instance.
import fastifyCookie, { Signer } from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { ANONYMOUS, checkCsrfToken, makeCsrfToken, newCsrfSecret } from './csrf.js';
import { forbiddenPage, sendPage } from './pages.js';
import { assertPerm, type Permission } from './permissions.js';
import { deriveKey, fixedSecret, type SecretRing } from './secret.js';
import { DEFAULT_SESSION_POLICY, resolveSession, type Session, type SessionPolicy } from './sessions.js';
import { DEFAULT_THROTTLE, type ThrottlePolicy } from './throttle.js';
import { authenticateToken } from './tokens.js';
import { loadAuthUser, type AuthUser } from './users.js';
import { adminError } from './errors.js';

export const SESSION_COOKIE = 'seler_session';
export const CSRF_COOKIE = 'seler_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminAuthOptions {
  db: Db;
  /** The admin's signing secret (loadSecrets: shared through the database, rotated); cookie and CSRF keys are derived from it. */
  secret: string | SecretRing;
  logger: Logger;
  /** Mark cookies Secure (serve the admin over HTTPS, or behind a TLS proxy). */
  cookieSecure: boolean;
  session?: Partial<SessionPolicy>;
  throttle?: Partial<ThrottlePolicy>;
  /**
   * Rate limits on POST /admin/login (429 rate_limited + Retry-After), per client address and for
   * everyone, kept in @fastify/rate-limit's store (Redis when the server has one). false: none.
   */
  loginRateLimit?: Partial<LoginRateLimit> | false;
  now?: () => number;
  /** How the log-in slow-down waits (tests observe it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface LoginRateLimit {
  perClient: { max: number; windowMs: number };
  global: { max: number; windowMs: number };
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = {
  perClient: { max: 30, windowMs: 60_000 },
  global: { max: 300, windowMs: 60_000 },
};

/**
 * A request another site made the browser send: Sec-Fetch-Site says cross-site, or an Origin
 * (including "null") that is not this host. Requests without either (scripts, old browsers) pass.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    // Both through URL, so a default port written out on one side ("host:80") still matches.
    return new URL(origin).host !== new URL(`${request.protocol}://${request.host}`).host;
  } catch {
    return true;
  }
}

export interface Identity {
  user: AuthUser;
  via: 'session' | 'token';
  session?: Session;
  tokenId?: number;
}

export class AdminAuth {
  readonly db: Db;
  readonly logger: Logger;
  readonly cookieSecure: boolean;
  readonly sessionPolicy: SessionPolicy;
  readonly throttle: ThrottlePolicy;
  readonly loginRateLimit: LoginRateLimit | false;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  private readonly secrets: SecretRing;

  constructor(options: AdminAuthOptions) {
    this.db = options.db;
    this.logger = options.logger;
    this.cookieSecure = options.cookieSecure;
    this.sessionPolicy = { ...DEFAULT_SESSION_POLICY, ...options.session };
    this.throttle = { ...DEFAULT_THROTTLE, ...options.throttle };
    this.loginRateLimit = options.loginRateLimit === false ? false : { ...DEFAULT_LOGIN_RATE_LIMIT, ...options.loginRateLimit };
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.secrets = typeof options.secret === 'string' ? fixedSecret(options.secret) : options.secret;
  }

  get secretRing(): SecretRing {
    return this.secrets;
  }

  cookieOptions(maxAgeSeconds: number) {
    return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: this.cookieSecure, signed: true, maxAge: maxAgeSeconds };
  }

  private signedCookie(request: FastifyRequest, name: string): string | undefined {
    const raw = request.cookies[name];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value ? unsigned.value : undefined;
  }

  /** The session behind the request's cookie with its user, when both are live (no CSRF check). */
  async sessionIdentity(request: FastifyRequest): Promise<Identity | null> {
    const id = this.signedCookie(request, SESSION_COOKIE);
    if (!id) return null;
    const session = await resolveSession(this.db, id, { policy: this.sessionPolicy, now: this.now() });
    if (!session) return null;
    const user = await loadAuthUser(this.db, session.userId);
    if (!user?.isActive || !user.isStaff) return null;
    return { user, via: 'session', session };
  }

  /** Who is asking, or throws 401 (nobody / bad token), 403 (CSRF, not staff). */
  async identify(request: FastifyRequest): Promise<Identity> {
    if (request.adminIdentity) return request.adminIdentity;
    const header = request.headers.authorization;
    let identity: Identity;
    // Only the Bearer scheme is ours: Basic credentials added by a proxy in front must not hide the session.
    if (header !== undefined && /^bearer(\s|$)/i.test(header)) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const found = match ? await authenticateToken(this.db, match[1]!, this.now()) : null;
      const user = found ? await loadAuthUser(this.db, found.userId) : null;
      if (!found || !user?.isActive) throw adminError.invalid_token();
      if (!user.isStaff) throw adminError.permission_denied('The token’s user is not a staff member.');
      identity = { user, via: 'token', tokenId: found.tokenId };
    } else {
      const found = await this.sessionIdentity(request);
      if (!found) throw adminError.not_authenticated();
      if (!SAFE_METHODS.has(request.method) && !this.checkCsrf(request, found.session!.key))
        throw adminError.csrf_failed(`A valid CSRF token is required (header ${CSRF_HEADER} or form field ${CSRF_FIELD}; GET /api/v1/admin/csrf gives one).`);
      identity = found;
    }
    request.adminIdentity = identity;
    return identity;
  }

  checkCsrf(request: FastifyRequest, binding: string): boolean {
    const token = request.headers[CSRF_HEADER] ?? request.adminCsrfField ?? undefined;
    const secret = this.signedCookie(request, CSRF_COOKIE);
    // A token made with a secret still in its grace period is good: a rotation logs nobody out.
    return this.secrets.verifying.some((s) => checkCsrfToken(keyFor(s, 'csrf'), secret, token, binding));
  }

  /** A CSRF token for this request's session (or the anonymous log-in form), setting the secret cookie if needed. */
  csrfToken(request: FastifyRequest, reply: FastifyReply, binding = request.adminIdentity?.session?.key ?? ANONYMOUS): string {
    let secret = this.signedCookie(request, CSRF_COOKIE);
    if (!secret) {
      secret = newCsrfSecret();
      reply.setCookie(CSRF_COOKIE, secret, this.cookieOptions(365 * 24 * 3600));
      // Later tokens in this same request must use the secret just set, not a missing one.
      request.cookies[CSRF_COOKIE] = reply.signCookie(secret);
    }
    return makeCsrfToken(keyFor(this.secrets.signing, 'csrf'), secret, binding);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    adminAuth: AdminAuth;
  }
  interface FastifyRequest {
    adminIdentity: Identity | null;
    /** The `_csrf` form field, kept before body validation strips fields the route's schema does not name. */
    adminCsrfField: string | null;
  }
}

function authOf(request: FastifyRequest): AdminAuth {
  const auth = request.server.adminAuth;
  if (!auth) throw new Error('registerAdminAuth() has not been called on this server');
  return auth;
}

/** The signed-in staff user (session + CSRF on unsafe methods, or bearer token); throws 401/403. */
export async function requireUser(request: FastifyRequest): Promise<AuthUser> {
  return (await authOf(request).identify(request)).user;
}

/** requireUser, then 403 `permission_denied` unless the user has the permission. */
export async function requirePerm(request: FastifyRequest, perm: Permission): Promise<AuthUser> {
  const user = await requireUser(request);
  assertPerm(user, perm);
  return user;
}

/** A feature's guard (beat's routes): any signed-in staff user with `null`, else one holding `perm`; 401/403 otherwise. */
export function staffGuard(request: FastifyRequest, perm: Permission | null): Promise<AuthUser> {
  return perm ? requirePerm(request, perm) : requireUser(request);
}

/** A CSRF token to put in a form (`_csrf`) or give to a script (`x-csrf-token`). */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  return authOf(request).csrfToken(request, reply);
}

/** Only local paths (`/admin/x?y`), never another site: refuses `//evil.com`, `https://…`, `/\evil.com`. */
export function safeNext(next: unknown, fallback = '/admin/'): string {
  if (typeof next !== 'string' || next.length > 2000 || !/^\/[\x21-\x7e]*$/.test(next)) return fallback;
  if (next.startsWith('//') || next.includes('\\')) return fallback;
  try {
    const url = new URL(next, 'http://seler.invalid');
    return url.origin === 'http://seler.invalid' ? next : fallback;
  } catch {
    return fallback;
  }
}

export function loginUrl(next: string): string {
  return `/admin/login?next=${encodeURIComponent(next)}`;
}

/**
 * A preHandler for admin routes. For API routes (under /api/) errors stay JSON; for pages, no
 * session redirects to the log-in page and a refusal renders a 403 page.
 */
export function adminGuard(options: { perm?: Permission; page?: boolean } = {}): preHandlerAsyncHookHandler {
  return async function guard(request, reply) {
    const page = options.page ?? !request.url.startsWith('/api/');
    try {
      await (options.perm ? requirePerm(request, options.perm) : requireUser(request));
    } catch (err) {
      if (!page || !(err instanceof AppError)) throw err;
      if (err.status === 401) return reply.redirect(loginUrl(request.url), 302);
      return sendPage(reply, err.status, forbiddenPage(err.message));
    }
  };
}

/**
 * Registers cookies (signed with a key derived from `secret`), form bodies and who is asking: the admin's
 * own routes (routes.ts) and the features' guarded routes come after. Call it on the root instance before
 * any of them is registered (its hooks and decorators must reach them), and before `listen`.
 */
export async function registerAdminAuth(app: FastifyInstance, options: AdminAuthOptions): Promise<AdminAuth> {
  const auth = new AdminAuth(options);
  await app.register(fastifyCookie, { secret: rotatingSigner(auth.secretRing), hook: 'onRequest' });
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(fastifyFormbody);
  app.decorate('adminAuth', auth);
  app.decorateRequest('adminIdentity', null);
  app.decorateRequest('adminCsrfField', null);
  app.addHook('preValidation', async (request) => {
    const body = request.body as Record<string, unknown> | null | undefined;
    if (body && typeof body === 'object' && typeof body[CSRF_FIELD] === 'string') request.adminCsrfField = body[CSRF_FIELD];
  });
  return auth;
}

const derivedKeys = new Map<string, string>();
/** deriveKey, remembered (a handful of secrets live at a time; the HMAC need not run per request). */
function keyFor(secret: string, purpose: string): string {
  const id = `${purpose}\0${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    if (derivedKeys.size > 64) derivedKeys.clear();
    derivedKeys.set(id, (key = deriveKey(secret, purpose)));
  }
  return key;
}

/**
 * @fastify/cookie's signer over the ring as it is now: signs with the signing secret, verifies with
 * any secret still in its grace period (and asks for a re-signed cookie when an older one matched).
 */
function rotatingSigner(ring: SecretRing): Pick<Signer, 'sign' | 'unsign'> {
  let signer: Signer | undefined;
  let made = '';
  const current = () => {
    const id = ring.verifying.join('\0');
    if (!signer || id !== made) {
      signer = new Signer(ring.verifying.map((s) => keyFor(s, 'cookie')));
      made = id;
    }
    return signer;
  };
  return { sign: (value: string) => current().sign(value), unsign: (input: string) => current().unsign(input) };
}
