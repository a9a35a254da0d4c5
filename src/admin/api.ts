// The admin auth JSON API under /api/v1/admin: who am I, CSRF tokens, the permission catalogue and
// the audit log here; users, groups and tokens in their own files. Every route declares its input and
// answers in zod (api-schemas.ts); a guarded route with input checks the caller in preValidation, so
// someone not allowed gets 401/403 before anything is said about their input.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerGroupRoutes } from './api-groups.js';
import { TAGS, csrfSchema, errorResponse, guardedErrors, logPage, logQuery, meSchema, permissionSchema } from './api-schemas.js';
import { registerTokenRoutes } from './api-tokens.js';
import { registerUserRoutes } from './api-users.js';
import { listLog } from './audit.js';
import { CSRF_FIELD, CSRF_HEADER, adminGuard, requireUser, type AdminAuth } from './auth-plugin.js';
import { ANONYMOUS } from './csrf.js';
import { PERMISSIONS, effectivePermissions, userHasPerm } from './permissions.js';

export function registerAdminApi(server: FastifyInstance, auth: AdminAuth): void {
  const app = server.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/v1/admin/me',
    { schema: { tags: TAGS, summary: 'The signed-in user and every permission they have', response: { 200: meSchema, 401: errorResponse, 403: errorResponse } } },
    async (request) => {
      const identity = await auth.identify(request);
      const { user } = identity;
      return { id: user.id, username: user.username, email: user.email, isStaff: user.isStaff, isSuperuser: user.isSuperuser, permissions: effectivePermissions(user), authenticatedBy: identity.via };
    },
  );

  app.get(
    '/api/v1/admin/csrf',
    {
      schema: {
        tags: TAGS,
        summary: `A CSRF token for scripts that use the session cookie: send it as the ${CSRF_HEADER} header (or form field ${CSRF_FIELD}) on every POST, PATCH and DELETE. Without a session it is valid for POST /admin/login only.`,
        response: { 200: csrfSchema },
      },
    },
    async (request, reply) => {
      const identity = await auth.sessionIdentity(request);
      return { token: auth.csrfToken(request, reply, identity?.session?.key ?? ANONYMOUS), header: CSRF_HEADER, field: CSRF_FIELD };
    },
  );

  app.get(
    '/api/v1/admin/permissions',
    {
      schema: {
        tags: TAGS,
        summary: 'Every permission that can be given to users and groups',
        response: { 200: z.array(permissionSchema), 401: errorResponse, 403: errorResponse },
      },
    },
    async (request) => {
      await requireUser(request);
      return [...PERMISSIONS];
    },
  );

  app.get(
    '/api/v1/admin/log',
    {
      preValidation: adminGuard(),
      schema: {
        tags: TAGS,
        summary: 'The history of admin changes, newest first (all of it with view_logentry, otherwise your own)',
        querystring: logQuery,
        response: { 200: logPage, 400: guardedErrors[400], 401: errorResponse, 403: errorResponse },
      },
    },
    async (request) => {
      const user = await requireUser(request);
      const query = { ...request.query };
      if (!userHasPerm(user, 'view_logentry')) query.userId = user.id;
      return listLog(auth.db, query);
    },
  );

  registerUserRoutes(server, auth);
  registerGroupRoutes(server, auth);
  registerTokenRoutes(server, auth);
}
