// The periodic-task repository: an operator's CRUD on periodic tasks, the admin's listings (tasks,
// run history, tasks by schedule), and the views the API returns.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { Page } from '../platform/json-api.js';
import {
  FIELD_DEFAULTS, MANAGED_FIELDS, canonical, crossFieldErrors, invalid, parseTaskInput, pickFields, toView,
  type ManagedField, type PeriodicTask, type PeriodicTaskRecord, type TaskFields, type TaskSource,
} from './model.js';
import type { Schedule } from './schedules/index.js';
import { beatError } from './errors.js';
import { decode, decodeRun, serializeWrite, type BeatRun } from './rows.js';
import { findTask, findTaskByName, insertTask, writeTaskFields } from './task-writes.js';

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

const SORT_COLUMNS = {
  id: 'id', name: 'name', task: 'task', enabled: 'enabled', lastRunAt: 'last_run_at',
  nextRunAt: 'next_run_at', totalRunCount: 'total_run_count', dateChanged: 'date_changed',
} as const;

export interface PeriodicTasksOptions {
  /** The zone of crontabs that name none (SELER_TIMEZONE). */
  timezone?: string;
  /** Called after every change an operator makes (the admin publishes notifyScheduleChanged here). */
  onChange?: () => unknown;
  now?: () => number;
}

export class PeriodicTasks {
  readonly timezone: string;
  private readonly now: () => number;

  constructor(
    readonly database: Db,
    private readonly options: PeriodicTasksOptions = {},
  ) {
    this.timezone = options.timezone ?? 'UTC';
    this.now = options.now ?? Date.now;
  }

  private get db() {
    return this.database.db;
  }

  private changed(): void {
    void Promise.resolve()
      .then(() => this.options.onChange?.())
      .catch(() => {});
  }

  // ── reading ──────────────────────────────────────────────────────────────

  getRecord(id: number): Promise<PeriodicTaskRecord | null> {
    return findTask(this.database, id);
  }

  getByName(name: string): Promise<PeriodicTaskRecord | null> {
    return findTaskByName(this.database, name);
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
    const id = await insertTask(this.database, this.now(), { name: name!, source: 'admin', fields, declared: null });
    if (id === null) invalid({ name: `a periodic task named "${name}" already exists` });
    this.changed();
    return (await this.get(id))!;
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
    await writeTaskFields(this.database, this.now(), current, merged, { name, overrides: true });
    this.changed();
    return (await this.get(id))!;
  }

  /** Enables or disables several tasks. Enabling computes the next run from now: it never fires at once. */
  async setEnabled(ids: number[], enabled: boolean): Promise<number> {
    let count = 0;
    for (const id of ids) {
      const current = await this.getRecord(id);
      if (current && (await writeTaskFields(this.database, this.now(), current, { ...pickFields(current), enabled }, { overrides: true }))) count++;
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
    await writeTaskFields(this.database, this.now(), current, next as unknown as TaskFields, { overridden });
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
    await serializeWrite(this.database, () => this.db.deleteFrom('beat_periodic_task').where('id', '=', id).execute());
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
}
