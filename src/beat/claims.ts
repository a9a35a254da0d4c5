// The scheduler's claim protocol: which tasks are due, claiming a task's ticks (a compare-and-set on the
// next-run cursor with the beat_run rows in one transaction, same SQL on SQLite and PostgreSQL), and
// the run rows' life after the claim (enqueued, failed, stale claims taken over), so a tick runs once.
import { sql, type UpdateObject } from 'kysely';
import type { Database, Db } from '../platform/db/index.js';
import type { PeriodicTaskRecord } from './model.js';
import { loadRunIdKey } from './run-ids.js';
import { decode, decodeRun, serializeWrite, type BeatRun, type Claim, type NewRun } from './rows.js';
import { findTask } from './task-writes.js';

export class RunClaims {
  private runKey: Promise<string> | undefined;

  constructor(readonly database: Db) {}

  private get db() {
    return this.database.db;
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    return serializeWrite(this.database, fn);
  }

  /** The key every beat on this database names periodic runs with (run-ids.ts); read once, then cached. */
  runIdKey(): Promise<string> {
    this.runKey ??= loadRunIdKey(this.database).catch((err: unknown) => {
      this.runKey = undefined;
      throw err;
    });
    return this.runKey;
  }

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
      const task = await findTask(this.database, Number(row.periodic_task_id));
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
