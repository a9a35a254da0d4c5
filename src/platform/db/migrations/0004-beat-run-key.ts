import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';

/** The row key of the secret every beat on this database shares to name periodic runs (beat/run-ids.ts). */
export const BEAT_RUN_KEY = 'beat_run_key';

/**
 * A random key, made once per database, from which beats derive the broker id of each periodic run
 * (an HMAC of the task and its tick): every beat on this database computes the same id for a tick
 * (exactly once), nobody without the database can compute it. Insert-if-absent: a database that
 * already has one keeps it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await (db as Kysely<{ seler_instance: { key: string; value: string } }>)
    .insertInto('seler_instance')
    .values({ key: BEAT_RUN_KEY, value: randomBytes(32).toString('hex') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}
