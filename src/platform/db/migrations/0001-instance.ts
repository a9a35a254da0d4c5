import type { Kysely } from 'kysely';

/** Facts about this installation (its id, the first start), one row each. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('seler_instance')
    .addColumn('key', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
