// Log-in, log-out, the console shell and its stylesheet. Log-in is rate-limited per client and
// globally (429 rate_limited), throttled per username and client (throttle.ts: the attempt is
// reserved before the password is checked), always starts a new session (no fixation) and answers
// forms with pages and JSON clients with JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse } from '../platform/api-shapes.js';
import { AppError } from '../platform/errors.js';
import { noContent } from './api-schemas.js';
import { adminGuard, CSRF_FIELD, isCrossSite, safeNext, SESSION_COOKIE, type AdminAuth } from './auth-plugin.js';
import { ANONYMOUS } from './csrf.js';
import { AUTH_CSS, CSS_PATH, forbiddenPage, loginPage, sendPage, shellPage } from './pages.js';
import { needsRehash, hashPassword, verifyPassword } from './passwords.js';
import { effectivePermissions } from './permissions.js';
import { createSession, deleteSession, purgeExpiredSessions } from './sessions.js';
import { failureLocks, purgeExpiredCounters, releaseAttempt, reserveAttempt } from './throttle.js';
import { findLoginUser, loadAuthUser, recordLogin } from './users.js';
import { adminError } from './errors.js';

const BAD_CREDENTIALS = 'Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.';

function wantsJson(request: FastifyRequest): boolean {
  if ((request.headers['content-type'] ?? '').includes('application/json')) return true;
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

// Strings of any length: an empty or missing field is the page's "Enter a username and a password",
// and a password is checked whatever it is (hashing bounds its cost). Other fields are dropped.
const loginBody = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  next: z.string().optional().describe('A local path to go to afterwards (default /admin/)'),
  [CSRF_FIELD]: z.string().optional().describe('The CSRF token (or send it in the x-csrf-token header)'),
});
type LoginBody = z.output<typeof loginBody>;

const loggedIn = z
  .object({ username: z.string(), isSuperuser: z.boolean(), permissions: z.array(z.string()), csrfToken: z.string(), next: z.string() })
  .describe('Logged in (a JSON client): the user, and the CSRF token of the new session');

export function registerLoginRoutes(server: FastifyInstance, auth: AdminAuth, options: { shellPage: boolean }): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { db, logger } = auth;

  function fail(request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string, body: LoginBody, retryAfter?: number) {
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    if (wantsJson(request)) return reply.status(status).send({ error: { code, message } });
    const csrfToken = auth.csrfToken(request, reply, ANONYMOUS);
    return sendPage(reply, status, loginPage({ csrfToken, next: safeNext(body.next), username: body.username, error: message }));
  }

  function lockedOut(request: FastifyRequest, reply: FastifyReply, seconds: number, body: LoginBody) {
    return fail(request, reply, 429, 'locked_out', `Too many failed log-ins for this account from your address. Try again in ${Math.ceil(seconds / 60)} minute(s).`, body, seconds);
  }

  app.get(
    '/admin/login',
    {
      config: { produces: { type: 'text/html', description: 'The log-in form (a signed-in user is redirected to `next`)' } },
      schema: { tags: ['admin'], summary: 'The log-in page (HTML)', querystring: z.object({ next: z.string().optional() }) },
    },
    async (request, reply) => {
      const next = safeNext(request.query.next);
      if (await auth.sessionIdentity(request)) return reply.redirect(next, 302);
      return sendPage(reply, 200, loginPage({ csrfToken: auth.csrfToken(request, reply, ANONYMOUS), next }));
    },
  );

  // Before anything else (CSRF, the database, the hashing threads): per client, then for everyone.
  // createRateLimit, not app.rateLimit: the plugin runs only one of its preHandlers per request.
  const limits = auth.loginRateLimit;
  const limiters = limits
    ? ([
        [app.createRateLimit({ max: limits.perClient.max, timeWindow: limits.perClient.windowMs, keyGenerator: (request) => `admin-login:client:${request.ip}` }), 'from your address'],
        [app.createRateLimit({ max: limits.global.max, timeWindow: limits.global.windowMs, keyGenerator: () => 'admin-login:global' }), 'on this server'],
      ] as const)
    : [];
  const limited = async (request: FastifyRequest) => {
    for (const [limit, where] of limiters) {
      const result = await limit(request);
      if (!result.isAllowed && result.isExceeded) {
        logger.warn({ event: 'admin.login_rate_limited', ip: request.ip, where }, 'admin log-in rate limit reached');
        throw adminError.rate_limited(where, result.ttlInSeconds);
      }
    }
  };

  app.post(
    '/admin/login',
    {
      preHandler: limited,
      schema: {
        tags: ['admin'],
        summary: 'Log in: a form post (redirects) or JSON (answers with the user and a CSRF token for the new session)',
        body: loginBody,
        response: {
          200: loggedIn,
          303: noContent.describe('Logged in (a form): redirected to `next`'),
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
          429: errorResponse,
          503: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      if (isCrossSite(request)) return fail(request, reply, 403, 'csrf_failed', 'Log-in from another site is refused.', body);
      const ip = request.ip;
      // The log-in form is protected too (log-in CSRF): its token is bound to no session, or to the
      // current one when someone already signed in logs in again.
      const current = await auth.sessionIdentity(request);
      if (!auth.checkCsrf(request, ANONYMOUS) && !(current && auth.checkCsrf(request, current.session!.key)))
        return fail(request, reply, 403, 'csrf_failed', 'The form had expired or was not sent by this site. Please try again.', body);
      const username = typeof body.username === 'string' ? body.username : '';
      const password = typeof body.password === 'string' ? body.password : '';
      if (!username || !password) return fail(request, reply, 400, 'invalid_request', 'Enter a username and a password.', body);

      const now = auth.now();
      const keys = { username, ip };
      // The attempt takes its place in the counters first (atomically): parallel requests cannot
      // all be checked before the lock is seen.
      const reservation = await reserveAttempt(db, keys, auth.throttle, now);
      if (reservation.locked) {
        const seconds = Math.max(1, Math.ceil((reservation.lockedUntil! - now) / 1000));
        logger.warn({ event: 'admin.login_locked', username, ip, retryAfter: seconds }, 'admin log-in refused: this client is locked out of this username');
        return lockedOut(request, reply, seconds, body);
      }
      if (reservation.delayMs) await auth.sleep(reservation.delayMs);

      const found = await findLoginUser(db, username);
      const passwordOk = await verifyPassword(password, found?.password);
      if (!found || !passwordOk || !found.canLogIn) {
        const at = auth.now();
        logger.warn({ event: 'admin.login_failed', username, ip, failures: reservation.lock.count, usernameFailures: reservation.user.count, ipFailures: reservation.ip.count }, 'admin log-in failed');
        const lockedUntil = failureLocks(reservation, auth.throttle);
        if (lockedUntil !== null) {
          const seconds = Math.max(1, Math.ceil((lockedUntil - at) / 1000));
          logger.warn({ event: 'admin.lockout', username, ip, seconds }, 'admin log-in locked for this username and client after repeated failures');
          return lockedOut(request, reply, seconds, body);
        }
        // Counters of guessed usernames would pile up between successful log-ins: sweep now and then.
        if (Math.random() < 0.02) void purgeExpiredCounters(db, at).catch(() => {});
        return fail(request, reply, 401, 'invalid_credentials', BAD_CREDENTIALS, body);
      }

      await releaseAttempt(db, reservation);
      if (current) await deleteSession(db, current.session!.key);
      const { id, session } = await createSession(db, found.id, { policy: auth.sessionPolicy, now, ip, userAgent: request.headers['user-agent'] });
      await recordLogin(db, found.id, now, needsRehash(found.password) ? await hashPassword(password) : undefined);
      void purgeExpiredSessions(db, auth.sessionPolicy, now).catch(() => {});
      void purgeExpiredCounters(db, now).catch(() => {});
      reply.setCookie(SESSION_COOKIE, id, auth.cookieOptions(Math.floor(auth.sessionPolicy.maxAgeMs / 1000)));
      logger.info({ event: 'admin.login', username, userId: found.id, ip }, 'admin logged in');

      const next = safeNext(body.next);
      if (!wantsJson(request)) return reply.redirect(next, 303);
      const user = (await loadAuthUser(db, found.id))!;
      return { username: user.username, isSuperuser: user.isSuperuser, permissions: effectivePermissions(user), csrfToken: auth.csrfToken(request, reply, session.key), next };
    },
  );

  app.post(
    '/admin/logout',
    { schema: { tags: ['admin'], summary: 'Log out: ends the session (needs the CSRF token); a form is redirected to the log-in page, JSON gets 204', response: { 204: noContent, 303: noContent, 403: errorResponse } } },
    async (request, reply) => {
      // Another site must not end the session, not even a stale one (the cookie is SameSite=Strict,
      // but clearing it needs no cookie at all).
      if (isCrossSite(request)) {
        if (wantsJson(request)) throw adminError.csrf_failed('Log-out from another site is refused.');
        return sendPage(reply, 403, forbiddenPage('Log-out from another site is refused.'));
      }
      const current = await auth.sessionIdentity(request);
      if (current) {
        try {
          await auth.identify(request); // the CSRF check: 403 csrf_failed without a valid token
        } catch (err) {
          if (wantsJson(request) || !(err instanceof AppError)) throw err;
          return sendPage(reply, err.status, forbiddenPage(err.message));
        }
        await deleteSession(db, current.session!.key);
        logger.info({ event: 'admin.logout', username: current.user.username, userId: current.user.id, ip: request.ip }, 'admin logged out');
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return wantsJson(request) ? reply.status(204).send() : reply.redirect('/admin/login', 303);
    },
  );

  if (options.shellPage) {
    const guard = adminGuard({ page: true });
    app.get('/admin/', { config: { produces: { type: 'text/html', description: 'The console page' } }, schema: { tags: ['admin'], summary: 'The admin console (HTML)' }, preHandler: guard }, async (request, reply) =>
      sendPage(reply, 200, shellPage(request.adminIdentity!.user, auth.csrfToken(request, reply))),
    );
    app.get('/admin', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin/', 301));
  }

  app.get(CSS_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(AUTH_CSS),
  );
}
