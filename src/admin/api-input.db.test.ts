// The admin API's input as its zod schemas declare it: malformed, huge, mistyped and unexpected input is
// a 400 in the error contract (never a 500), a caller who may not use a route hears 401/403 before
// anything about their input, and every answer passes its zod schema exactly on both dialects.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { registeredRoutes } from '../platform/http.js';
import {
  createdTokenSchema,
  csrfSchema,
  groupSchema,
  groupsPage,
  logPage,
  meSchema,
  permissionSchema,
  tokenSchema,
  tokensPage,
  userSchema,
  usersPage,
} from './api-schemas.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestClient, type AdminTestServer } from './test-server.js';
import { createToken } from './tokens.js';

const BAD_IDS = ['0', '-1', String(2 ** 31), 'abc', '1e3', '1.5', '0x10', '99999999999999999999'];

/** An answer of the error contract: `{error: {code, message}}` with the given status and code. */
function expectError(res: LightMyRequestResponse, status: number, code: string | RegExp, what = ''): void {
  expect([res.statusCode, what, res.body.slice(0, 300)]).toEqual([status, what, expect.any(String)]);
  const body = res.json() as { error: { code: string; message: string } };
  expect(body.error.code, what).toMatch(code);
  expect(typeof body.error.message, what).toBe('string');
}

/** The body parsed with the route's zod schema as a strict schema: exactly the declared fields, each of its type. */
function expectShape(schema: z.ZodType, res: LightMyRequestResponse, status = 200): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  const parsed = schema.safeParse(res.json());
  expect(parsed.error?.issues ?? []).toEqual([]);
}

describe.each(DIALECTS)('admin API input and answers on %s', (dialect) => {
  let t: TestDatabase;
  let server: AdminTestServer;
  let root: AdminTestClient;
  let rootId: number;
  let staff: AdminTestClient;
  let staffId: number;
  let groupId: number;
  let tokenId: number;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    server = await startAdminTestServer(t.db);
    rootId = (await makeUser(t.db, 'root', { isSuperuser: true })).id;
    root = server.client();
    root.bearer = (await createToken(t.db, rootId, 'intruder tests')).token;
    staffId = (await makeUser(t.db, 'plainstaff')).id;
    staff = server.client();
    expect((await staff.login('plainstaff', TEST_PASSWORD)).statusCode).toBe(303);
    groupId = (await root.call('POST', '/api/v1/admin/groups', { name: 'targets' })).json<{ id: number }>().id;
    tokenId = (await root.call('POST', '/api/v1/admin/tokens', { name: 'target' })).json<{ id: number }>().id;
  });
  afterAll(async () => {
    await server?.close();
    await t?.drop();
  });

  const send = (client: AdminTestClient, method: 'POST' | 'PATCH', url: string, payload: string, contentType = 'application/json') =>
    client.request({ method, url, headers: { 'content-type': contentType }, payload });

  /** Every create and change route with a body: [method, url, a good body]. */
  const writes = (): ['POST' | 'PATCH', string, Record<string, unknown>][] => [
    ['POST', '/api/v1/admin/users', { username: 'someone' }],
    ['PATCH', `/api/v1/admin/users/${staffId}`, { email: 'x@example.com' }],
    ['POST', '/api/v1/admin/groups', { name: 'some group' }],
    ['PATCH', `/api/v1/admin/groups/${groupId}`, { name: 'targets' }],
    ['POST', '/api/v1/admin/tokens', { name: 'some token' }],
  ];

  describe('bodies', () => {
    const malformed: [string, string, string | RegExp][] = [
      ['truncated JSON', '{"name":', 'ctp_invalid_json_body'],
      ['a trailing comma', '{"name":"a",}', 'ctp_invalid_json_body'],
      ['a prototype key', '{"__proto__":{"isSuperuser":true},"name":"a"}', 'ctp_invalid_json_body'],
      ['an empty JSON body', '', /^(invalid_request|fst_err_ctp_empty_json_body|ctp_empty_json_body)$/],
      ['null', 'null', 'invalid_request'],
      ['an array for the object', '[{"name":"a","username":"a"}]', 'invalid_request'],
      ['a string for the object', '"name"', 'invalid_request'],
      ['a number for the object', '1e400', 'invalid_request'],
      ['arrays 5,000 deep', `{"name":${'['.repeat(5000)}1${']'.repeat(5000)}}`, 'json_too_deep'],
    ];

    it.each(malformed)('%s → 400 in the contract on every write', async (what, payload, code) => {
      for (const [method, url] of writes()) expectError(await send(root, method, url, payload), 400, code, `${what}: ${method} ${url}`);
    });

    it('refuses a field the route does not name, and says which', async () => {
      for (const [method, url, good] of writes()) {
        const res = await send(root, method, url, JSON.stringify({ ...good, isAdmin: true }));
        expectError(res, 400, 'invalid_request', `${method} ${url}`);
        expect(res.json<{ error: { message: string } }>().error.message).toMatch(/^body: .*isAdmin/);
      }
      // Not even a field of the answer (the id, the dates) is taken back.
      expectError(await root.call('PATCH', `/api/v1/admin/users/${staffId}`, { id: rootId }), 400, 'invalid_request');
      expectError(await root.call('PATCH', `/api/v1/admin/users/${staffId}`, { dateJoined: '2000-01-01T00:00:00Z' }), 400, 'invalid_request');
    });

    it.each([
      ['users', 'POST', '/api/v1/admin/users', [{ username: 1 }, { username: 'a', isStaff: 'true' }, { username: 'a', isActive: 1 }, { username: 'a', isSuperuser: null }, { username: 'a', groups: 'ops' }, { username: 'a', groups: [1.5] }, { username: 'a', groups: [0] }, { username: 'a', groups: [2 ** 31] }, { username: 'a', groups: [{ id: 1 }] }, { username: 'a', permissions: 'view_user' }, { username: 'a', permissions: ['fly_plane'] }, { username: 'a', password: 12345678901 }, {}]],
      ['users', 'PATCH', '/api/v1/admin/users/:staff', [{ email: null }, { isActive: 'false' }, { groups: [true] }, { permissions: [1] }, { currentPassword: ['x'] }, { password: { value: 'x' } }]],
      ['groups', 'POST', '/api/v1/admin/groups', [{}, { name: 5 }, { name: ['a'] }, { name: 'a', permissions: 'view_user' }, { name: 'a', permissions: ['nope'] }, { name: 'a', permissions: [null] }]],
      ['groups', 'PATCH', '/api/v1/admin/groups/:group', [{ name: null }, { name: 1 }, { permissions: {} }]],
      ['tokens', 'POST', '/api/v1/admin/tokens', [{}, { name: 1 }, { name: 'a', userId: '1' }, { name: 'a', userId: 1.5 }, { name: 'a', userId: 0 }, { name: 'a', userId: -1 }, { name: 'a', userId: 2 ** 31 }, { name: 'a', userId: 1e20 }]],
    ] as const)('wrong types and missing fields on %s %s → 400 invalid_request', async (_feature, method, path, bodies) => {
      const url = path.replace(':staff', String(staffId)).replace(':group', String(groupId));
      for (const body of bodies) expectError(await send(root, method, url, JSON.stringify(body)), 400, 'invalid_request', JSON.stringify(body));
    });

    it('refuses fields longer than the columns, and lists longer than a write may name, with a 400', async () => {
      const long = (n: number) => 'x'.repeat(n);
      const cases: [string, string, unknown][] = [
        ['POST', '/api/v1/admin/users', { username: long(151) }],
        ['POST', '/api/v1/admin/users', { username: 'a', email: `${long(250)}@x.io` }],
        ['POST', '/api/v1/admin/users', { username: 'a', password: long(500_000) }],
        ['POST', '/api/v1/admin/users', { username: 'a', groups: Array.from({ length: 5000 }, (_, i) => i + 1) }],
        ['POST', '/api/v1/admin/users', { username: 'a', groups: [long(151)] }],
        ['POST', '/api/v1/admin/users', { username: 'a', permissions: Array(5000).fill('view_user') }],
        ['POST', '/api/v1/admin/groups', { name: long(151) }],
        ['POST', '/api/v1/admin/tokens', { name: long(101) }],
        ['POST', '/api/v1/admin/tokens', { name: 'a', _csrf: long(201) }],
      ];
      for (const [method, url, body] of cases) expectError(await send(root, method as 'POST', url, JSON.stringify(body)), 400, 'invalid_request', `${url} ${JSON.stringify(body).slice(0, 80)}`);
    });

    it('answers a body over the size limit with 413 in the contract', async () => {
      expectError(await send(root, 'POST', '/api/v1/admin/users', JSON.stringify({ username: 'a', password: 'x'.repeat(2 * 1024 * 1024) })), 413, 'too_large');
    });

    it('takes the CSRF token from the body (JSON or form) and keeps it out of the change', async () => {
      const json = await staff.request({ method: 'POST', url: '/api/v1/admin/tokens', payload: { name: 'by json', _csrf: await staff.csrf() } });
      expectShape(createdTokenSchema.strict(), json, 201);
      const form = await staff.request({
        method: 'PATCH',
        url: `/api/v1/admin/users/${staffId}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email: 'self@example.com', currentPassword: TEST_PASSWORD, _csrf: await staff.csrf() }).toString(),
      });
      // Self-service (password and email only): the token is not counted as a field being changed.
      expectShape(userSchema.strict(), form);
      expect(form.json()).toMatchObject({ email: 'self@example.com' });
    });
  });

  describe('ids and queries', () => {
    it.each(BAD_IDS)('id %s → 400 invalid_request on every route with an id', async (id) => {
      const calls: [('GET' | 'PATCH' | 'DELETE'), string, unknown][] = [
        ['GET', `/api/v1/admin/users/${id}`, undefined],
        ['PATCH', `/api/v1/admin/users/${id}`, { email: 'a@example.com' }],
        ['DELETE', `/api/v1/admin/users/${id}`, undefined],
        ['GET', `/api/v1/admin/groups/${id}`, undefined],
        ['PATCH', `/api/v1/admin/groups/${id}`, { name: 'x' }],
        ['DELETE', `/api/v1/admin/groups/${id}`, undefined],
        ['DELETE', `/api/v1/admin/tokens/${id}`, undefined],
      ];
      for (const [method, url, body] of calls) {
        const res = await root.call(method, url, body);
        expectError(res, 400, 'invalid_request', `${method} ${url}`);
        expect(res.json<{ error: { message: string } }>().error.message, url).toMatch(/^params: /);
      }
    });

    it('answers a good id that names nothing with 404', async () => {
      expectError(await root.call('GET', '/api/v1/admin/users/2147483647'), 404, 'user_not_found');
      expectError(await root.call('GET', '/api/v1/admin/groups/2147483647'), 404, 'group_not_found');
      expectError(await root.call('DELETE', '/api/v1/admin/tokens/2147483647'), 404, 'token_not_found');
    });

    it.each([
      '/api/v1/admin/users?isActive=yes',
      '/api/v1/admin/users?isStaff=1',
      '/api/v1/admin/users?search=' + 'x'.repeat(151),
      '/api/v1/admin/users?search=a&search=b',
      '/api/v1/admin/groups?page=0',
      '/api/v1/admin/tokens?userId=abc',
      '/api/v1/admin/tokens?userId=2147483648',
      '/api/v1/admin/tokens?includeRevoked=maybe',
      '/api/v1/admin/log?action=steal',
      '/api/v1/admin/log?userId=-1',
      '/api/v1/admin/log?objectType=' + 'x'.repeat(51),
    ])('%s → 400 invalid_request', async (url) => {
      const res = await root.call('GET', url);
      expectError(res, 400, 'invalid_request', url);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/^querystring: /);
    });

    it('reads query flags as true and false', async () => {
      const inactive = await makeUser(t.db, 'sleepy', { isActive: false });
      const off = (await root.call('GET', '/api/v1/admin/users?isActive=false')).json<{ items: { id: number }[] }>();
      expect(off.items.map((u) => u.id)).toEqual([inactive.id]);
      const on = (await root.call('GET', '/api/v1/admin/users?isActive=true&isSuperuser=true')).json<{ items: { id: number }[] }>();
      expect(on.items.map((u) => u.id)).toEqual([rootId]);
      await root.call('DELETE', `/api/v1/admin/tokens/${tokenId}`);
      const live = (await root.call('GET', '/api/v1/admin/tokens?includeRevoked=false')).json<{ items: { id: number }[] }>();
      const all = (await root.call('GET', '/api/v1/admin/tokens')).json<{ items: { id: number }[] }>();
      expect(live.items.map((i) => i.id)).not.toContain(tokenId);
      expect(all.items.map((i) => i.id)).toContain(tokenId);
    });
  });

  describe('who may ask comes first', () => {
    it('answers an anonymous caller 401 whatever the input, saying nothing about it', async () => {
      const anonymous = server.client();
      const bad = '{"username":1,"name":[],"extra":true}';
      const calls: [string, string, string | undefined][] = [
        ['POST', '/api/v1/admin/users', bad],
        ['PATCH', '/api/v1/admin/users/abc', bad],
        ['GET', '/api/v1/admin/users/0', undefined],
        ['DELETE', '/api/v1/admin/users/1e3', undefined],
        ['GET', '/api/v1/admin/users?isActive=perhaps', undefined],
        ['POST', '/api/v1/admin/groups', bad],
        ['PATCH', '/api/v1/admin/groups/-1', bad],
        ['GET', '/api/v1/admin/groups?page=-5', undefined],
        ['POST', '/api/v1/admin/tokens', bad],
        ['DELETE', '/api/v1/admin/tokens/abc', undefined],
        ['GET', '/api/v1/admin/tokens?userId=x', undefined],
        ['GET', '/api/v1/admin/log?action=x', undefined],
      ];
      for (const [method, url, payload] of calls) {
        const res = await anonymous.request({ method: method as 'GET', url, ...(payload ? { headers: { 'content-type': 'application/json' }, payload } : {}) });
        expect(res.json(), `${method} ${url}`).toEqual({ error: { code: 'not_authenticated', message: expect.any(String) } });
        expect(res.statusCode).toBe(401);
      }
    });

    it('answers a staff user without the permission 403 before looking at the body', async () => {
      for (const [method, url] of [['POST', '/api/v1/admin/users'], ['POST', '/api/v1/admin/groups'], ['PATCH', `/api/v1/admin/groups/${groupId}`]] as const) {
        const res = await staff.call(method, url, { nonsense: [1, 2, 3] });
        expectError(res, 403, 'permission_denied', `${method} ${url}`);
      }
      expectError(await staff.call('DELETE', '/api/v1/admin/users/abc'), 403, 'permission_denied');
      expectError(await staff.call('GET', '/api/v1/admin/groups/0'), 403, 'permission_denied');
      // Without a CSRF token, a session's write is refused before its body is read.
      expectError(await staff.request({ method: 'POST', url: '/api/v1/admin/tokens', payload: { name: 7 } }), 403, 'csrf_failed');
    });
  });

  describe('answers', () => {
    it('match their zod schemas exactly: users with groups and permissions, groups, tokens, the log, me', async () => {
      const group = await root.call('POST', '/api/v1/admin/groups', { name: 'shape group', permissions: ['view_user', 'view_group'] });
      expectShape(groupSchema.strict(), group, 201);
      const gid = group.json<{ id: number }>().id;
      expectShape(groupSchema.strict(), await root.call('PATCH', `/api/v1/admin/groups/${gid}`, { permissions: ['view_user'] }));
      expectShape(groupSchema.strict(), await root.call('GET', `/api/v1/admin/groups/${gid}`));

      const created = await root.call('POST', '/api/v1/admin/users', {
        username: 'shaped',
        email: 'shaped@example.com',
        password: TEST_PASSWORD,
        isStaff: true,
        groups: [gid, 'targets'],
        permissions: ['view_token', 'add_token'],
      });
      expectShape(userSchema.strict(), created, 201);
      const user = created.json<{ id: number; groups: unknown[]; permissions: string[]; lastLogin: string | null; dateJoined: string }>();
      expect(user.groups).toHaveLength(2);
      expect(user.permissions).toEqual(['add_token', 'view_token']);
      expect(user.lastLogin).toBeNull();
      expect(new Date(user.dateJoined).toISOString()).toBe(user.dateJoined);

      // Logged in once: lastLogin is an instant too.
      const shaped = server.client();
      expect((await shaped.login('shaped', TEST_PASSWORD)).statusCode).toBe(303);
      const read = await root.call('GET', `/api/v1/admin/users/${user.id}`);
      expectShape(userSchema.strict(), read);
      expect(read.json<{ lastLogin: string }>().lastLogin).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expectShape(userSchema.strict(), await root.call('PATCH', `/api/v1/admin/users/${user.id}`, { groups: ['targets'], permissions: [], isActive: true }));
      expectShape(usersPage, await root.call('GET', '/api/v1/admin/users?search=shaped'));
      const page = (await root.call('GET', '/api/v1/admin/users')).json<{ items: unknown[]; total: number }>();
      expect(page.items.length).toBe(page.total);
      for (const item of page.items) expect(userSchema.strict().safeParse(item).error?.issues ?? []).toEqual([]);

      // A token: created (with the token once), used (lastUsed), listed, revoked (revoked).
      const token = await shaped.call('POST', '/api/v1/admin/tokens', { name: 'shape token' });
      expectShape(createdTokenSchema.strict(), token, 201);
      const bot = server.client();
      bot.bearer = token.json<{ token: string }>().token;
      expectShape(meSchema.strict(), await bot.request({ method: 'GET', url: '/api/v1/admin/me' }));
      const listed = await shaped.call('GET', '/api/v1/admin/tokens');
      expectShape(tokensPage, listed);
      expect(listed.json<{ items: { lastUsed: string | null }[] }>().items[0]!.lastUsed).not.toBeNull();
      for (const item of listed.json<{ items: unknown[] }>().items) expect(tokenSchema.strict().safeParse(item).error?.issues ?? []).toEqual([]);
      const revoked = await shaped.call('DELETE', `/api/v1/admin/tokens/${token.json<{ id: number }>().id}`);
      expectShape(tokenSchema.strict(), revoked);
      expect(revoked.json<{ revoked: string | null }>().revoked).not.toBeNull();

      expectShape(groupsPage, await root.call('GET', '/api/v1/admin/groups'));
      expectShape(logPage, await root.call('GET', '/api/v1/admin/log?pageSize=200'));
      expectShape(meSchema.strict(), await shaped.call('GET', '/api/v1/admin/me'));
      expectShape(csrfSchema.strict(), await shaped.call('GET', '/api/v1/admin/csrf'));
      const permissions = await shaped.call('GET', '/api/v1/admin/permissions');
      expect(permissions.statusCode).toBe(200);
      for (const p of permissions.json<unknown[]>()) expect(permissionSchema.strict().safeParse(p).error?.issues ?? []).toEqual([]);

      expect((await root.call('DELETE', `/api/v1/admin/users/${user.id}`)).statusCode).toBe(204);
      expect((await root.call('DELETE', `/api/v1/admin/groups/${gid}`)).statusCode).toBe(204);
    });

    it('documents every route the admin registers in /docs/json', async () => {
      const spec = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
      const routes = registeredRoutes(server.app).filter((r) => !r.schema?.hide && r.method !== 'HEAD' && (r.url.startsWith('/api/v1/admin/') || r.url.startsWith('/admin/')));
      expect(routes.length).toBeGreaterThan(15);
      for (const route of routes) {
        const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
        expect(spec.paths[path], `${route.method} ${path}`).toHaveProperty([route.method.toLowerCase()]);
      }
      const patchUser = spec.paths['/api/v1/admin/users/{id}']!.patch as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties?: boolean } }> } };
      const body = patchUser.requestBody.content['application/json']!.schema;
      expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['username', 'email', 'password', 'currentPassword', 'groups', 'permissions']));
      expect(body.additionalProperties).toBe(false);
    });
  });
});
