// Periodic tasks and their runs in the SQL database: the admin's CRUD, the declared-schedule upsert,
// and the scheduler's claim (a compare-and-set on the next-run cursor, same SQL on SQLite and PostgreSQL).
import { sql, type UpdateObject, type Updateable } from 'kysely';
import type { Database, Db } from '../platform/db/index.js';
import type { BeatPeriodicTaskTable } from '../platform/db/schema.js';
import {
  FIELD_DEFAULTS, MANAGED_FIELDS, canonical, computeNextRun, crossFieldErrors, invalid, parseTaskInput, pickFields, sameValue, toView,
  type ManagedField, type PeriodicTask, type PeriodicTaskRecord, type TaskFields, type TaskSource,
} from './model.js';
import type { Schedule } from './schedules/index.js';
import { beatError } from './errors.js';
import { loadRunIdKey } from './run-ids.js';
import { decode, decodeRun, encodeFields, serializeWrite, type BeatRun, type Claim, type FieldColumns, type NewRun } from './rows.js';

export type { BeatRun, Claim, NewRun, RunStatus } from './rows.js';

export interface ListQuery {
  search?: string;
  enabled?: boolean;
  source?: TaskSource;
  task?: string;
  scheduleKind?: string;
  /** Tasks whose queue is set to this (tasks without one use their task's default queue and do not match). */
  queue?: string;
  sort?: 'id' | 'name' | 'task' | 'enabled' | 'lastRunAt' | 'nextRunAt' | 'totalRunCount' | 'dateChanged';
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

const SORT_COLUMNS = {
  id: 'id', name: 'name', task: 'task', enabled: 'enabled', lastRunAt: 'last_run_at',
  nextRunAt: 'next_run_at', totalRunCount: 'total_run_count', dateChanged: 'date_changed',
} as const;

/** Fields whose change moves the next-run cursor. */
const TIMING_FIELDS: ManagedField[] = ['schedule', 'startTime', 'expires', 'enabled'];

export interface BeatStoreOptions {
  /** The zone of crontabs that name none (SELER_TIMEZONE). */
  timezone?: string;
  /** Called after every change an operator makes (the admin publishes notifyScheduleChanged here). */
  onChange?: () => unknown;
  now?: () => number;
}

export class BeatStore {
  readonly timezone: string;
  private readonly now: () => number;
  private runKey: Promise<string> | undefined;

  constructor(
    readonly database: Db,
    private readonly options: BeatStoreOptions = {},
  ) {
    this.timezone = options.timezone ?? 'UTC';
    this.now = options.now ?? Date.now;
  }

  private get db() {
    return this.database.db;
  }

  /** The key every beat on this database names periodic runs with (run-ids.ts); read once, then cached. */
  runIdKey(): Promise<string> {
    this.runKey ??= loadRunIdKey(this.database).catch((err: unknown) => {
      this.runKey = undefined;
      throw err;
    });
    return this.runKey;
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    return serializeWrite(this.database, fn);
  }

  private changed(): void {
    void Promise.resolve()
      .then(() => this.options.onChange?.())
      .catch(() => {});
  }

  // ── reading ──────────────────────────────────────────────────────────────

  async getRecord(id: number): Promise<PeriodicTaskRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.db.selectFrom('beat_periodic_task').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? decode(row) : null;
  }

  async getByName(name: string): Promise<PeriodicTaskRecord | null> {
    const row = await this.db.selectFrom('beat_periodic_task').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? decode(row) : null;
  }

  async get(id: number): Promise<PeriodicTask | null> {
    const r = await this.getRecord(id);
    return r ? toView(r) : null;
  }

  private async require(id: number): Promise<PeriodicTaskRecord> {
    const r = await this.getRecord(id);
    if (!r) throw beatError.periodic_task_not_found(id);
    return r;
  }

  async list(query: ListQuery = {}): Promise<Page<PeriodicTask>> {
    const page = Math.max(1, Math.floor(query.page ?? 1));
    const pageSize = Math.min(200, Math.max(1, Math.floor(query.pageSize ?? 25)));
    let q = this.db.selectFrom('beat_periodic_task');
    if (query.search?.trim()) {
      const like = `%${query.search.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or(['name', 'task', 'description'].map((c) => eb(sql`lower(${sql.ref(c)})`, 'like', sql`${like} escape '\\'`))),
      );
    }
    if (query.enabled !== undefined) q = q.where('enabled', '=', query.enabled ? 1 : 0);
    if (query.source) q = q.where('source', '=', query.source);
    if (query.task) q = q.where('task', '=', query.task);
    if (query.scheduleKind) q = q.where('schedule_kind', '=', query.scheduleKind);
    if (query.queue) q = q.where('queue', '=', query.queue);
    const { count } = await q.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
    const column = SORT_COLUMNS[query.sort ?? 'name'] ?? 'name';
    const order = query.order === 'desc' ? 'desc' : 'asc';
    const rows = await q
      .selectAll()
      .orderBy(column, (ob) => (order === 'asc' ? ob.asc() : ob.desc()).nullsLast())
      .orderBy('id')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute();
    return { items: rows.map((r) => toView(decode(r))), total: Number(count), page, pageSize };
  }

  async runs(periodicTaskId: number, options: { page?: number; pageSize?: number } = {}): Promise<Page<BeatRun>> {
    const page = Math.max(1, Math.floor(options.page ?? 1));
    const pageSize = Math.min(200, Math.max(1, Math.floor(options.pageSize ?? 25)));
    const q = this.db.selectFrom('beat_run').where('periodic_task_id', '=', periodicTaskId);
    const { count } = await q.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('scheduled_for', 'desc').orderBy('id', 'desc').limit(pageSize).offset((page - 1) * pageSize).execute();
    return { items: rows.map(decodeRun), total: Number(count), page, pageSize };
  }

  // ── the admin's changes ──────────────────────────────────────────────────

  /** Creates an operator's periodic task; throws AppError 400 with `fields` for bad input. */
  async create(input: unknown): Promise<PeriodicTask> {
    const parsed = parseTaskInput(input, this.timezone);
    if (!parsed.ok) invalid(parsed.errors);
    const { name, ...given } = parsed.value;
    const errors: Record<string, string> = {};
    if (!name) errors.name = 'name is required';
    if (!given.task) errors.task = 'task is required';
    if (!given.schedule) errors.schedule = 'choose exactly one schedule kind';
    if (Object.keys(errors).length) invalid(errors);
    const fields: TaskFields = { ...FIELD_DEFAULTS, ...given } as TaskFields;
    const cross = crossFieldErrors(fields);
    if (Object.keys(cross).length) invalid(cross);
    if (await this.getByName(name!)) invalid({ name: `a periodic task named "${name}" already exists` });
    const id = await this.insert(name!, 'admin', fields, null);
    if (id === null) invalid({ name: `a periodic task named "${name}" already exists` });
    this.changed();
    return (await this.get(id))!;
  }

  /** Inserts unless the name exists (a concurrent insert of the same name loses quietly): the new id or null. */
  private async insert(name: string, source: TaskSource, fields: TaskFields, declared: TaskFields | null): Promise<number | null> {
    const now = this.now();
    const row = await this.write(() =>
      this.db
        .insertInto('beat_periodic_task')
        .values({
          name,
          source,
          ...(encodeFields(fields) as FieldColumns),
          declared: declared ? JSON.stringify(declared) : null,
          overridden: '[]',
          total_run_count: 0,
          next_run_at: computeNextRun(fields, now),
          date_created: now,
          date_changed: now,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('id')
        .executeTakeFirst(),
    );
    return row ? Number(row.id) : null;
  }

  /**
   * Changes some fields. On a config or builtin task, a field set away from its declared value is
   * marked overridden (a re-sync keeps it); set back to the declared value, it follows the config again.
   */
  async update(id: number, patch: unknown): Promise<PeriodicTask> {
    const parsed = parseTaskInput(patch, this.timezone);
    if (!parsed.ok) invalid(parsed.errors);
    const current = await this.require(id);
    const { name, ...given } = parsed.value;
    if (name !== undefined && name !== current.name) {
      if (current.source !== 'admin') invalid({ name: `"${current.name}" is declared in the ${current.source === 'config' ? 'configuration file' : 'code'}; its name cannot change` });
      if (await this.getByName(name)) invalid({ name: `a periodic task named "${name}" already exists` });
    }
    const merged: TaskFields = { ...pickFields(current), ...given };
    const cross = crossFieldErrors(merged);
    if (Object.keys(cross).length) invalid(cross);
    await this.writeFields(current, merged, { name, overrides: true });
    this.changed();
    return (await this.get(id))!;
  }

  /** Writes the fields that differ; moves the cursor from now when timing changed. */
  private async writeFields(
    current: PeriodicTaskRecord,
    next: TaskFields,
    extra: { name?: string; overrides?: boolean; source?: TaskSource; declared?: TaskFields | null; overridden?: ManagedField[] },
  ): Promise<boolean> {
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
    const now = this.now();
    if (changed.some((f) => TIMING_FIELDS.includes(f))) set.next_run_at = computeNextRun(next, now);
    set.date_changed = now;
    await this.write(() => this.db.updateTable('beat_periodic_task').set(set).where('id', '=', current.id).execute());
    return true;
  }

  /** Enables or disables several tasks. Enabling computes the next run from now: it never fires at once. */
  async setEnabled(ids: number[], enabled: boolean): Promise<number> {
    let count = 0;
    for (const id of ids) {
      const current = await this.getRecord(id);
      if (current && (await this.writeFields(current, { ...pickFields(current), enabled }, { overrides: true }))) count++;
    }
    if (count) this.changed();
    return count;
  }

  /** Makes overridden fields of a config or builtin task follow its declaration again (all fields when none are named). */
  async resetToDeclared(id: number, fields: ManagedField[] = MANAGED_FIELDS): Promise<PeriodicTask> {
    const current = await this.require(id);
    if (!current.declared) invalid({ source: 'only a task declared in the configuration or the code can be reset' });
    const next = { ...pickFields(current) } as Record<ManagedField, unknown>;
    for (const f of fields) next[f] = current.declared[f];
    const overridden = current.overridden.filter((f) => !fields.includes(f));
    await this.writeFields(current, next as unknown as TaskFields, { overridden });
    this.changed();
    return (await this.get(id))!;
  }

  /**
   * Deletes an operator's task (and its run history). Declared tasks are refused (disable them instead), except
   * that `allowConfig` lets a config task go: it comes back at the next beat start unless removed from the file.
   */
  async delete(id: number, options: { allowConfig?: boolean } = {}): Promise<boolean> {
    const current = await this.getRecord(id);
    if (!current) return false;
    if (current.source !== 'admin' && !(current.source === 'config' && options.allowConfig))
      invalid({ source: `"${current.name}" is declared in the ${current.source === 'config' ? 'configuration file; remove it there' : 'code'}, or disable it` });
    await this.write(() => this.db.deleteFrom('beat_periodic_task').where('id', '=', id).execute());
    this.changed();
    return true;
  }

  /** The tasks using each schedule of a kind (for the admin's schedule pages), in id order. */
  async tasksBySchedule(kind: string): Promise<{ schedule: Schedule; tasks: { id: number; name: string; enabled: boolean }[] }[]> {
    const rows = await this.db.selectFrom('beat_periodic_task').select(['id', 'name', 'enabled', 'schedule']).where('schedule_kind', '=', kind).orderBy('id').execute();
    const groups = new Map<string, { schedule: Schedule; tasks: { id: number; name: string; enabled: boolean }[] }>();
    for (const r of rows) {
      const schedule = JSON.parse(r.schedule) as Schedule;
      const key = canonical(schedule);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { schedule, tasks: [] }));
      group.tasks.push({ id: Number(r.id), name: r.name, enabled: r.enabled === 1 });
    }
    return [...groups.values()];
  }

  // ── declared schedules (static-schedules.ts) ─────────────────────────────

  /** Creates or re-syncs a declared task, keeping the fields an operator overrode. */
  async upsertDeclared(name: string, source: 'config' | 'builtin', declared: TaskFields): Promise<'created' | 'updated' | 'unchanged'> {
    let current = await this.getByName(name);
    if (!current) {
      if ((await this.insert(name, source, declared, declared)) !== null) return 'created';
      current = (await this.getByName(name))!;
    }
    // An operator's task of the same name is taken over by the declaration (config wins).
    const kept = current.source === 'admin' ? [] : current.overridden.filter((f) => !sameValue(current[f], declared[f]));
    const next = { ...declared } as Record<ManagedField, unknown>;
    for (const f of kept) next[f] = current[f];
    const wrote = await this.writeFields(current, next as unknown as TaskFields, { source, declared, overridden: kept });
    return wrote ? 'updated' : 'unchanged';
  }

  /** Deletes declared tasks no longer declared; returns their names. */
  async deleteUndeclared(declaredNames: string[]): Promise<string[]> {
    const rows = await this.db.selectFrom('beat_periodic_task').select(['id', 'name']).where('source', 'in', ['config', 'builtin']).execute();
    const gone = rows.filter((r) => !declaredNames.includes(r.name));
    if (gone.length) await this.write(() => this.db.deleteFrom('beat_periodic_task').where('id', 'in', gone.map((r) => r.id)).execute());
    return gone.map((r) => r.name);
  }

  // ── the scheduler ────────────────────────────────────────────────────────

  /** Enabled tasks whose cursor is at or before `until`, earliest first. */
  async due(until: number, limit = 100): Promise<PeriodicTaskRecord[]> {
    const rows = await this.db
      .selectFrom('beat_periodic_task')
      .selectAll()
      .where('enabled', '=', 1)
      .where('next_run_at', '<=', until)
      .orderBy('next_run_at')
      .limit(limit)
      .execute();
    return rows.map(decode);
  }

  /** The earliest next run of any enabled task (but those excluded), or null. */
  async nextDueAt(exclude: number[] = []): Promise<number | null> {
    let q = this.db
      .selectFrom('beat_periodic_task')
      .select((eb) => eb.fn.min('next_run_at').as('next'))
      .where('enabled', '=', 1);
    if (exclude.length) q = q.where('id', 'not in', exclude);
    const row = await q.executeTakeFirst();
    return row?.next == null ? null : Number(row.next);
  }

  /**
   * Claims the ticks of `task` from its cursor: one UPDATE that succeeds only if nobody moved the
   * cursor or edited the task since it was read, and the run rows, in one transaction. Returns the
   * ids of the runs recorded now, or null when another beat (or an edit) got there first. A run
   * already recorded (a tick claimed early, then the cursor put back on it by an edit) is left out.
   */
  async claim(task: PeriodicTaskRecord, claim: Claim): Promise<Set<string> | null> {
    if (task.nextRunAt === null) return null;
    const enqueued = claim.runs.filter((r) => !r.status);
    const set: UpdateObject<Database, 'beat_periodic_task'> = { next_run_at: claim.next };
    if (claim.disable) set.enabled = 0;
    if (enqueued.length) {
      set.total_run_count = sql<number>`total_run_count + ${enqueued.length}`;
      set.last_run_at = claim.now;
      set.last_task_id = enqueued.at(-1)!.taskId;
    }
    return this.write(() =>
      this.db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('beat_periodic_task')
          .set(set)
          .where('id', '=', task.id)
          .where('enabled', '=', 1)
          .where('next_run_at', '=', task.nextRunAt!)
          .where('date_changed', '=', task.dateChanged)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return null;
        if (!claim.runs.length) return new Set<string>();
        const inserted = await trx
            .insertInto('beat_run')
            .values(claim.runs.map((run) => ({
              periodic_task_id: task.id,
              task_id: run.taskId,
              scheduled_for: run.scheduledFor,
              trigger: run.trigger,
              claimed_at: claim.now,
              status: run.status ?? null,
              note: run.note ?? null,
            })))
            .onConflict((oc) => oc.column('task_id').doNothing())
            .returning('task_id')
            .execute();
        return new Set(inserted.map((row) => row.task_id));
      }),
    );
  }

  /** Records a run that needs no claim (run now): it counts as the task's last run, as a scheduled one does. */
  async recordRun(periodicTaskId: number, run: NewRun, now: number): Promise<void> {
    await this.write(() =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('beat_run')
          .values({ periodic_task_id: periodicTaskId, task_id: run.taskId, scheduled_for: run.scheduledFor, trigger: run.trigger, claimed_at: now })
          .execute();
        await trx
          .updateTable('beat_periodic_task')
          .set({ last_task_id: run.taskId, last_run_at: now, total_run_count: sql<number>`total_run_count + 1` })
          .where('id', '=', periodicTaskId)
          .execute();
      }),
    );
  }

  async markEnqueued(taskIds: string[], at: number): Promise<void> {
    if (!taskIds.length) return;
    await this.write(() => this.db.updateTable('beat_run').set({ enqueued_at: at }).where('task_id', 'in', taskIds).execute());
  }

  async markFailed(taskId: string, note: string): Promise<void> {
    await this.write(() => this.db.updateTable('beat_run').set({ status: 'failed', note: note.slice(0, 2000) }).where('task_id', '=', taskId).execute());
  }

  /** Runs claimed before `before` and never marked enqueued (their beat crashed or the broker failed), with their task. */
  async staleClaims(before: number, limit = 100): Promise<{ run: BeatRun; claimedAt: number; task: PeriodicTaskRecord }[]> {
    const rows = await this.db
      .selectFrom('beat_run')
      .selectAll()
      .where('enqueued_at', 'is', null)
      .where('status', 'is', null)
      .where('claimed_at', '<', before)
      .orderBy('claimed_at')
      .limit(limit)
      .execute();
    const out: { run: BeatRun; claimedAt: number; task: PeriodicTaskRecord }[] = [];
    for (const row of rows) {
      const task = await this.getRecord(Number(row.periodic_task_id));
      if (task) out.push({ run: decodeRun(row), claimedAt: Number(row.claimed_at), task });
    }
    return out;
  }

  /** Takes over a stale claim (compare-and-set on claimed_at), so only one beat recovers it. */
  async retakeClaim(taskId: string, claimedAt: number, now: number): Promise<boolean> {
    const r = await this.write(() =>
      this.db.updateTable('beat_run').set({ claimed_at: now }).where('task_id', '=', taskId).where('claimed_at', '=', claimedAt).where('enqueued_at', 'is', null).executeTakeFirst(),
    );
    return Number(r.numUpdatedRows) === 1;
  }
}
