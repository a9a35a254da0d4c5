// The periodic-task row reads and writes the operator's changes and the config sync share: find by id
// or name, insert unless the name exists, and write the fields that changed (moving the cursor when timing did).
import type { Updateable } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { BeatPeriodicTaskTable } from '../platform/db/schema.js';
import { MANAGED_FIELDS, computeNextRun, sameValue, type ManagedField, type PeriodicTaskRecord, type TaskFields, type TaskSource } from './model.js';
import { decode, encodeFields, serializeWrite, type FieldColumns } from './rows.js';

/** Fields whose change moves the next-run cursor. */
const TIMING_FIELDS: ManagedField[] = ['schedule', 'startTime', 'expires', 'enabled'];

export async function findTask(database: Db, id: number): Promise<PeriodicTaskRecord | null> {
  if (!Number.isSafeInteger(id)) return null;
  const row = await database.db.selectFrom('beat_periodic_task').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? decode(row) : null;
}

export async function findTaskByName(database: Db, name: string): Promise<PeriodicTaskRecord | null> {
  const row = await database.db.selectFrom('beat_periodic_task').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? decode(row) : null;
}

/** Inserts unless the name exists (a concurrent insert of the same name loses quietly): the new id or null. */
export async function insertTask(
  database: Db,
  now: number,
  row: { name: string; source: TaskSource; fields: TaskFields; declared: TaskFields | null },
): Promise<number | null> {
  const inserted = await serializeWrite(database, () =>
    database.db
      .insertInto('beat_periodic_task')
      .values({
        name: row.name,
        source: row.source,
        ...(encodeFields(row.fields) as FieldColumns),
        declared: row.declared ? JSON.stringify(row.declared) : null,
        overridden: '[]',
        total_run_count: 0,
        next_run_at: computeNextRun(row.fields, now),
        date_created: now,
        date_changed: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst(),
  );
  return inserted ? Number(inserted.id) : null;
}

export interface FieldWriteExtras {
  name?: string;
  /** The change is an operator's: fields set away from the declared value become overridden. */
  overrides?: boolean;
  source?: TaskSource;
  declared?: TaskFields | null;
  overridden?: ManagedField[];
}

/** Writes the fields that differ; moves the cursor from `now` when timing changed. False when nothing differed. */
export async function writeTaskFields(database: Db, now: number, current: PeriodicTaskRecord, next: TaskFields, extra: FieldWriteExtras): Promise<boolean> {
  const changed = MANAGED_FIELDS.filter((f) => !sameValue(current[f], next[f]));
  const set: Updateable<BeatPeriodicTaskTable> = encodeFields(Object.fromEntries(changed.map((f) => [f, next[f]])));
  let overridden = extra.overridden ?? current.overridden;
  if (extra.overrides && current.declared) {
    const declared = current.declared;
    overridden = MANAGED_FIELDS.filter((f) => (changed.includes(f) ? !sameValue(next[f], declared[f]) : overridden.includes(f)));
  }
  if (!sameValue(overridden, current.overridden)) set.overridden = JSON.stringify(overridden);
  if (extra.name !== undefined && extra.name !== current.name) set.name = extra.name;
  if (extra.source && extra.source !== current.source) set.source = extra.source;
  if (extra.declared !== undefined && !sameValue(extra.declared, current.declared)) set.declared = extra.declared ? JSON.stringify(extra.declared) : null;
  if (Object.keys(set).length === 0) return false;
  if (changed.some((f) => TIMING_FIELDS.includes(f))) set.next_run_at = computeNextRun(next, now);
  set.date_changed = now;
  await serializeWrite(database, () => database.db.updateTable('beat_periodic_task').set(set).where('id', '=', current.id).execute());
  return true;
}
