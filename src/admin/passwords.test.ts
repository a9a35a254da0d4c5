import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, passwordProblems, SCRYPT_PARAMS, verifyPassword } from './passwords.js';
import { PERMISSIONS, effectivePermissions, isPermission, userHasPerm } from './permissions.js';
import { safeNext } from './auth-plugin.js';
import { checkCsrfToken, makeCsrfToken } from './csrf.js';

describe('password hashing', () => {
  it('round-trips in the versioned scrypt$N$r$p$salt$hash format with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  it('refuses unusable, tampered and weaker-than-bounds hashes, and knows when to re-hash', async () => {
    const good = await hashPassword('correct horse battery staple');
    const parts = good.split('$');
    expect(await verifyPassword('x', '!')).toBe(false);
    expect(await verifyPassword('x', null)).toBe(false);
    expect(await verifyPassword('correct horse battery staple', `${good.slice(0, -2)}AA`)).toBe(false);
    expect(await verifyPassword('correct horse battery staple', [parts[0], 2 ** 30, ...parts.slice(2)].join('$'))).toBe(false);
    expect(await verifyPassword('correct horse battery staple', `md5$${parts.slice(1).join('$')}`)).toBe(false);
    expect(needsRehash([parts[0], 2 ** 14, ...parts.slice(2)].join('$'))).toBe(true);
    expect(SCRYPT_PARAMS.N).toBe(32768);
  });

  it('states the password rules', () => {
    expect(passwordProblems('short')).toEqual(['The password must be at least 10 characters long.']);
    expect(passwordProblems('administrator1', { username: 'Administrator1' })).toContain('The password is too similar to the username.');
    expect(passwordProblems('1234567890123')).toContain('The password cannot be entirely numeric.');
    expect(passwordProblems('Password123')).toContain('The password is too common.');
    expect(passwordProblems('x'.repeat(257))).toContain('The password must be at most 256 characters long.');
    expect(passwordProblems('correct horse battery staple', { username: 'alice', email: 'alice@example.com' })).toEqual([]);
  });
});

describe('permissions', () => {
  const holder = (over: Partial<{ isActive: boolean; isSuperuser: boolean; permissions: Set<string> }>) => ({ isActive: true, isSuperuser: false, permissions: new Set<string>(), ...over });

  it('has view/add/change/delete for every model, as Django codenames', () => {
    expect(PERMISSIONS.map((p) => p.codename)).toEqual(expect.arrayContaining(['view_periodictask', 'change_crontabschedule', 'delete_token', 'add_group', 'view_task']));
    expect(PERMISSIONS.find((p) => p.codename === 'change_periodictask')?.name).toBe('Can change periodic task');
    expect(isPermission('fly_plane')).toBe(false);
  });

  it('gives a superuser everything and an inactive user nothing', () => {
    expect(userHasPerm(holder({ isSuperuser: true }), 'delete_user')).toBe(true);
    expect(userHasPerm(holder({ isSuperuser: true, isActive: false }), 'view_user')).toBe(false);
    expect(userHasPerm(holder({ permissions: new Set(['view_user']) }), 'view_user')).toBe(true);
    expect(userHasPerm(holder({ permissions: new Set(['view_user']) }), 'change_user')).toBe(false);
    expect(userHasPerm(null, 'view_user')).toBe(false);
    expect(effectivePermissions(holder({ isSuperuser: true }))).toHaveLength(PERMISSIONS.length);
  });
});

describe('next after log-in', () => {
  it('keeps local paths and refuses everything that could leave the site', () => {
    expect(safeNext('/admin/periodic-tasks/?q=a%20b')).toBe('/admin/periodic-tasks/?q=a%20b');
    for (const bad of ['//evil.com', 'https://evil.com', '/\\evil.com', '\\/evil.com', '/\t/evil.com', '/\n/evil.com', 'javascript:alert(1)', 'evil.com', '', '/é', undefined, 42])
      expect(safeNext(bad), String(bad)).toBe('/admin/');
  });
});

describe('CSRF tokens', () => {
  it('differ every time, verify only with the same secret and binding', () => {
    const a = makeCsrfToken('key', 'secret', 'session-1');
    expect(makeCsrfToken('key', 'secret', 'session-1')).not.toBe(a);
    expect(checkCsrfToken('key', 'secret', a, 'session-1')).toBe(true);
    expect(checkCsrfToken('key', 'secret', a, 'session-2')).toBe(false);
    expect(checkCsrfToken('key', 'other', a, 'session-1')).toBe(false);
    expect(checkCsrfToken('other', 'secret', a, 'session-1')).toBe(false);
    expect(checkCsrfToken('key', undefined, a, 'session-1')).toBe(false);
    expect(checkCsrfToken('key', 'secret', undefined, 'session-1')).toBe(false);
    expect(checkCsrfToken('key', 'secret', ['x'], 'session-1')).toBe(false);
  });
});
