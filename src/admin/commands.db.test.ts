import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { listLog } from './audit.js';
import { createsuperuserCommand, createtokenCommand, type CommandIO } from './commands.js';
import { authenticateToken } from './tokens.js';
import { createUser, getUserByUsername, hasSuperuser } from './users.js';

function io(stdin = '', answers?: string[]): CommandIO & { stdout: string; stderr: string; asked: string[] } {
  const state = {
    stdout: '',
    stderr: '',
    asked: [] as string[],
    out: (s: string) => void (state.stdout += s),
    err: (s: string) => void (state.stderr += s),
    readStdin: async () => stdin,
    prompt: answers
      ? async (q: string) => {
          state.asked.push(q);
          return answers.shift() ?? '';
        }
      : undefined,
  };
  return state;
}

describe.each(DIALECTS)('createsuperuser and createtoken on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => t?.drop());

  it('creates a superuser from --password-stdin (one trailing newline dropped) and logs it', async () => {
    const term = io('correct horse battery staple\n');
    expect(await createsuperuserCommand(t.db, { username: 'admin', email: 'admin@example.com', passwordStdin: true }, term)).toBe(0);
    expect(term.stdout).toBe(`Superuser "admin" created in ${t.db.description}. Log in at /admin/login.\n`);
    expect(await hasSuperuser(t.db)).toBe(true);
    expect(await getUserByUsername(t.db, 'admin')).toMatchObject({ email: 'admin@example.com', isStaff: true, isSuperuser: true });
    expect((await listLog(t.db, { objectType: 'user' })).items[0]).toMatchObject({ username: '(command line)', action: 'add', objectRepr: 'admin' });
  });

  it('refuses a short password, a duplicate username and the username as password (exit 1, reasons on stderr)', async () => {
    let term = io('short\n');
    expect(await createsuperuserCommand(t.db, { username: 'shorty', passwordStdin: true }, term)).toBe(1);
    // One sentence that says what is wrong and what the rules are.
    expect(term.stderr).toMatch(/^seler: The password from standard input is refused: The password must be at least 10 characters long\. A password needs at least 10 characters, .*common password\.\n$/);
    term = io('correct horse battery staple\n');
    expect(await createsuperuserCommand(t.db, { username: 'ADMIN', passwordStdin: true }, term)).toBe(1);
    expect(term.stderr).toBe(`seler: A user named "ADMIN" already exists in ${t.db.description}.\n`);
    term = io('mirrormirror\n');
    expect(await createsuperuserCommand(t.db, { username: 'mirrormirror', passwordStdin: true }, term)).toBe(1);
    expect(term.stderr).toContain('too similar to the username');
    term = io('');
    expect(await createsuperuserCommand(t.db, { username: 'empty', passwordStdin: true }, term)).toBe(1);
    expect(await getUserByUsername(t.db, 'shorty')).toBeNull();
  });

  it('asks on the terminal (password twice, the rules shown first); a weak or mismatched password is asked again; without a terminal it is a usage error', async () => {
    let term = io('', ['prompted', 'p@example.com', 'a secret passphrase', 'a secret passphrase']);
    expect(await createsuperuserCommand(t.db, {}, term)).toBe(0);
    expect(term.asked).toEqual(['Username: ', 'Email address (optional): ', 'Password: ', 'Password (again): ']);
    expect(term.stdout).toMatch(/^A password needs at least 10 characters, [^\n]+\nSuperuser "prompted" created in /);

    // As Django: a weak password, then a mismatch, then a good one.
    term = io('', ['asked-again', '', '1234567890', '1234567890', 'a secret passphrase', 'a different one!!', 'a secret passphrase', 'a secret passphrase']);
    expect(await createsuperuserCommand(t.db, {}, term)).toBe(0);
    expect(term.asked.filter((q) => q === 'Password: ')).toHaveLength(3);
    expect(term.stderr).toBe('The password cannot be entirely numeric.\nTry again.\nThe two passwords do not match.\nTry again.\n');
    expect(await getUserByUsername(t.db, 'asked-again')).toMatchObject({ isSuperuser: true });

    term = io('', ['other', '', 'short', 'short', 'password123', 'password123', 'a', 'b']);
    expect(await createsuperuserCommand(t.db, {}, term)).toBe(1);
    expect(term.stderr).toContain('too common');
    expect(term.stderr).toContain('do not match');
    expect(term.stderr).toMatch(/seler: No acceptable password after 3 attempts; nothing was created\.\n$/);
    expect(await getUserByUsername(t.db, 'other')).toBeNull();
    term = io();
    expect(await createsuperuserCommand(t.db, { username: 'x' }, term)).toBe(2);
    expect(term.stderr).toContain('--password-stdin');
    expect(await createsuperuserCommand(t.db, {}, io())).toBe(2);
  });

  it('prints a working token for a staff user and refuses unknown or non-staff users', async () => {
    const term = io();
    expect(await createtokenCommand(t.db, 'admin', term)).toBe(0);
    const token = term.stdout.trim();
    expect(token).toMatch(/^seler_[A-Za-z0-9_-]{43}$/);
    const admin = (await getUserByUsername(t.db, 'admin'))!;
    expect(await authenticateToken(t.db, token)).toMatchObject({ userId: admin.id });
    const missing = io();
    expect(await createtokenCommand(t.db, 'nobody', missing)).toBe(1);
    expect(missing.stderr).toContain('No user named "nobody"');
    await createUser(t.db, { username: 'guest', password: 'correct horse battery staple' });
    expect(await createtokenCommand(t.db, 'guest', io())).toBe(1);
    expect(await createtokenCommand(t.db, '', io())).toBe(2);
  });
});
