// The broker id of a periodic run. It must be the same in every beat (exactly once: BullMQ keeps one
// job per id, and the claim in the database records it) and impossible to guess from the outside
// (an id lets a staff member with view_task read the run, and ids used to be `beat-<id>-<ms>`).
// So it is an HMAC of (periodic task, tick) under a random key made once per database (migration
// 0004), which every beat on that database reads: beats on other hosts need no shared data directory
// or SELER_SECRET.
import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../platform/db/index.js';
import { BEAT_RUN_KEY } from '../platform/db/migrations/0004-beat-run-key.js';

/** `beat-<periodic task id>-<32 hex of HMAC-SHA256(key, "<id>:<tick ms>")>`: 128 bits nobody without the key can compute. */
export function beatTaskId(runIdKey: string, id: number, scheduledFor: number): string {
  if (runIdKey.length < 32) throw new Error('beat run ids need the database’s run-id key (RunClaims.runIdKey())');
  const mac = createHmac('sha256', runIdKey).update(`${id}:${scheduledFor}`).digest('hex');
  return `beat-${id}-${mac.slice(0, 32)}`;
}

/** The database's run-id key; made (insert-if-absent) when a database migrated before 0004 somehow lacks it. */
export async function loadRunIdKey(database: Db): Promise<string> {
  const read = () => database.db.selectFrom('seler_instance').select('value').where('key', '=', BEAT_RUN_KEY).executeTakeFirst();
  const found = await read();
  if (found) return found.value;
  await database.db
    .insertInto('seler_instance')
    .values({ key: BEAT_RUN_KEY, value: randomBytes(32).toString('hex') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const made = await read();
  if (!made) throw new Error('could not store the beat run-id key');
  return made.value;
}
