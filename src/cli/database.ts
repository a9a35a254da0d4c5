// `seler migrate | createsuperuser | createtoken | rotatesecret`: commands on the SQL database only.
import { createsuperuserCommand, createtokenCommand, rotateSecret, terminalIO } from '../admin/index.js';
import { ConfigError } from '../platform/errors.js';
import { migrate, openDatabase, type Db } from '../platform/db/index.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { config, refuseNewDefault } from './common.js';

/**
 * Opens the database, brings it up to date, runs `fn` (told which migrations were applied now) and closes it.
 * Only `migrate` may create a SQLite file in the default data directory; the others refuse (see refuseNewDefault).
 */
async function withDatabase<T>(fn: (db: Db, applied: string[]) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const cfg = config();
  const sqliteFile = cfg.databaseUrl?.startsWith('postgres') ? undefined : cfg.databaseUrl?.startsWith('sqlite:') ? path.resolve(cfg.databaseUrl.slice('sqlite:'.length)) : path.join(cfg.dataDir, 'seler.db');
  const isNew = sqliteFile !== undefined && !existsSync(sqliteFile);
  if (sqliteFile && !options.create && !cfg.databaseUrl) refuseNewDefault(sqliteFile, 'database');
  const db = openDatabase(cfg.databaseUrl, cfg.dataDir);
  if (isNew && !options.create) process.stderr.write(`Created a new database at ${sqliteFile}.\n`);
  try {
    const applied = await migrate(db);
    return await fn(db, applied);
  } finally {
    await db.close();
  }
}

export async function migrateCommand(): Promise<void> {
  await withDatabase(async (db, applied) => {
    process.stdout.write(applied.length ? `Applied ${applied.join(', ')} to ${db.description}.\n` : `${db.description} is up to date.\n`);
  }, { create: true });
}

export async function createsuperuser(opts: { username?: string; email?: string; passwordStdin?: boolean }): Promise<void> {
  await withDatabase(async (db) => {
    process.exitCode = await createsuperuserCommand(db, opts, terminalIO());
  });
}

export async function createtoken(username: string, opts: { name?: string }): Promise<void> {
  await withDatabase(async (db) => {
    process.exitCode = await createtokenCommand(db, username, terminalIO(), opts);
  });
}

export async function rotatesecret(opts: { graceHours: number }): Promise<void> {
  if (config().secret) throw new ConfigError('SELER_SECRET is set, so the secret in the database is not used: change SELER_SECRET instead (on every web host).');
  await withDatabase(async (db) => {
    const rotated = await rotateSecret(db, { graceMs: opts.graceHours * 3600_000 });
    process.stdout.write(`Secret generation ${rotated.generation} (in ${db.description}) signs from ${rotated.activates.toISOString()}; the previous one verifies until ${rotated.previousRetires.toISOString()}.\n`);
  });
}
