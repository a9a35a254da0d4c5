// The config sync: writes the schedules declared in seler.config.json and in code (static-schedules.ts)
// into the database when beat starts, keeping the fields an operator overrode.
import type { Db } from '../platform/db/index.js';
import { ConfigError } from '../platform/errors.js';
import { sameValue, type ManagedField, type TaskFields } from './model.js';
import { serializeWrite } from './rows.js';
import { BUILTIN_SCHEDULES, parseDeclaredEntry } from './static-schedules.js';
import { findTaskByName, insertTask, writeTaskFields } from './task-writes.js';

export interface SyncResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

export class ConfigSync {
  private readonly now: () => number;

  constructor(
    readonly database: Db,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Creates or re-syncs a declared task, keeping the fields an operator overrode. */
  async upsertDeclared(name: string, source: 'config' | 'builtin', declared: TaskFields): Promise<'created' | 'updated' | 'unchanged'> {
    let current = await findTaskByName(this.database, name);
    if (!current) {
      if ((await insertTask(this.database, this.now(), { name, source, fields: declared, declared })) !== null) return 'created';
      current = (await findTaskByName(this.database, name))!;
    }
    // An operator's task of the same name is taken over by the declaration (config wins).
    const kept = current.source === 'admin' ? [] : current.overridden.filter((f) => !sameValue(current[f], declared[f]));
    const next = { ...declared } as Record<ManagedField, unknown>;
    for (const f of kept) next[f] = current[f];
    const wrote = await writeTaskFields(this.database, this.now(), current, next as unknown as TaskFields, { source, declared, overridden: kept });
    return wrote ? 'updated' : 'unchanged';
  }

  /** Deletes declared tasks no longer declared; returns their names. */
  async deleteUndeclared(declaredNames: string[]): Promise<string[]> {
    const rows = await this.database.db.selectFrom('beat_periodic_task').select(['id', 'name']).where('source', 'in', ['config', 'builtin']).execute();
    const gone = rows.filter((r) => !declaredNames.includes(r.name));
    if (gone.length) await serializeWrite(this.database, () => this.database.db.deleteFrom('beat_periodic_task').where('id', 'in', gone.map((r) => r.id)).execute());
    return gone.map((r) => r.name);
  }
}

/**
 * Syncs the declared schedules: creates new ones, updates changed ones (fields an operator
 * overrode keep the operator's value), and deletes config or builtin tasks no longer declared.
 * Every entry is validated before anything is written. A config entry named like a builtin replaces it.
 * Safe to run from several beats at once.
 */
export async function syncStaticSchedules(
  configSync: ConfigSync,
  beatSchedule: Record<string, unknown>,
  timezone: string,
  options: { builtins?: Record<string, Record<string, unknown>> } = {},
): Promise<SyncResult> {
  const declared = new Map<string, { source: 'config' | 'builtin'; fields: TaskFields }>();
  for (const [name, entry] of Object.entries(options.builtins ?? BUILTIN_SCHEDULES)) {
    declared.set(name, { source: 'builtin', fields: parseDeclaredEntry(name, entry, timezone, 'builtin schedule') });
  }
  for (const [name, entry] of Object.entries(beatSchedule)) {
    if (!name.trim() || name.length > 200) throw new ConfigError(`beatSchedule: the name "${name}" must be 1-200 characters`);
    declared.set(name, { source: 'config', fields: parseDeclaredEntry(name, entry, timezone) });
  }
  const result: SyncResult = { created: [], updated: [], deleted: [] };
  for (const [name, { source, fields }] of declared) {
    const outcome = await configSync.upsertDeclared(name, source, fields);
    if (outcome !== 'unchanged') result[outcome].push(name);
  }
  result.deleted = await configSync.deleteUndeclared([...declared.keys()]);
  return result;
}
