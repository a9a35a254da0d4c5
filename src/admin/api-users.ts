// Users over JSON: list, read, create, update (password, flags, groups, permissions), delete.
// Guarded by the user permissions, audited, and with no way up: nobody changes or deletes a user
// who holds a flag or permission they lack (superusers only by superusers), and nobody grants a
// permission, or a group whose permissions, they do not hold themselves.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { TAGS, guardedErrors, idParams, noContent, userCreateBody, userListQuery, userPatchBody, userSchema, usersPage, type UserWrite } from './api-schemas.js';
import { added, audit, changed, deleted } from './audit.js';
import { adminGuard, requireUser, type AdminAuth } from './auth-plugin.js';
import { groupsPermissions } from './groups.js';
import { verifyPassword } from './passwords.js';
import { assertCanGrant, assertPerm, userHasPerm, type Permission } from './permissions.js';
import { createUser, deleteUser, findLoginUser, getUser, listUsers, loadAuthUser, updateUser, type AuthUser, type UserRecord } from './users.js';
import { adminError } from './errors.js';

/**
 * Refuses unless `actor` holds everything `target` holds: the superuser flag, and every permission
 * the target has directly or through groups (whether or not the target is active: reactivating
 * must not hand out what the actor lacks). Guards every change of another user: password, email,
 * flags, groups, permissions, deletion, their tokens.
 */
export async function assertOutranks(auth: AdminAuth, actor: AuthUser, targetId: number): Promise<void> {
  if (actor.isSuperuser) return;
  const target = await loadAuthUser(auth.db, targetId);
  if (!target) return;
  if (target.isSuperuser) throw adminError.permission_denied('Only a superuser can change or delete a superuser.');
  const missing = [...target.permissions].filter((p) => !userHasPerm(actor, p as Permission)).sort();
  if (missing.length)
    throw adminError.permission_denied(`${target.username} holds permissions you do not have (${missing.join(', ')}): only someone who holds them too may change this user.`);
}

async function assertCanAssign(auth: AdminAuth, actor: AuthUser, body: UserWrite, target?: UserRecord): Promise<void> {
  if (actor.isSuperuser) return;
  if (target) await assertOutranks(auth, actor, target.id);
  if (body.isSuperuser !== undefined && body.isSuperuser !== (target?.isSuperuser ?? false))
    throw adminError.permission_denied('Only a superuser can give or take superuser status.');
  assertCanGrant(actor, body.permissions ?? []);
  if (body.groups?.length) assertCanGrant(actor, await groupsPermissions(auth.db, body.groups));
}

export function registerUserRoutes(server: FastifyInstance, auth: AdminAuth): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { db } = auth;

  app.get(
    '/api/v1/admin/users',
    {
      preValidation: adminGuard({ perm: 'view_user' }),
      schema: { tags: TAGS, summary: 'Users, by username (needs view_user)', querystring: userListQuery, response: { 200: usersPage, ...guardedErrors } },
    },
    async (request) => listUsers(db, request.query),
  );

  app.get(
    '/api/v1/admin/users/:id',
    {
      preValidation: adminGuard(),
      schema: { tags: TAGS, summary: 'One user (needs view_user, except for yourself)', params: idParams, response: { 200: userSchema, ...guardedErrors } },
    },
    async (request) => {
      const actor = await requireUser(request);
      if (actor.id !== request.params.id) assertPerm(actor, 'view_user');
      const user = await getUser(db, request.params.id);
      if (!user) throw adminError.user_not_found(request.params.id);
      return user;
    },
  );

  app.post(
    '/api/v1/admin/users',
    {
      preValidation: adminGuard({ perm: 'add_user' }),
      schema: { tags: TAGS, summary: 'Create a user (needs add_user)', body: userCreateBody, response: { 201: userSchema, ...guardedErrors } },
    },
    async (request, reply) => {
      const actor = await requireUser(request);
      const { currentPassword: _ignored, ...body } = request.body;
      await assertCanAssign(auth, actor, body);
      const user = await createUser(db, body);
      await audit(auth, actor, { action: 'add', objectType: 'user', objectId: user.id, objectRepr: user.username, message: added() });
      return reply.status(201).send(user);
    },
  );

  app.patch(
    '/api/v1/admin/users/:id',
    {
      preValidation: adminGuard(),
      schema: {
        tags: TAGS,
        summary: 'Change a user (needs change_user; you may change your own password and email with currentPassword)',
        params: idParams,
        body: userPatchBody,
        response: { 200: userSchema, ...guardedErrors },
      },
    },
    async (request) => {
      const identity = await auth.identify(request);
      const actor = identity.user;
      const { currentPassword, ...body } = request.body;
      const target = await getUser(db, request.params.id);
      if (!target) throw adminError.user_not_found(request.params.id);
      const selfService = actor.id === target.id && Object.keys(body).every((k) => k === 'password' || k === 'email');
      if (!userHasPerm(actor, 'change_user')) {
        if (!selfService) throw adminError.permission_denied('You do not have the "change_user" permission.');
        const login = await findLoginUser(db, actor.username);
        if (!(await verifyPassword(currentPassword ?? '', login?.password)))
          throw adminError.invalid_user({ currentPassword: 'Your current password was entered incorrectly.' });
      } else {
        await assertCanAssign(auth, actor, body, target);
      }
      const result = await updateUser(db, target.id, body, { keepSession: identity.session?.key });
      if (result.changed.length)
        await audit(auth, actor, { action: 'change', objectType: 'user', objectId: target.id, objectRepr: result.user.username, message: changed(result.changed) });
      return result.user;
    },
  );

  app.delete(
    '/api/v1/admin/users/:id',
    {
      preValidation: adminGuard({ perm: 'delete_user' }),
      schema: { tags: TAGS, summary: 'Delete a user (needs delete_user)', params: idParams, response: { 204: noContent, ...guardedErrors } },
    },
    async (request, reply) => {
      const actor = await requireUser(request);
      if (actor.id === request.params.id) throw adminError.invalid_user({ _: 'You cannot delete your own account.' });
      const target = await getUser(db, request.params.id);
      if (!target) throw adminError.user_not_found(request.params.id);
      await assertCanAssign(auth, actor, {}, target);
      await deleteUser(db, target.id);
      await audit(auth, actor, { action: 'delete', objectType: 'user', objectId: target.id, objectRepr: target.username, message: deleted() });
      return reply.status(204).send();
    },
  );
}
