// An intruder holding change_user (and the other user/group/token permissions, but not everything)
// tries every way up: changing a superuser, a user with more permissions (direct or through a
// group, active or not), granting themselves more, and editing groups that grant more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { createGroup } from './groups.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestClient, type AdminTestServer } from './test-server.js';
import { createToken } from './tokens.js';

const MANAGER_PERMS = ['view_user', 'add_user', 'change_user', 'delete_user', 'view_token', 'delete_token', 'view_group', 'change_group', 'delete_group'];

describe.each(DIALECTS)('no privilege escalation through the admin API on %s', (dialect) => {
  let t: TestDatabase;
  let server: AdminTestServer;
  let manager: AdminTestClient;
  let ids: Record<string, number>;
  let opsGroup: number;
  let tokens: Record<string, { token: string; id: number }>;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    server = await startAdminTestServer(t.db);
    opsGroup = (await createGroup(t.db, { name: 'ops', permissions: ['delete_periodictask'] })).id;
    const mine = await createGroup(t.db, { name: 'mine', permissions: ['view_user'] });
    ids = {
      root: (await makeUser(t.db, 'root', { isSuperuser: true })).id,
      boss: (await makeUser(t.db, 'boss', { permissions: [...MANAGER_PERMS, 'change_periodictask'] })).id,
      grouped: (await makeUser(t.db, 'grouped', { groups: [opsGroup] })).id,
      sleeper: (await makeUser(t.db, 'sleeper', { isActive: false, permissions: ['change_periodictask'] })).id,
      peer: (await makeUser(t.db, 'peer', { permissions: ['view_user'], groups: [mine.id] })).id,
      manager: (await makeUser(t.db, 'manager', { permissions: MANAGER_PERMS })).id,
    };
    tokens = {};
    for (const name of ['root', 'boss', 'grouped']) {
      const { token, record } = await createToken(t.db, ids[name]!, 'ci');
      tokens[name] = { token, id: record.id };
    }
    manager = server.client();
    expect((await manager.login('manager', TEST_PASSWORD)).statusCode).toBe(303);
  });
  afterAll(async () => {
    await server?.close();
    await t?.drop();
  });

  const attacks = (id: number): [string, 'PATCH' | 'DELETE', unknown][] => [
    ['password', 'PATCH', { password: 'an attacker chose this one' }],
    ['email', 'PATCH', { email: 'attacker@example.com' }],
    ['deactivate', 'PATCH', { isActive: false }],
    ['activate', 'PATCH', { isActive: true }],
    ['staff', 'PATCH', { isStaff: false }],
    ['superuser', 'PATCH', { isSuperuser: false }],
    ['groups', 'PATCH', { groups: [] }],
    ['permissions', 'PATCH', { permissions: [] }],
    ['username', 'PATCH', { username: `renamed${id}` }],
    ['delete', 'DELETE', undefined],
  ];

  for (const target of ['root', 'boss', 'grouped', 'sleeper']) {
    it(`cannot change or delete ${target} (who holds more) in any way`, async () => {
      const id = ids[target]!;
      const row = () => t.db.db.selectFrom('auth_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const original = await row();
      for (const [what, method, body] of attacks(id)) {
        const res = await manager.call(method, `/api/v1/admin/users/${id}`, body);
        expect(res.statusCode, `${what} on ${target}`).toBe(403);
        expect(res.json()).toMatchObject({ error: { code: 'permission_denied' } });
      }
      expect(await row()).toEqual(original);
      if (tokens[target]) {
        const revoke = await manager.call('DELETE', `/api/v1/admin/tokens/${tokens[target].id}`);
        expect(revoke.statusCode, `revoke ${target}'s token`).toBe(403);
        const bot = server.client();
        bot.bearer = tokens[target].token;
        expect((await bot.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(200);
      }
      // And cannot make tokens as them.
      expect((await manager.call('POST', '/api/v1/admin/tokens', { name: 'mine now', userId: id })).statusCode).toBe(403);
    });
  }

  it('still logs in as the superuser with the original password (the password change really did not happen)', async () => {
    expect((await server.client().login('root', TEST_PASSWORD)).statusCode).toBe(303);
    expect((await server.client().login('root', 'an attacker chose this one')).statusCode).toBe(401);
  });

  it('may change a user who holds less, but not hand them what the actor lacks', async () => {
    const peer = ids.peer!;
    expect((await manager.call('PATCH', `/api/v1/admin/users/${peer}`, { email: 'peer@example.com' })).statusCode).toBe(200);
    expect((await manager.call('PATCH', `/api/v1/admin/users/${peer}`, { password: 'a brand new passphrase' })).statusCode).toBe(200);
    for (const body of [{ permissions: ['change_periodictask'] }, { groups: [opsGroup] }, { groups: ['ops'] }, { isSuperuser: true }]) {
      const res = await manager.call('PATCH', `/api/v1/admin/users/${peer}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(403);
    }
    const after = (await manager.call('GET', `/api/v1/admin/users/${peer}`)).json<{ permissions: string[]; groups: { name: string }[]; isSuperuser: boolean }>();
    expect(after).toMatchObject({ permissions: ['view_user'], groups: [{ name: 'mine' }], isSuperuser: false });
  });

  it('cannot grant themselves more: permissions, a group with more, superuser', async () => {
    const me = ids.manager!;
    for (const body of [
      { permissions: [...MANAGER_PERMS, 'change_periodictask'] },
      { permissions: ['delete_logentry'] },
      { groups: [opsGroup] },
      { groups: ['ops', 'mine'] },
      { isSuperuser: true },
    ]) {
      const res = await manager.call('PATCH', `/api/v1/admin/users/${me}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(403);
    }
    const mine = (await manager.call('GET', '/api/v1/admin/me')).json<{ permissions: string[]; isSuperuser: boolean }>();
    expect(mine.isSuperuser).toBe(false);
    expect(mine.permissions.sort()).toEqual([...MANAGER_PERMS].sort());
  });

  it('cannot create a user with more than they hold', async () => {
    for (const body of [
      { username: 'sock1', isSuperuser: true, isStaff: true, password: TEST_PASSWORD },
      { username: 'sock2', permissions: ['change_periodictask'], password: TEST_PASSWORD },
      { username: 'sock3', groups: ['ops'], password: TEST_PASSWORD },
    ]) {
      const res = await manager.call('POST', '/api/v1/admin/users', body);
      expect(res.statusCode, body.username).toBe(403);
    }
    expect(await t.db.db.selectFrom('auth_user').select('id').where('username', 'like', 'sock%').execute()).toEqual([]);
  });

  it('cannot change or delete a group that grants more, nor add to a group what they lack', async () => {
    expect((await manager.call('PATCH', `/api/v1/admin/groups/${opsGroup}`, { permissions: [] })).statusCode).toBe(403);
    expect((await manager.call('PATCH', `/api/v1/admin/groups/${opsGroup}`, { name: 'renamed' })).statusCode).toBe(403);
    expect((await manager.call('DELETE', `/api/v1/admin/groups/${opsGroup}`)).statusCode).toBe(403);
    const mine = (await manager.call('GET', '/api/v1/admin/groups?search=mine')).json<{ items: { id: number }[] }>().items[0]!;
    // "mine" is in reach, but the manager cannot put what they lack into it (its members would get it).
    expect((await manager.call('PATCH', `/api/v1/admin/groups/${mine.id}`, { permissions: ['view_user', 'change_periodictask'] })).statusCode).toBe(403);
    expect((await manager.call('PATCH', `/api/v1/admin/groups/${mine.id}`, { permissions: ['view_user', 'view_group'] })).statusCode).toBe(200);
    const ops = await t.db.db.selectFrom('auth_group_permission').select('codename').where('group_id', '=', opsGroup).execute();
    expect(ops).toEqual([{ codename: 'delete_periodictask' }]);
  });

  it('a superuser may still do all of it', async () => {
    const root = server.client();
    expect((await root.login('root', TEST_PASSWORD)).statusCode).toBe(303);
    expect((await root.call('PATCH', `/api/v1/admin/users/${ids.boss}`, { permissions: ['view_user'] })).statusCode).toBe(200);
    expect((await root.call('PATCH', `/api/v1/admin/users/${ids.manager}`, { groups: [opsGroup] })).statusCode).toBe(200);
  });
});
