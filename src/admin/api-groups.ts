// Groups over JSON: list, read, create, rename / set permissions, delete; audited. Nobody gives a
// group a permission they lack, nor changes or deletes a group that grants one they lack.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { TAGS, groupCreateBody, groupListQuery, groupPatchBody, groupSchema, groupsPage, guardedErrors, idParams, noContent } from './api-schemas.js';
import { added, audit, changed, deleted } from './audit.js';
import { adminGuard, requireUser, type AdminAuth } from './auth-plugin.js';
import { assertCanGrant, userHasPerm } from './permissions.js';
import type { AuthUser } from './users.js';
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from './groups.js';
import { adminError } from './errors.js';

async function assertCanTouch(auth: AdminAuth, actor: AuthUser, id: number): Promise<void> {
  if (actor.isSuperuser) return;
  const group = await getGroup(auth.db, id);
  const missing = group?.permissions.filter((p) => !userHasPerm(actor, p)) ?? [];
  if (missing.length) throw adminError.permission_denied(`The group "${group!.name}" grants permissions you do not have (${missing.join(', ')}): only someone who holds them may change it.`);
}

export function registerGroupRoutes(server: FastifyInstance, auth: AdminAuth): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { db } = auth;

  app.get(
    '/api/v1/admin/groups',
    {
      preValidation: adminGuard({ perm: 'view_group' }),
      schema: { tags: TAGS, summary: 'Groups, by name (needs view_group)', querystring: groupListQuery, response: { 200: groupsPage, ...guardedErrors } },
    },
    async (request) => listGroups(db, request.query),
  );

  app.get(
    '/api/v1/admin/groups/:id',
    {
      preValidation: adminGuard({ perm: 'view_group' }),
      schema: { tags: TAGS, summary: 'One group (needs view_group)', params: idParams, response: { 200: groupSchema, ...guardedErrors } },
    },
    async (request) => {
      const group = await getGroup(db, request.params.id);
      if (!group) throw adminError.group_not_found(request.params.id);
      return group;
    },
  );

  app.post(
    '/api/v1/admin/groups',
    {
      preValidation: adminGuard({ perm: 'add_group' }),
      schema: { tags: TAGS, summary: 'Create a group (needs add_group)', body: groupCreateBody, response: { 201: groupSchema, ...guardedErrors } },
    },
    async (request, reply) => {
      const actor = await requireUser(request);
      assertCanGrant(actor, request.body.permissions ?? []);
      const group = await createGroup(db, request.body);
      await audit(auth, actor, { action: 'add', objectType: 'group', objectId: group.id, objectRepr: group.name, message: added() });
      return reply.status(201).send(group);
    },
  );

  app.patch(
    '/api/v1/admin/groups/:id',
    {
      preValidation: adminGuard({ perm: 'change_group' }),
      schema: {
        tags: TAGS,
        summary: 'Rename a group or replace its permissions (needs change_group)',
        params: idParams,
        body: groupPatchBody,
        response: { 200: groupSchema, ...guardedErrors },
      },
    },
    async (request) => {
      const actor = await requireUser(request);
      await assertCanTouch(auth, actor, request.params.id);
      assertCanGrant(actor, request.body.permissions ?? []);
      const { group, changed: fields } = await updateGroup(db, request.params.id, request.body);
      if (fields.length) await audit(auth, actor, { action: 'change', objectType: 'group', objectId: group.id, objectRepr: group.name, message: changed(fields) });
      return group;
    },
  );

  app.delete(
    '/api/v1/admin/groups/:id',
    {
      preValidation: adminGuard({ perm: 'delete_group' }),
      schema: { tags: TAGS, summary: 'Delete a group (needs delete_group); its members lose its permissions', params: idParams, response: { 204: noContent, ...guardedErrors } },
    },
    async (request, reply) => {
      const actor = await requireUser(request);
      await assertCanTouch(auth, actor, request.params.id);
      const group = await deleteGroup(db, request.params.id);
      await audit(auth, actor, { action: 'delete', objectType: 'group', objectId: group.id, objectRepr: group.name, message: deleted() });
      return reply.status(204).send();
    },
  );
}
