import { pbkdf2 } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Hasher, hasher } from './hasher.js';
import { hashPassword, MAX_PASSWORD_LENGTH, needsRehash, observeKdf, passwordProblems, SCRYPT_PARAMS, UNUSABLE_PASSWORD, verifyPassword, type KdfCall } from './passwords.js';
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

describe('no username enumeration by timing', () => {
  it('does the same KDF work for a known user, an unknown one and an unusable hash, at every password length', async () => {
    const real = await hashPassword('correct horse battery staple');
    const calls: KdfCall[] = [];
    const stop = observeKdf((c) => calls.push(c));
    try {
      for (const length of [1, 20, 256, 257, 300, 5000, 200_000]) {
        const password = 'p'.repeat(length);
        for (const encoded of [real, null, undefined, UNUSABLE_PASSWORD, 'scrypt$garbage']) {
          calls.length = 0;
          expect(await verifyPassword(password, encoded)).toBe(false);
          expect(calls, `${length} chars against ${String(encoded).slice(0, 10)}`).toEqual([{ ...SCRYPT_PARAMS, inputLength: Math.min(length, MAX_PASSWORD_LENGTH) }]);
        }
      }
      // A password over the limit is refused even when its first 256 characters are right.
      const long = 'a long passphrase '.repeat(14).slice(0, MAX_PASSWORD_LENGTH);
      const hash = await hashPassword(long);
      expect(await verifyPassword(long, hash)).toBe(true);
      expect(await verifyPassword(`${long}and more`, hash)).toBe(false);
    } finally {
      stop();
    }
  });

  it('takes about as long for a known and an unknown user with a 300+ character password (loose bound)', async () => {
    const real = await hashPassword('correct horse battery staple');
    const password = 'x'.repeat(320);
    const known: number[] = [];
    const unknown: number[] = [];
    const time = async (encoded: string | null, into: number[]) => {
      const started = performance.now();
      await verifyPassword(password, encoded);
      into.push(performance.now() - started);
    };
    for (let i = 0; i < 9; i++) {
      await time(real, known);
      await time(null, unknown);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(known) / median(unknown);
    // The hole was 10 ms against 198 ms (ratio 0.05); equal work gives ~1, a busy box wobbles.
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
  });
});

describe('password hashing off the libuv threadpool', () => {
  it('verifies while every libuv thread is busy, on threads that are not the main one', async () => {
    const real = await hashPassword('correct horse battery staple');
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    // Occupy every threadpool thread (pbkdf2 runs there, like fs and the old async scrypt).
    const blockers = Array.from({ length: poolSize }, () => new Promise<number>((resolve, reject) =>
      pbkdf2('block', 'salt', 1_500_000, 64, 'sha512', (err) => (err ? reject(err) : resolve(performance.now()))),
    ));
    const started = performance.now();
    expect(await verifyPassword('correct horse battery staple', real)).toBe(true);
    const verifiedAt = performance.now();
    const firstBlockerDone = Math.min(...(await Promise.all(blockers)));
    expect(verifiedAt).toBeLessThan(firstBlockerDone);
    expect(verifiedAt - started).toBeLessThan(firstBlockerDone - started);
    expect(hasher.stats.threadIds.size).toBeGreaterThan(0);
    expect(hasher.stats.threadIds.has(threadId)).toBe(false);
    expect(threadId).toBe(0);
  });

  it('refuses work beyond its bounded queue with 503 busy instead of piling it up', async () => {
    const small = new Hasher(1, 2);
    try {
      const job = { password: 'x', salt: Buffer.alloc(16), ...SCRYPT_PARAMS, keyLength: 32 };
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => small.derive(job)));
      const refused = results.filter((r) => r.status === 'rejected');
      // One running, two queued, the rest refused at once.
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(refused).toHaveLength(3);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ status: 503, code: 'busy', headers: { 'retry-after': '2' } });
    } finally {
      await small.close();
    }
  });
});
