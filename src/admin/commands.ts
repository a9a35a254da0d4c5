// `seler createsuperuser` and `seler createtoken`: validate, act, print, and return an exit code
// (0 ok, 1 failure, 2 bad usage). The terminal is reached only through CommandIO, so tests drive them.
import type { Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import { recordChange } from './audit.js';
import { createToken } from './tokens.js';
import { createSuperuser, getUserByUsername } from './users.js';

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  /** Asks on the terminal (hidden: no echo). Absent when there is no terminal to ask on. */
  prompt?: (question: string, options?: { hidden?: boolean }) => Promise<string>;
}

export interface CreatesuperuserOptions {
  username?: string;
  email?: string;
  passwordStdin?: boolean;
}

const CLI = '(command line)';

function reportProblems(io: CommandIO, err: unknown): number {
  if (err instanceof AppError && err.status === 400) {
    const fields = (err.details?.fields ?? {}) as Record<string, string>;
    const lines = Object.values(fields);
    io.err(`${lines.length ? lines.join('\n') : err.message}\n`);
    return 1;
  }
  throw err;
}

export async function createsuperuserCommand(database: Db, opts: CreatesuperuserOptions, io: CommandIO): Promise<number> {
  let username = opts.username?.trim();
  if (!username) {
    if (!io.prompt) {
      io.err('Give the username with --username (there is no terminal to ask on).\n');
      return 2;
    }
    username = (await io.prompt('Username: ')).trim();
    if (!username) {
      io.err('A username is required.\n');
      return 1;
    }
  }
  let email = opts.email?.trim();
  if (email === undefined && io.prompt && !opts.passwordStdin) email = (await io.prompt('Email address (optional): ')).trim();

  let password: string;
  if (opts.passwordStdin) {
    // One trailing newline is what `echo` or a here-string adds; anything else is part of the password.
    password = (await io.readStdin()).replace(/\r?\n$/, '');
  } else if (io.prompt) {
    password = await io.prompt('Password: ', { hidden: true });
    const again = await io.prompt('Password (again): ', { hidden: true });
    if (password !== again) {
      io.err('The two passwords do not match.\n');
      return 1;
    }
  } else {
    io.err('Give the password on standard input with --password-stdin (there is no terminal to ask on).\n');
    return 2;
  }
  if (!password) {
    io.err('A password is required.\n');
    return 1;
  }

  try {
    const user = await createSuperuser(database, { username, email, password });
    await recordChange(database, { actor: null, actorName: CLI, action: 'add', objectType: 'user', objectId: user.id, objectRepr: user.username, message: [{ added: { superuser: true } }] });
    io.out(`Superuser "${user.username}" created. Log in at /admin/login.\n`);
    return 0;
  } catch (err) {
    return reportProblems(io, err);
  }
}

export async function createtokenCommand(database: Db, username: string, io: CommandIO, opts: { name?: string } = {}): Promise<number> {
  if (!username) {
    io.err('Name the user: seler createtoken <username>.\n');
    return 2;
  }
  const user = await getUserByUsername(database, username);
  if (!user) {
    io.err(`No user named "${username}" (create one with "seler createsuperuser" or in the admin).\n`);
    return 1;
  }
  if (!user.isActive || !user.isStaff) {
    io.err(`"${username}" is ${user.isActive ? 'not a staff member' : 'not active'}, so a token would not let them in.\n`);
    return 1;
  }
  try {
    const { token, record } = await createToken(database, user.id, opts.name ?? 'command line');
    await recordChange(database, { actor: null, actorName: CLI, action: 'add', objectType: 'token', objectId: record.id, objectRepr: `${record.name} (${record.prefix}) for ${user.username}`, message: [{ added: {} }] });
    io.out(`${token}\n`);
    return 0;
  } catch (err) {
    return reportProblems(io, err);
  }
}
