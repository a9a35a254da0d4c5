// API tokens over JSON. Anyone signed in manages their own; listing or revoking other people's needs
// view_token / delete_token (and, to revoke, holding everything the owner holds); creating one for
// someone else is for superusers only (it is acting as them).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { assertOutranks } from './api-users.js';
import { TAGS, createdTokenSchema, guardedErrors, idParams, tokenCreateBody, tokenListQuery, tokenSchema, tokensPage } from './api-schemas.js';
import { added, audit, changed } from './audit.js';
import { adminGuard, requireUser, type AdminAuth } from './auth-plugin.js';
import { assertPerm, userHasPerm } from './permissions.js';
import { createToken, getToken, listTokens, revokeToken } from './tokens.js';
import { getUser } from './users.js';
import { adminError } from './errors.js';

export function registerTokenRoutes(server: FastifyInstance, auth: AdminAuth): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { db } = auth;

  app.get(
    '/api/v1/admin/tokens',
    {
      preValidation: adminGuard(),
      schema: {
        tags: TAGS,
        summary: 'API tokens, newest first: your own, or everyone’s with all=true or another userId (needs view_token)',
        querystring: tokenListQuery,
        response: { 200: tokensPage, ...guardedErrors },
      },
    },
    async (request) => {
      const actor = await requireUser(request);
      const { all, userId, ...page } = request.query;
      const others = all === true || (userId !== undefined && userId !== actor.id);
      if (others) assertPerm(actor, 'view_token');
      return listTokens(db, { ...page, userId: all === true && userId === undefined ? undefined : (userId ?? actor.id) });
    },
  );

  app.post(
    '/api/v1/admin/tokens',
    {
      preValidation: adminGuard(),
      schema: {
        tags: TAGS,
        summary: 'Create an API token (yours; for another user you must be a superuser). The token is in the answer, once.',
        body: tokenCreateBody,
        response: { 201: createdTokenSchema, ...guardedErrors },
      },
    },
    async (request, reply) => {
      const actor = await requireUser(request);
      const userId = request.body.userId ?? actor.id;
      if (userId !== actor.id && !actor.isSuperuser) throw adminError.permission_denied('Only a superuser can create a token for another user.');
      const owner = await getUser(db, userId);
      if (!owner) throw adminError.user_not_found(userId);
      if (!owner.isActive) throw adminError.invalid_token_request({ userId: `${owner.username} is not active.` });
      const { token, record } = await createToken(db, userId, request.body.name, auth.now());
      await audit(auth, actor, { action: 'add', objectType: 'token', objectId: record.id, objectRepr: `${record.name} (${record.prefix}) for ${owner.username}`, message: added() });
      return reply.status(201).send({ ...record, token });
    },
  );

  app.delete(
    '/api/v1/admin/tokens/:id',
    {
      preValidation: adminGuard(),
      schema: { tags: TAGS, summary: 'Revoke a token (yours, or anyone’s with delete_token); it stays listed as revoked', params: idParams, response: { 200: tokenSchema, ...guardedErrors } },
    },
    async (request) => {
      const actor = await requireUser(request);
      const token = await getToken(db, request.params.id);
      const mayRevoke = token && (token.userId === actor.id || userHasPerm(actor, 'delete_token'));
      if (!token || (!mayRevoke && !userHasPerm(actor, 'view_token'))) throw adminError.token_not_found(request.params.id);
      if (!mayRevoke) throw adminError.permission_denied('You do not have the "delete_token" permission.');
      // Revoking someone's token is changing them: not a user who holds more than you.
      if (token.userId !== actor.id) await assertOutranks(auth, actor, token.userId);
      const wasRevoked = token.revoked !== null;
      const revoked = await revokeToken(db, token.id, auth.now());
      if (!wasRevoked)
        await audit(auth, actor, { action: 'change', objectType: 'token', objectId: token.id, objectRepr: `${token.name} (${token.prefix}) for ${token.username}`, message: changed(['revoked']) });
      return revoked;
    },
  );
}
