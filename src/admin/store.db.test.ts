import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { AppError } from '../platform/errors.js';
import { listLog, recordChange } from './audit.js';
import { createGroup, deleteGroup, listGroups, updateGroup } from './groups.js';
import { verifyPassword } from './passwords.js';
import { userHasPerm } from './permissions.js';
import { createSession, DEFAULT_SESSION_POLICY, resolveSession } from './sessions.js';
import { releaseAttempt, reserveAttempt, failureLocks, DEFAULT_THROTTLE } from './throttle.js';
import { authenticateToken, createToken, listTokens, revokeToken } from './tokens.js';
import { createSuperuser, createUser, deleteUser, findLoginUser, hasSuperuser, listUsers, loadAuthUser, updateUser } from './users.js';

const PASSWORD = 'correct horse battery staple';

async function fields(p: Promise<unknown>): Promise<Record<string, string>> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).status).toBe(400);
  return (err as AppError).details!.fields as Record<string, string>;
}

describe.each(DIALECTS)('admin auth store on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => t?.drop());

  it('creates users with hashed passwords, unique usernames ignoring case, and says when a superuser exists', async () => {
    expect(await hasSuperuser(t.db)).toBe(false);
    const admin = await createSuperuser(t.db, { username: 'admin', email: 'admin@example.com', password: PASSWORD });
    expect(admin).toMatchObject({ username: 'admin', isActive: true, isStaff: true, isSuperuser: true, hasUsablePassword: true, lastLogin: null, groups: [], permissions: [] });
    expect(typeof admin.id).toBe('number');
    expect(await hasSuperuser(t.db)).toBe(true);
    const login = await findLoginUser(t.db, 'admin');
    expect(login?.password).toMatch(/^scrypt\$/);
    expect(await verifyPassword(PASSWORD, login!.password)).toBe(true);
    expect(await findLoginUser(t.db, 'ADMIN')).toBeNull();
    expect(await fields(createUser(t.db, { username: 'Admin', password: PASSWORD }))).toEqual({ username: 'A user named "Admin" already exists.' });
    expect(await fields(createUser(t.db, { username: 'has space', email: 'nope', password: 'has space' }))).toMatchObject({
      username: expect.any(String), email: 'Enter a valid email address.', password: expect.stringContaining('at least 10'),
    });
    const noPassword = await createUser(t.db, { username: 'robot', isStaff: true });
    expect(noPassword.hasUsablePassword).toBe(false);
    expect(await verifyPassword('!', (await findLoginUser(t.db, 'robot'))!.password)).toBe(false);
  });

  it('combines direct and group permissions, none for the inactive', async () => {
    const editors = await createGroup(t.db, { name: 'editors', permissions: ['change_periodictask', 'view_periodictask'] });
    expect(await fields(createGroup(t.db, { name: 'editors' }))).toEqual({ name: 'A group named "editors" already exists.' });
    expect(await fields(createGroup(t.db, { name: ' ', permissions: ['nope'] }))).toMatchObject({ name: expect.any(String), permissions: 'Unknown permission: nope.' });
    const user = await createUser(t.db, { username: 'carol', password: PASSWORD, isStaff: true, groups: ['editors'], permissions: ['view_user'] });
    expect(user.groups).toEqual([{ id: editors.id, name: 'editors' }]);
    let auth = (await loadAuthUser(t.db, user.id))!;
    expect([...auth.permissions].sort()).toEqual(['change_periodictask', 'view_periodictask', 'view_user']);
    expect(userHasPerm(auth, 'change_periodictask')).toBe(true);
    expect(userHasPerm(auth, 'delete_periodictask')).toBe(false);
    expect(await fields(updateUser(t.db, user.id, { groups: ['editors', 'ghosts', 99999] }))).toEqual({ groups: 'Unknown groups: ghosts, 99999.' });
    await updateUser(t.db, user.id, { isActive: false });
    auth = (await loadAuthUser(t.db, user.id))!;
    expect(userHasPerm(auth, 'view_user')).toBe(false);
    const listed = await listGroups(t.db, { search: 'EDIT' });
    expect(listed).toMatchObject({ total: 1, items: [{ name: 'editors', userCount: 1 }] });
    const { changed } = await updateGroup(t.db, editors.id, { permissions: ['view_periodictask'] });
    expect(changed).toEqual(['permissions']);
    await deleteGroup(t.db, editors.id);
    expect((await loadAuthUser(t.db, user.id))!.permissions.has('view_periodictask')).toBe(false);
  });

  it('lists users with search, filters and pages (% and _ match literally)', async () => {
    for (const name of ['page_1', 'page_2', 'page_3', 'pagex4']) await createUser(t.db, { username: name, email: `${name}@example.com`, password: PASSWORD });
    expect((await listUsers(t.db, { search: 'page_' })).total).toBe(3);
    const page = await listUsers(t.db, { search: 'PAGE', pageSize: 3, page: 2 });
    expect(page).toMatchObject({ total: 4, page: 2, pageSize: 3, items: [{ username: 'pagex4' }] });
    expect((await listUsers(t.db, { isSuperuser: true })).items.map((u) => u.username)).toEqual(['admin']);
    expect((await listUsers(t.db, { search: '%' })).total).toBe(0);
  });

  it('protects the last active superuser', async () => {
    const admin = (await findLoginUser(t.db, 'admin'))!;
    expect(await fields(updateUser(t.db, admin.id, { isSuperuser: false }))).toHaveProperty('isSuperuser');
    expect(await fields(updateUser(t.db, admin.id, { isActive: false }))).toHaveProperty('isActive');
    await expect(deleteUser(t.db, admin.id)).rejects.toThrow(/last active superuser/);
    const second = await createSuperuser(t.db, { username: 'admin2', password: PASSWORD });
    await updateUser(t.db, admin.id, { isSuperuser: false });
    await updateUser(t.db, admin.id, { isSuperuser: true });
    await deleteUser(t.db, second.id);
  });

  it('keeps sessions hashed, expires them, and ends them on a password change (but the caller’s)', async () => {
    const user = await createUser(t.db, { username: 'dave', password: PASSWORD, isStaff: true });
    const policy = DEFAULT_SESSION_POLICY;
    const now = Date.now();
    const a = await createSession(t.db, user.id, { policy, now });
    const b = await createSession(t.db, user.id, { policy, now });
    expect(await resolveSession(t.db, a.id, { policy, now: now + 1000 })).toMatchObject({ userId: user.id, key: a.session.key });
    expect(await resolveSession(t.db, 'x'.repeat(43), { policy, now })).toBeNull();
    await updateUser(t.db, user.id, { password: 'a different passphrase' }, { keepSession: a.session.key });
    expect(await resolveSession(t.db, a.id, { policy, now })).not.toBeNull();
    expect(await resolveSession(t.db, b.id, { policy, now })).toBeNull();
    expect(await resolveSession(t.db, a.id, { policy, now: now + policy.idleMs })).toBeNull();
    expect(await resolveSession(t.db, a.id, { policy, now })).toBeNull(); // deleted when found expired
  });

  it('authenticates tokens by their hash, records last use, and refuses revoked ones', async () => {
    const user = await createUser(t.db, { username: 'erin', password: PASSWORD, isStaff: true });
    const { token, record } = await createToken(t.db, user.id, 'deploy');
    expect(record).toMatchObject({ userId: user.id, username: 'erin', name: 'deploy', lastUsed: null, revoked: null });
    expect(await authenticateToken(t.db, token)).toEqual({ userId: user.id, tokenId: record.id });
    expect((await listTokens(t.db, { userId: user.id })).items[0]!.lastUsed).not.toBeNull();
    expect(await authenticateToken(t.db, `${token.slice(0, -1)}x`)).toBeNull();
    await revokeToken(t.db, record.id);
    expect(await authenticateToken(t.db, token)).toBeNull();
    expect((await listTokens(t.db, { userId: user.id, includeRevoked: false })).total).toBe(0);
    await expect(createToken(t.db, user.id, '  ')).rejects.toThrow(/name/);
  });

  it('reserves log-in attempts atomically: per username+client lock, per username and per client slow-down, release on success', async () => {
    const keys = { username: 'Frank', ip: '198.51.100.7' };
    const policy = DEFAULT_THROTTLE;
    const start = Date.now();
    const first = await reserveAttempt(t.db, keys, policy, start);
    expect(first).toMatchObject({ locked: false, delayMs: 0, lock: { count: 1 }, user: { count: 1 }, ip: { count: 1 } });
    for (let i = 1; i < 5; i++) await reserveAttempt(t.db, keys, policy, start + i);
    // Sixth attempt: five before it, the slow-down starts (by username across clients, too).
    expect((await reserveAttempt(t.db, { ...keys, ip: '198.51.100.8' }, policy, start + 5)).delayMs).toBe(1000);
    for (let i = 5; i < 9; i++) expect((await reserveAttempt(t.db, keys, policy, start + i)).locked).toBe(false);
    const tenth = await reserveAttempt(t.db, { ...keys, username: 'frank' }, policy, start + 9);
    expect(tenth.locked).toBe(false); // its password is still checked ...
    expect(failureLocks(tenth, policy)).toBe(start + 9 + policy.lockMs); // ... and its failure locks
    const eleventh = await reserveAttempt(t.db, keys, policy, start + 10);
    expect(eleventh).toMatchObject({ locked: true, lockedUntil: start + 10 + policy.lockMs });
    // Only this client: the same username from another address is not locked (but slowed).
    const elsewhere = await reserveAttempt(t.db, { ...keys, ip: '192.0.2.1' }, policy, start + 11);
    expect(elsewhere.locked).toBe(false);
    expect(elsewhere.delayMs).toBeGreaterThan(0);
    expect(elsewhere.delayMs).toBeLessThanOrEqual(policy.maxDelayMs);
    // The lock ends lockMs after the last refused try; then a new window starts.
    expect((await reserveAttempt(t.db, keys, policy, start + 10 + policy.lockMs)).lock.count).toBe(1);
    // A success gives back its place and the failures before it.
    const again = await reserveAttempt(t.db, keys, policy, start + 20 + policy.lockMs);
    await releaseAttempt(t.db, again);
    expect((await reserveAttempt(t.db, keys, policy, start + 21 + policy.lockMs)).lock.count).toBe(1);
  });

  it('lets at most lockAfter of 80 parallel reservations through, from two connections at once', async () => {
    const other = t.open();
    const keys = { username: 'racer', ip: '203.0.113.50' };
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => reserveAttempt(i % 2 ? other : t.db, keys, DEFAULT_THROTTLE, now)));
    expect(results.filter((r) => !r.locked)).toHaveLength(DEFAULT_THROTTLE.lockAfter);
    expect(results.map((r) => r.lock.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });

  it('writes and pages the audit log, newest first', async () => {
    await recordChange(t.db, { actor: null, actorName: '(command line)', action: 'add', objectType: 'user', objectId: 7, objectRepr: 'seven', message: [{ added: {} }] });
    await recordChange(t.db, { actor: { id: 1, username: 'admin' }, action: 'change', objectType: 'periodictask', objectId: '3', objectRepr: 'nightly', message: [{ changed: { fields: ['enabled'] } }] });
    const page = await listLog(t.db, { pageSize: 1 });
    expect(page).toMatchObject({ total: 2, items: [{ userId: 1, username: 'admin', action: 'change', objectType: 'periodictask', objectId: '3', objectRepr: 'nightly', changeMessage: [{ changed: { fields: ['enabled'] } }] }] });
    expect((await listLog(t.db, { objectType: 'user' })).items[0]).toMatchObject({ userId: null, username: '(command line)', objectId: '7' });
  });
});
