// The SQL database: SQLite in the data directory by default, PostgreSQL with DATABASE_URL.
// One query code (Kysely) for both; migrations are forward-only and run on start.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type { Database };
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, without credentials (for logs). */
  description: string;
  close(): Promise<void>;
}

export function openDatabase(databaseUrl: string | undefined, dataDir: string): Db {
  if (databaseUrl?.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5000 });
    pool.on('error', () => {}); // an idle client's error must not crash the process; the next query reports it
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return wrap(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', url.toString());
  }
  const file = databaseUrl?.startsWith('sqlite:') ? path.resolve(databaseUrl.slice('sqlite:'.length)) : path.join(dataDir, 'seler.db');
  mkdirSync(path.dirname(file), { recursive: true });
  // Password hashes and sessions live here: owner-only (0600), whatever the umask. SQLite creates
  // the -wal and -shm files with the database file's mode; older loose files are tightened.
  closeSync(openSync(file, 'a', 0o600));
  tighten(file);
  const sqlite = openSqlite(file);
  sqlite.pragma('journal_mode = WAL');
  for (const companion of [`${file}-wal`, `${file}-shm`]) tighten(companion);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return wrap(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), 'sqlite', file);
}

function openSqlite(file: string): SQLite.Database {
  try {
    return new SQLite(file);
  } catch (err) {
    // better-sqlite3 loads its native module on first use; npm installs it only where a build exists
    // (none for Windows without a compiler), so say what to do instead of the module loader's list.
    const message = (err as Error).message ?? '';
    if ((err as NodeJS.ErrnoException).code === 'ERR_DLOPEN_FAILED' || message.startsWith('Could not locate the bindings file')) {
      throw new Error(
        `SQLite ${file} cannot be used: better-sqlite3 has no working native module here (${process.platform}-${process.arch}, Node ${process.versions.node}: ${message.split('\n')[0]}). ` +
          'Use PostgreSQL (DATABASE_URL=postgres://…) or rebuild it (npm rebuild better-sqlite3).',
        { cause: err },
      );
    }
    throw err;
  }
}

function tighten(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function wrap(db: Kysely<Database>, dialect: Dialect, description: string): Db {
  return { db, dialect, description, close: () => db.destroy() };
}

export async function migrate(database: Db): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations as Record<string, Migration> },
    migrationTableName: 'seler_migration',
    migrationLockTableName: 'seler_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pingDatabase(database: Db): Promise<void> {
  await sql`select 1`.execute(database.db);
}
