// A real, fresh database per test file, on each dialect: a SQLite file in a temp dir, and a new
// PostgreSQL database on SELER_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// dropped afterwards. PostgreSQL being unreachable is a failure, never a skip: CI starts one.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrate, openDatabase, type Db, type Dialect } from '../../src/platform/db/index.js';

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  dialect: Dialect;
  /** What to pass as DATABASE_URL (to openDatabase, or to a child process). */
  url: string;
  dataDir: string;
  /** The migrated database every test of the file shares. */
  db: Db;
  /** Another connection (pool) to the same database, closed by drop(). */
  open(): Db;
  drop(): Promise<void>;
}

export function testPostgresUrl(): string {
  return process.env.SELER_TEST_DATABASE_URL || DEFAULT_TEST_POSTGRES_URL;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-db-'));
  let url: string;
  let cleanup = async () => {};
  if (dialect === 'sqlite') {
    url = `sqlite:${path.join(dataDir, 'test.db')}`;
  } else {
    const adminUrl = testPostgresUrl();
    const name = `seler_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const admin = openDatabase(adminUrl, dataDir);
    try {
      await sql`create database ${sql.id(name)}`.execute(admin.db);
    } catch (err) {
      await admin.close();
      throw new Error(
        `PostgreSQL tests need a server: cannot create a database on ${admin.description} (${(err as Error).message}). ` +
          'Start PostgreSQL on 127.0.0.1:5432 or set SELER_TEST_DATABASE_URL.',
        { cause: err },
      );
    }
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = async () => {
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
      } finally {
        await admin.close();
      }
    };
  }
  const opened: Db[] = [];
  const open = () => {
    const db = openDatabase(url, dataDir);
    opened.push(db);
    return db;
  };
  const db = open();
  await migrate(db);
  return {
    dialect,
    url,
    dataDir,
    db,
    open,
    async drop() {
      await Promise.all(opened.map((d) => d.close().catch(() => {})));
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
