// The admin JSON API's shapes in zod, each declared once: Fastify validates requests and serializes
// answers with them (an answer that does not match is a 500, so they are exact) and /docs is generated
// from them. The answers are checked against contract.ts, the types the console reads.
import { z } from 'zod';
import { MAX_ID, dateTime, pageOf, pageQueryShape, queryFlag } from '../platform/api-shapes.js';
import { PERMISSION_ACTIONS, type ChangeAction, type GroupRecord, type LogEntry, type PermissionInfo, type PermissionModel, type TokenRecord, type UserRecord } from './contract.js';
import { CSRF_FIELD } from './auth-plugin.js';
import { PERMISSIONS, PERMISSION_MODELS, type Permission } from './permissions.js';

export { errorResponse, guardedErrors, idParams, pageOf } from '../platform/api-shapes.js';

export const TAGS = ['admin'];

const id = z.number().int();
/** An id a body or query names: a positive 32-bit integer (what both dialects store). */
const idRef = z.number().int().min(1).max(MAX_ID);
const nullableDateTime = dateTime.nullable();
const codename = z.enum(PERMISSIONS.map((p) => p.codename) as [Permission, ...Permission[]]);
const CHANGE_ACTIONS = ['add', 'change', 'delete', 'other'] as const satisfies readonly ChangeAction[];
/** The most groups or permissions one write may name (bounds the SQL it makes). */
const MAX_REFS = 1000;

/** 204 and redirects: no body. */
export const noContent = z.undefined();

// ---- answers ----

export const permissionSchema = z.object({
  codename,
  action: z.enum(PERMISSION_ACTIONS),
  model: z.enum(Object.keys(PERMISSION_MODELS) as [PermissionModel, ...PermissionModel[]]),
  name: z.string(),
}) satisfies z.ZodType<PermissionInfo>;

export const userSchema = z.object({
  id,
  username: z.string(),
  email: z.string(),
  isActive: z.boolean(),
  isStaff: z.boolean(),
  isSuperuser: z.boolean(),
  hasUsablePassword: z.boolean(),
  dateJoined: dateTime,
  lastLogin: nullableDateTime,
  groups: z.array(z.object({ id, name: z.string() })),
  permissions: z.array(codename).describe('Given directly (not through groups)'),
}) satisfies z.ZodType<UserRecord>;

export const groupSchema = z.object({ id, name: z.string(), permissions: z.array(codename), userCount: z.number().int() }) satisfies z.ZodType<GroupRecord>;

export const tokenSchema = z.object({
  id,
  userId: id,
  username: z.string(),
  name: z.string(),
  prefix: z.string(),
  created: dateTime,
  lastUsed: nullableDateTime,
  revoked: nullableDateTime,
}) satisfies z.ZodType<TokenRecord>;

export const createdTokenSchema = tokenSchema
  .extend({ token: z.string() })
  .describe('The new token: `token` is shown this once and cannot be recovered');

export const logEntrySchema = z.object({
  id,
  actionTime: dateTime,
  userId: id.nullable(),
  username: z.string(),
  action: z.enum(CHANGE_ACTIONS),
  objectType: z.string(),
  objectId: z.string().nullable(),
  objectRepr: z.string(),
  changeMessage: z.unknown().describe('Django-style JSON: [{"added":{}}], [{"changed":{"fields":[…]}}], [{"deleted":{}}]'),
}) satisfies z.ZodType<LogEntry>;

export const meSchema = userSchema.pick({ id: true, username: true, email: true, isStaff: true, isSuperuser: true }).extend({
  permissions: z.array(codename).describe('Every permission the user has (direct, through groups, or as superuser)'),
  authenticatedBy: z.enum(['session', 'token']),
});

export const csrfSchema = z.object({ token: z.string(), header: z.string(), field: z.string() });

export const usersPage = pageOf(userSchema, 'A page of users');
export const groupsPage = pageOf(groupSchema, 'A page of groups');
export const tokensPage = pageOf(tokenSchema, 'A page of tokens (never the tokens themselves)');
export const logPage = pageOf(logEntrySchema, 'A page of log entries');

// ---- requests ----

export const logQuery = z.object({
  ...pageQueryShape,
  objectType: z.string().max(50).optional(),
  objectId: z.string().max(100).optional(),
  userId: z.coerce.number().int().min(1).max(MAX_ID).optional(),
  action: z.enum(CHANGE_ACTIONS).optional(),
});

export const userListQuery = z.object({
  ...pageQueryShape,
  search: z.string().max(150).optional(),
  isActive: queryFlag.optional(),
  isStaff: queryFlag.optional(),
  isSuperuser: queryFlag.optional(),
});

export const groupListQuery = z.object({ ...pageQueryShape, search: z.string().max(150).optional() });

export const tokenListQuery = z.object({
  ...pageQueryShape,
  all: queryFlag.optional(),
  userId: z.coerce.number().int().min(1).max(MAX_ID).optional(),
  includeRevoked: queryFlag.default(true),
});

/** The CSRF token, which a form or script may send in the body instead of the header (auth-plugin reads it before validation). */
const csrfField = z.string().max(200).optional().describe('The CSRF token, if not sent in the x-csrf-token header');

/**
 * A write body: a field it does not name is refused (400), except the CSRF token, which is accepted and
 * dropped (the handler sees the declared fields only).
 */
function writeBody<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject({ ...shape, [CSRF_FIELD]: csrfField }).transform((body) => {
    const { [CSRF_FIELD]: _token, ...fields } = body as Record<string, unknown>;
    return fields as z.output<z.ZodObject<Shape>>;
  });
}

const userFields = {
  username: z.string().max(150),
  email: z.string().max(254),
  password: z.string().max(256).describe('At least 10 characters, not like the username, not common, not all digits'),
  currentPassword: z.string().max(256).describe('Needed to change your own password without the change_user permission'),
  isActive: z.boolean(),
  isStaff: z.boolean().describe('May log in to the admin'),
  isSuperuser: z.boolean().describe('Has every permission (only a superuser may set it)'),
  groups: z
    .array(z.union([idRef, z.string().max(150)]))
    .max(MAX_REFS)
    .describe('Groups by id or by name; replaces the user’s groups'),
  permissions: z.array(codename).max(MAX_REFS).describe('Replaces the user’s direct permissions'),
};
const optionalUserFields = z.object(userFields).partial().shape;

export const userCreateBody = writeBody({ ...optionalUserFields, username: userFields.username });
export const userPatchBody = writeBody(optionalUserFields);
export type UserWrite = z.output<typeof userPatchBody>;

const groupFields = { name: z.string().max(150), permissions: z.array(codename).max(MAX_REFS) };
export const groupCreateBody = writeBody({ name: groupFields.name, permissions: groupFields.permissions.optional() });
export const groupPatchBody = writeBody({ name: groupFields.name.optional(), permissions: groupFields.permissions.optional() });

export const tokenCreateBody = writeBody({ name: z.string().max(100), userId: idRef.optional() });
