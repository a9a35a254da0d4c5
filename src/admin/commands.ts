// `seler createsuperuser` and `seler createtoken`: validate, act, print, and return an exit code
// (0 ok, 1 failure, 2 bad usage). The terminal is reached only through CommandIO, so tests drive them.
import type { Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import { recordChange } from './audit.js';
import { createToken } from './tokens.js';
import { PASSWORD_RULES, passwordProblems } from './passwords.js';
import { createSuperuser, getUserByUsername, usernameTaken } from './users.js';

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
    io.err(`seler: ${lines.length ? lines.join(' ') : err.message}\n`);
    return 1;
  }
  throw err;
}

/** Interactive attempts at a good password (then exit 1): Django asks for ever, a script must not hang. */
const PASSWORD_ATTEMPTS = 3;

export async function createsuperuserCommand(database: Db, opts: CreatesuperuserOptions, io: CommandIO): Promise<number> {
  let username = opts.username?.trim();
  if (!username) {
    if (!io.prompt) {
      io.err('seler: Give the username with --username (there is no terminal to ask on).\n');
      return 2;
    }
    username = (await io.prompt('Username: ')).trim();
    if (!username) {
      io.err('seler: A username is required.\n');
      return 1;
    }
  }
  if (await usernameTaken(database.db, username)) {
    io.err(`seler: A user named "${username}" already exists in ${database.description}.\n`);
    return 1;
  }
  let email = opts.email?.trim();
  if (email === undefined && io.prompt && !opts.passwordStdin) email = (await io.prompt('Email address (optional): ')).trim();

  let password: string | undefined;
  if (opts.passwordStdin) {
    // One trailing newline is what `echo` or a here-string adds; anything else is part of the password.
    password = (await io.readStdin()).replace(/\r?\n$/, '');
    const problems = password ? passwordProblems(password, { username, email }) : ['A password is required.'];
    if (problems.length) {
      io.err(`seler: The password from standard input is refused: ${problems.join(' ')} A password needs ${PASSWORD_RULES}.\n`);
      return 1;
    }
  } else if (io.prompt) {
    io.out(`A password needs ${PASSWORD_RULES}.\n`);
    for (let attempt = 1; attempt <= PASSWORD_ATTEMPTS && password === undefined; attempt++) {
      const first = await io.prompt('Password: ', { hidden: true });
      const again = await io.prompt('Password (again): ', { hidden: true });
      const problems = first !== again ? ['The two passwords do not match.'] : first ? passwordProblems(first, { username, email }) : ['A password is required.'];
      if (problems.length === 0) password = first;
      else io.err(`${problems.join('\n')}\n${attempt < PASSWORD_ATTEMPTS ? 'Try again.\n' : ''}`);
    }
    if (password === undefined) {
      io.err(`seler: No acceptable password after ${PASSWORD_ATTEMPTS} attempts; nothing was created.\n`);
      return 1;
    }
  } else {
    io.err('seler: Give the password on standard input with --password-stdin (there is no terminal to ask on).\n');
    return 2;
  }

  try {
    const user = await createSuperuser(database, { username, email, password });
    await recordChange(database, { actor: null, actorName: CLI, action: 'add', objectType: 'user', objectId: user.id, objectRepr: user.username, message: [{ added: { superuser: true } }] });
    io.out(`Superuser "${user.username}" created in ${database.description}. Log in at /admin/login.\n`);
    return 0;
  } catch (err) {
    return reportProblems(io, err);
  }
}

export async function createtokenCommand(database: Db, username: string, io: CommandIO, opts: { name?: string } = {}): Promise<number> {
  if (!username) {
    io.err('seler: Name the user: seler createtoken <username>.\n');
    return 2;
  }
  const user = await getUserByUsername(database, username);
  if (!user) {
    io.err(`seler: No user named "${username}" in ${database.description} (create one with "seler createsuperuser" or in the admin).\n`);
    return 1;
  }
  if (!user.isActive || !user.isStaff) {
    io.err(`seler: "${username}" is ${user.isActive ? 'not a staff member' : 'not active'}, so a token would not let them in.\n`);
    return 1;
  }
  try {
    const { token, record } = await createToken(database, user.id, opts.name ?? 'command line');
    await recordChange(database, { actor: null, actorName: CLI, action: 'add', objectType: 'token', objectId: record.id, objectRepr: `${record.name} (${record.prefix}) for ${user.username}`, message: [{ added: {} }] });
    io.out(`${token}\n`);
    io.err(`Token "${record.name}" for ${user.username} stored in ${database.description}.\n`);
    return 0;
  } catch (err) {
    return reportProblems(io, err);
  }
}
