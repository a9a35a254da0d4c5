import type { Kysely } from 'kysely';

/**
 * The admin's signing secrets, shared by every web process through the database (no file to copy
 * between hosts). Each rotation adds a generation: it signs from `activates` (epoch ms, a little after
 * it is written, so every process has read it before any cookie it signs arrives); an older one keeps
 * verifying until `retires` (null: not retired).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('seler_secret')
    .addColumn('generation', 'integer', (c) => c.primaryKey())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('activates', 'bigint', (c) => c.notNull())
    .addColumn('retires', 'bigint')
    .execute();
}
