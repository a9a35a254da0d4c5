import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { createGroup } from './groups.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestClient, type AdminTestServer } from './test-server.js';
import { createToken } from './tokens.js';

describe.each(DIALECTS)('admin API: permissions, tokens, users, groups, audit on %s', (dialect) => {
  let t: TestDatabase;
  let server: AdminTestServer;
  let root: AdminTestClient;
  let rootId: number;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    server = await startAdminTestServer(t.db);
    rootId = (await makeUser(t.db, 'root', { isSuperuser: true })).id;
    root = server.client();
    expect((await root.login('root', TEST_PASSWORD)).statusCode).toBe(303);
  });
  afterAll(async () => {
    await server?.close();
    await t?.drop();
  });

  async function loggedIn(username: string): Promise<AdminTestClient> {
    const client = server.client();
    expect((await client.login(username, TEST_PASSWORD)).statusCode).toBe(303);
    return client;
  }

  async function lastLog(objectType: string) {
    const page = (await root.call('GET', `/api/v1/admin/log?objectType=${objectType}&pageSize=1`)).json<{ items: Record<string, unknown>[] }>();
    return page.items[0];
  }

  it('answers 403 permission_denied to a staff user without the permission, and lets a group grant it', async () => {
    const staff = await makeUser(t.db, 'staffer');
    const client = await loggedIn('staffer');
    const denied = await client.call('GET', '/api/v1/admin/users');
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ error: { code: 'permission_denied', message: 'You do not have the "view_user" permission.' } });
    expect((await client.call('POST', '/api/v1/admin/groups', { name: 'nope' })).statusCode).toBe(403);
    expect((await client.call('GET', `/api/v1/admin/users/${staff.id}`)).statusCode).toBe(200); // yourself

    const viewers = (await root.call('POST', '/api/v1/admin/groups', { name: 'viewers', permissions: ['view_user', 'view_group'] })).json<{ id: number }>();
    expect((await root.call('PATCH', `/api/v1/admin/users/${staff.id}`, { groups: [viewers.id] })).statusCode).toBe(200);
    const list = await client.call('GET', '/api/v1/admin/users?search=STAFF');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ total: 1, page: 1, pageSize: 50, items: [{ username: 'staffer', groups: [{ name: 'viewers' }], permissions: [] }] });
    const me = (await client.call('GET', '/api/v1/admin/me')).json<{ permissions: string[] }>();
    expect(me.permissions).toEqual(['view_user', 'view_group']);
    expect((await client.call('DELETE', `/api/v1/admin/users/${rootId}`)).statusCode).toBe(403);
  });

  it('accepts a bearer token without CSRF, and 401s a revoked, unknown or malformed one', async () => {
    const user = await makeUser(t.db, 'scripter', { permissions: ['add_group', 'view_group'] });
    const { token, record } = await createToken(t.db, user.id, 'ci');
    const bot = server.client();
    bot.bearer = token;
    const created = await bot.request({ method: 'POST', url: '/api/v1/admin/groups', payload: { name: 'made by a script' } });
    expect(created.statusCode).toBe(201);
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).json()).toMatchObject({ username: 'scripter', authenticatedBy: 'token' });
    expect(await lastLog('group')).toMatchObject({ username: 'scripter', action: 'add', objectRepr: 'made by a script', changeMessage: [{ added: {} }] });

    const revoked = await root.call('DELETE', `/api/v1/admin/tokens/${record.id}`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<{ revoked: string | null }>().revoked).not.toBeNull();
    const after = await bot.request({ method: 'GET', url: '/api/v1/admin/me' });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: { code: 'invalid_token' } });
    bot.bearer = `seler_${'A'.repeat(43)}`;
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
    bot.bearer = undefined;
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me', headers: { authorization: 'Bearer' } })).statusCode).toBe(401);
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me', headers: { authorization: 'Basic abc' } })).json()).toMatchObject({ error: { code: 'not_authenticated' } });
    // Basic credentials a proxy adds do not hide the session.
    expect((await root.request({ method: 'GET', url: '/api/v1/admin/me', headers: { authorization: 'Basic abc' } })).statusCode).toBe(200);
    // A token stops working when its user is deactivated, and a non-staff user's token gets 403.
    const second = await createToken(t.db, user.id, 'second');
    const visitor = await makeUser(t.db, 'tokenvisitor', { isStaff: false });
    const visitorToken = await createToken(t.db, visitor.id, 'x');
    await root.call('PATCH', `/api/v1/admin/users/${user.id}`, { isActive: false });
    bot.bearer = second.token;
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
    bot.bearer = visitorToken.token;
    expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(403);
  });

  it('manages tokens: your own freely, other people’s by permission; the token is shown once', async () => {
    const user = await makeUser(t.db, 'tokenuser');
    const client = await loggedIn('tokenuser');
    const created = await client.call('POST', '/api/v1/admin/tokens', { name: 'laptop' });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: number; token: string; prefix: string }>();
    expect(body.token).toMatch(/^seler_[A-Za-z0-9_-]{43}$/);
    expect(body.prefix).toBe(`${body.token.slice(0, 12)}…`);
    const mine = (await client.call('GET', '/api/v1/admin/tokens')).json<{ items: Record<string, unknown>[] }>();
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).not.toHaveProperty('token');
    expect(JSON.stringify(await t.db.db.selectFrom('auth_token').selectAll().execute())).not.toContain(body.token);
    expect(await lastLog('token')).toMatchObject({ username: 'tokenuser', action: 'add', objectRepr: `laptop (${body.prefix}) for tokenuser` });

    expect((await client.call('GET', '/api/v1/admin/tokens?all=true')).statusCode).toBe(403);
    expect((await client.call('POST', '/api/v1/admin/tokens', { name: 'for root', userId: rootId })).statusCode).toBe(403);
    const rootToken = (await root.call('POST', '/api/v1/admin/tokens', { name: 'for them', userId: user.id })).json<{ id: number; username: string }>();
    expect(rootToken.username).toBe('tokenuser');
    const all = (await root.call('GET', '/api/v1/admin/tokens?all=true')).json<{ total: number }>();
    expect(all.total).toBeGreaterThanOrEqual(2);
    const ownRoot = (await root.call('POST', '/api/v1/admin/tokens', { name: 'root own' })).json<{ id: number }>();
    expect((await client.call('DELETE', `/api/v1/admin/tokens/${ownRoot.id}`)).statusCode).toBe(404);
    expect((await client.call('DELETE', `/api/v1/admin/tokens/${body.id}`)).statusCode).toBe(200);
    expect(await lastLog('token')).toMatchObject({ action: 'change', changeMessage: [{ changed: { fields: ['revoked'] } }] });
  });

  it('creates, changes and deletes users with the audit log, and ends sessions on a new password', async () => {
    const created = await root.call('POST', '/api/v1/admin/users', { username: 'bob', email: 'bob@example.com', password: TEST_PASSWORD, isStaff: true, permissions: ['view_periodictask'] });
    expect(created.statusCode).toBe(201);
    const bob = created.json<{ id: number; hasUsablePassword: boolean }>();
    expect(bob).toMatchObject({ username: 'bob', isStaff: true, isSuperuser: false, hasUsablePassword: true, permissions: ['view_periodictask'] });
    expect(await lastLog('user')).toMatchObject({ username: 'root', userId: rootId, action: 'add', objectId: String(bob.id), objectRepr: 'bob' });

    const bad = await root.call('POST', '/api/v1/admin/users', { username: 'Bob', password: 'short' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_user', fields: { username: 'A user named "Bob" already exists.', password: expect.stringContaining('at least 10') } } });
    expect((await root.call('POST', '/api/v1/admin/users', { username: 'x', permissions: ['fly_plane'] })).statusCode).toBe(400);

    const bobClient = await loggedIn('bob');
    const changed = await root.call('PATCH', `/api/v1/admin/users/${bob.id}`, { password: 'a brand new passphrase', email: 'b@example.org' });
    expect(changed.statusCode).toBe(200);
    expect(await lastLog('user')).toMatchObject({ action: 'change', changeMessage: [{ changed: { fields: ['email', 'password'] } }] });
    expect((await bobClient.call('GET', '/api/v1/admin/me')).statusCode).toBe(401);
    expect((await server.client().login('bob', 'a brand new passphrase')).statusCode).toBe(303);

    expect((await root.call('DELETE', `/api/v1/admin/users/${rootId}`)).json()).toMatchObject({ error: { code: 'invalid_user' } });
    expect((await root.call('DELETE', `/api/v1/admin/users/${bob.id}`)).statusCode).toBe(204);
    expect(await lastLog('user')).toMatchObject({ action: 'delete', objectRepr: 'bob', changeMessage: [{ deleted: {} }] });
    expect((await root.call('GET', `/api/v1/admin/users/${bob.id}`)).statusCode).toBe(404);
  });

  it('lets you change your own password with the current one, and keeps your session', async () => {
    const me = await makeUser(t.db, 'selfservice');
    const client = await loggedIn('selfservice');
    const wrong = await client.call('PATCH', `/api/v1/admin/users/${me.id}`, { password: 'another good passphrase', currentPassword: 'not it at all' });
    expect(wrong.json()).toMatchObject({ error: { code: 'invalid_user', fields: { currentPassword: expect.any(String) } } });
    expect((await client.call('PATCH', `/api/v1/admin/users/${me.id}`, { isStaff: true, currentPassword: TEST_PASSWORD })).statusCode).toBe(403);
    const ok = await client.call('PATCH', `/api/v1/admin/users/${me.id}`, { password: 'another good passphrase', currentPassword: TEST_PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect((await client.call('GET', '/api/v1/admin/me')).statusCode).toBe(200);
  });

  it('never lets a non-superuser grant more than they hold', async () => {
    const manager = await makeUser(t.db, 'manager', { permissions: ['view_user', 'add_user', 'change_user', 'add_group', 'change_group'] });
    const client = await loggedIn('manager');
    const target = await makeUser(t.db, 'target');
    const admins = await createGroup(t.db, { name: 'admins', permissions: ['delete_user'] });
    const cases: [string, unknown][] = [
      [`/api/v1/admin/users/${manager.id}`, { isSuperuser: true }],
      [`/api/v1/admin/users/${target.id}`, { permissions: ['delete_user'] }],
      [`/api/v1/admin/users/${target.id}`, { groups: ['admins'] }],
      [`/api/v1/admin/users/${rootId}`, { password: 'i own root now!!' }],
      [`/api/v1/admin/groups/${admins.id}`, { permissions: ['delete_user', 'delete_group'] }],
    ];
    for (const [url, body] of cases) {
      const res = await client.call('PATCH', url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'permission_denied' } });
    }
    expect((await client.call('POST', '/api/v1/admin/users', { username: 'sneaky', isSuperuser: true })).statusCode).toBe(403);
    expect((await client.call('PATCH', `/api/v1/admin/users/${target.id}`, { permissions: ['view_user'], isActive: false })).statusCode).toBe(200);
  });

  it('creates, renames and deletes groups with the audit log', async () => {
    const group = (await root.call('POST', '/api/v1/admin/groups', { name: 'operators', permissions: ['view_periodictask', 'change_periodictask'] })).json<{ id: number }>();
    expect(await lastLog('group')).toMatchObject({ action: 'add', objectRepr: 'operators' });
    expect((await root.call('POST', '/api/v1/admin/groups', { name: 'operators' })).json()).toMatchObject({ error: { code: 'invalid_group', fields: { name: expect.any(String) } } });
    const renamed = await root.call('PATCH', `/api/v1/admin/groups/${group.id}`, { name: 'ops' });
    expect(renamed.json()).toMatchObject({ name: 'ops', permissions: ['change_periodictask', 'view_periodictask'], userCount: 0 });
    expect(await lastLog('group')).toMatchObject({ action: 'change', objectRepr: 'ops', changeMessage: [{ changed: { fields: ['name'] } }] });
    expect((await root.call('PATCH', `/api/v1/admin/groups/${group.id}`, { permissions: ['nope'] })).statusCode).toBe(400);
    expect((await root.call('DELETE', `/api/v1/admin/groups/${group.id}`)).statusCode).toBe(204);
    expect(await lastLog('group')).toMatchObject({ action: 'delete', objectRepr: 'ops' });
    expect((await root.call('GET', `/api/v1/admin/groups/${group.id}`)).statusCode).toBe(404);
  });

  it('shows the whole log with view_logentry and only your own entries without it', async () => {
    await makeUser(t.db, 'auditor');
    const client = await loggedIn('auditor');
    await client.call('POST', '/api/v1/admin/tokens', { name: 'mine' });
    const own = (await client.call('GET', '/api/v1/admin/log')).json<{ items: { username: string }[] }>();
    expect(own.items.length).toBe(1);
    expect(own.items.every((e) => e.username === 'auditor')).toBe(true);
    const all = (await root.call('GET', '/api/v1/admin/log?pageSize=2&page=2')).json<{ items: unknown[]; total: number; page: number }>();
    expect(all).toMatchObject({ page: 2, pageSize: 2 });
    expect(all.total).toBeGreaterThan(5);
    expect((await root.call('GET', '/api/v1/admin/log?pageSize=500')).statusCode).toBe(400);
  });

  it('documents the routes in the OpenAPI description', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    for (const path of ['/api/v1/admin/users', '/api/v1/admin/users/{id}', '/api/v1/admin/groups', '/api/v1/admin/tokens', '/api/v1/admin/log', '/api/v1/admin/me', '/api/v1/admin/csrf', '/admin/login'])
      expect(spec.paths, path).toHaveProperty([path]);
  });
  it('revokes every API token of a user whose password changes, who is deactivated or loses staff (and reactivating does not revive them)', async () => {
    const check = async (token: string) => {
      const bot = server.client();
      bot.bearer = token;
      return (await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode;
    };
    for (const [name, change, undo] of [
      ['pw', { password: 'a completely new passphrase' }, undefined],
      ['off', { isActive: false }, { isActive: true }],
      ['unstaff', { isStaff: false }, { isStaff: true }],
    ] as const) {
      const owner = await makeUser(t.db, `tokenowner-${name}`);
      const a = await createToken(t.db, owner.id, 'a');
      const b = await createToken(t.db, owner.id, 'b');
      expect(await check(a.token)).toBe(200);
      expect((await root.call('PATCH', `/api/v1/admin/users/${owner.id}`, change)).statusCode).toBe(200);
      if (undo) expect((await root.call('PATCH', `/api/v1/admin/users/${owner.id}`, undo)).statusCode).toBe(200);
      expect(await check(a.token), name).toBe(401);
      expect(await check(b.token), name).toBe(401);
      const listed = (await root.call('GET', `/api/v1/admin/tokens?userId=${owner.id}`)).json<{ items: { revoked: string | null }[] }>();
      expect(listed.items.every((i) => i.revoked !== null)).toBe(true);
    }
    // The owner changing their own password (self-service) revokes their tokens too, but keeps the session doing it.
    const self = await makeUser(t.db, 'tokenself');
    const own = await createToken(t.db, self.id, 'own');
    const client = await loggedIn('tokenself');
    expect((await client.call('PATCH', `/api/v1/admin/users/${self.id}`, { password: 'my next long passphrase', currentPassword: TEST_PASSWORD })).statusCode).toBe(200);
    expect(await check(own.token)).toBe(401);
    expect((await client.call('GET', '/api/v1/admin/me')).statusCode).toBe(200);
  });
});
