import type { Kysely } from 'kysely';

/**
 * Log-in throttling as counters that are bumped atomically before a password is checked (one
 * upsert statement, so parallel requests and several web processes cannot all slip past the
 * limit), replacing the per-attempt rows of 0003 that were only counted after the check.
 * `expires` is epoch ms: the end of the counting window, or of the lock once one is earned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('auth_login_counter')
    .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('expires', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('auth_login_counter_expires').on('auth_login_counter').column('expires').execute();
  await db.schema.dropTable('auth_login_attempt').execute();
}
