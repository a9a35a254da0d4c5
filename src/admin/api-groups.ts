// Groups over JSON: list, read, create, rename / set permissions, delete; audited. Nobody gives a
// group a permission they lack, nor changes or deletes a group that grants one they lack.
import type { FastifyInstance } from 'fastify';
import { TAGS, errors, groupSchema, groupWriteSchema, idParams, pageOf, pageQueryProps } from './api-schemas.js';
import { added, audit, changed, deleted } from './audit.js';
import { requirePerm, type AdminAuth } from './auth-plugin.js';
import { assertCanGrant, userHasPerm } from './permissions.js';
import type { AuthUser } from './users.js';
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup, type GroupInput } from './groups.js';
import { adminError } from './errors.js';

async function assertCanTouch(auth: AdminAuth, actor: AuthUser, id: number): Promise<void> {
  if (actor.isSuperuser) return;
  const group = await getGroup(auth.db, id);
  const missing = group?.permissions.filter((p) => !userHasPerm(actor, p)) ?? [];
  if (missing.length) throw adminError.permission_denied(`The group "${group!.name}" grants permissions you do not have (${missing.join(', ')}): only someone who holds them may change it.`);
}

export function registerGroupRoutes(app: FastifyInstance, auth: AdminAuth): void {
  const { db } = auth;

  app.get<{ Querystring: { search?: string; page?: number; pageSize?: number } }>(
    '/api/v1/admin/groups',
    {
      schema: {
        tags: TAGS,
        summary: 'Groups, by name (needs view_group)',
        querystring: { type: 'object', properties: { ...pageQueryProps, search: { type: 'string', maxLength: 150 } } },
        response: { 200: pageOf(groupSchema, 'A page of groups'), ...errors },
      },
    },
    async (request) => {
      await requirePerm(request, 'view_group');
      return listGroups(db, request.query);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/admin/groups/:id',
    { schema: { tags: TAGS, summary: 'One group (needs view_group)', params: idParams, response: { 200: groupSchema, ...errors } } },
    async (request) => {
      await requirePerm(request, 'view_group');
      const group = await getGroup(db, request.params.id);
      if (!group) throw adminError.group_not_found(request.params.id);
      return group;
    },
  );

  app.post<{ Body: GroupInput }>(
    '/api/v1/admin/groups',
    { schema: { tags: TAGS, summary: 'Create a group (needs add_group)', body: { ...groupWriteSchema, required: ['name'] }, response: { 201: groupSchema, ...errors } } },
    async (request, reply) => {
      const actor = await requirePerm(request, 'add_group');
      assertCanGrant(actor, request.body.permissions ?? []);
      const group = await createGroup(db, request.body);
      await audit(auth, actor, { action: 'add', objectType: 'group', objectId: group.id, objectRepr: group.name, message: added() });
      return reply.status(201).send(group);
    },
  );

  app.patch<{ Params: { id: number }; Body: GroupInput }>(
    '/api/v1/admin/groups/:id',
    { schema: { tags: TAGS, summary: 'Rename a group or replace its permissions (needs change_group)', params: idParams, body: groupWriteSchema, response: { 200: groupSchema, ...errors } } },
    async (request) => {
      const actor = await requirePerm(request, 'change_group');
      await assertCanTouch(auth, actor, request.params.id);
      assertCanGrant(actor, request.body.permissions ?? []);
      const { group, changed: fields } = await updateGroup(db, request.params.id, request.body);
      if (fields.length) await audit(auth, actor, { action: 'change', objectType: 'group', objectId: group.id, objectRepr: group.name, message: changed(fields) });
      return group;
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/admin/groups/:id',
    { schema: { tags: TAGS, summary: 'Delete a group (needs delete_group); its members lose its permissions', params: idParams, response: { 204: { type: 'null' }, ...errors } } },
    async (request, reply) => {
      const actor = await requirePerm(request, 'delete_group');
      await assertCanTouch(auth, actor, request.params.id);
      const group = await deleteGroup(db, request.params.id);
      await audit(auth, actor, { action: 'delete', objectType: 'group', objectId: group.id, objectRepr: group.name, message: deleted() });
      return reply.status(204).send();
    },
  );
}
