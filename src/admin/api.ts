// The admin auth JSON API under /api/v1/admin: who am I, CSRF tokens, the permission catalogue and
// the audit log here; users, groups and tokens in their own files.
import type { FastifyInstance } from 'fastify';
import { registerGroupRoutes } from './api-groups.js';
import { TAGS, errors, logEntrySchema, meSchema, pageOf, pageQueryProps } from './api-schemas.js';
import { registerTokenRoutes } from './api-tokens.js';
import { registerUserRoutes } from './api-users.js';
import { listLog, type ChangeAction } from './audit.js';
import { CSRF_FIELD, CSRF_HEADER, requireUser, type AdminAuth } from './auth-plugin.js';
import { ANONYMOUS } from './csrf.js';
import { PERMISSIONS, effectivePermissions, userHasPerm } from './permissions.js';

export function registerAdminApi(app: FastifyInstance, auth: AdminAuth): void {
  app.get(
    '/api/v1/admin/me',
    { schema: { tags: TAGS, summary: 'The signed-in user and every permission they have', response: { 200: meSchema, 401: errors[401], 403: errors[403] } } },
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
        response: { 200: { type: 'object', properties: { token: { type: 'string' }, header: { type: 'string' }, field: { type: 'string' } } } },
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
        response: {
          200: { type: 'array', items: { type: 'object', properties: { codename: { type: 'string' }, action: { type: 'string' }, model: { type: 'string' }, name: { type: 'string' } } } },
          401: errors[401],
        },
      },
    },
    async (request) => {
      await requireUser(request);
      return PERMISSIONS;
    },
  );

  app.get<{ Querystring: { page?: number; pageSize?: number; objectType?: string; objectId?: string; userId?: number; action?: ChangeAction } }>(
    '/api/v1/admin/log',
    {
      schema: {
        tags: TAGS,
        summary: 'The history of admin changes, newest first (all of it with view_logentry, otherwise your own)',
        querystring: {
          type: 'object',
          properties: {
            ...pageQueryProps,
            objectType: { type: 'string', maxLength: 50 },
            objectId: { type: 'string', maxLength: 100 },
            userId: { type: 'integer', minimum: 1 },
            action: { type: 'string', enum: ['add', 'change', 'delete', 'other'] },
          },
        },
        response: { 200: pageOf(logEntrySchema, 'A page of log entries'), 401: errors[401], 403: errors[403] },
      },
    },
    async (request) => {
      const user = await requireUser(request);
      const query = { ...request.query };
      if (!userHasPerm(user, 'view_logentry')) query.userId = user.id;
      return listLog(auth.db, query);
    },
  );

  registerUserRoutes(app, auth);
  registerGroupRoutes(app, auth);
  registerTokenRoutes(app, auth);
}
