// JSON schemas of the admin auth API (validation, and the documentation at /docs).
import { dateTime, nullableDateTime } from '../platform/json-api.js';
import { PERMISSIONS } from './permissions.js';

export { errors, idParams, pageOf, pageQueryProps } from '../platform/json-api.js';

export const TAGS = ['admin'];

const codename = { type: 'string', enum: PERMISSIONS.map((p) => p.codename) } as const;
export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    email: { type: 'string' },
    isActive: { type: 'boolean' },
    isStaff: { type: 'boolean' },
    isSuperuser: { type: 'boolean' },
    hasUsablePassword: { type: 'boolean' },
    dateJoined: dateTime,
    lastLogin: nullableDateTime,
    groups: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
    permissions: { type: 'array', items: { type: 'string' }, description: 'Given directly (not through groups)' },
  },
} as const;

const groupRefs = {
  type: 'array',
  items: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
  description: 'Groups by id or by name; replaces the user’s groups',
} as const;

export const userWriteSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    username: { type: 'string', maxLength: 150 },
    email: { type: 'string', maxLength: 254 },
    password: { type: 'string', maxLength: 256, description: 'At least 10 characters, not like the username, not common, not all digits' },
    currentPassword: { type: 'string', maxLength: 256, description: 'Needed to change your own password without the change_user permission' },
    isActive: { type: 'boolean' },
    isStaff: { type: 'boolean', description: 'May log in to the admin' },
    isSuperuser: { type: 'boolean', description: 'Has every permission (only a superuser may set it)' },
    groups: groupRefs,
    permissions: { type: 'array', items: codename, description: 'Replaces the user’s direct permissions' },
  },
} as const;

export const groupSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } }, userCount: { type: 'integer' } },
} as const;

export const groupWriteSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 150 }, permissions: { type: 'array', items: codename } },
} as const;

export const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    userId: { type: 'integer' },
    username: { type: 'string' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    created: dateTime,
    lastUsed: nullableDateTime,
    revoked: nullableDateTime,
  },
} as const;

export const createdTokenSchema = {
  type: 'object',
  description: 'The new token: `token` is shown this once and cannot be recovered',
  properties: { ...tokenSchema.properties, token: { type: 'string' } },
} as const;

export const logEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    actionTime: dateTime,
    userId: { type: ['integer', 'null'] },
    username: { type: 'string' },
    action: { type: 'string', enum: ['add', 'change', 'delete', 'other'] },
    objectType: { type: 'string' },
    objectId: { type: ['string', 'null'] },
    objectRepr: { type: 'string' },
    changeMessage: { description: 'Django-style JSON: [{"added":{}}], [{"changed":{"fields":[…]}}], [{"deleted":{}}]' },
  },
} as const;

export const meSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    email: { type: 'string' },
    isStaff: { type: 'boolean' },
    isSuperuser: { type: 'boolean' },
    permissions: { type: 'array', items: { type: 'string' }, description: 'Every permission the user has (direct, through groups, or as superuser)' },
    authenticatedBy: { type: 'string', enum: ['session', 'token'] },
  },
} as const;
