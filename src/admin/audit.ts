// The admin's history of changes (Django's LogEntry): who did what to which object, when, and a
// JSON change message in Django's shape. Every admin write calls recordChange.
import { added, changed, deleted, type ChangeMessage } from '../platform/audit.js';
import type { Db } from '../platform/db/index.js';
import type { ChangeAction, LogEntry } from './contract.js';
import { iso, num, pageWindow, type Page, type PageQuery } from './store-util.js';

export type { ChangeAction, LogEntry } from './contract.js';
export { added, changed, deleted, type ChangeMessage };

export interface Change {
  /** Who made it; null for the command line or the system (then `actorName` says which). */
  actor: { id: number; username: string } | null;
  actorName?: string;
  action: ChangeAction;
  /** The model, in permission terms: 'user', 'group', 'token', 'periodictask', … */
  objectType: string;
  objectId?: string | number | null;
  objectRepr: string;
  message?: ChangeMessage | string;
  now?: number;
}

/** Records an admin change made by `actor` (every write of the admin API calls it). */
export function audit(auth: { db: Db }, actor: { id: number; username: string }, change: Omit<Change, 'actor'>): Promise<void> {
  return recordChange(auth.db, { ...change, actor: { id: actor.id, username: actor.username } });
}

/** The history as a feature's routes are handed it (beat, monitoring): the change, by whom. */
export function auditLog(database: Db): (actor: { id: number; username: string }, change: Omit<Change, 'actor'>) => Promise<void> {
  return (actor, change) => audit({ db: database }, actor, change);
}

export async function recordChange(database: Db, change: Change): Promise<void> {
  const message = typeof change.message === 'string' ? change.message : JSON.stringify(change.message ?? []);
  await database.db
    .insertInto('admin_log')
    .values({
      action_time: change.now ?? Date.now(),
      user_id: change.actor?.id ?? null,
      username: change.actor?.username ?? change.actorName ?? '',
      action: change.action,
      object_type: change.objectType.slice(0, 50),
      object_id: change.objectId === undefined || change.objectId === null ? null : String(change.objectId).slice(0, 100),
      object_repr: change.objectRepr.slice(0, 200),
      change_message: message,
    })
    .execute();
}

export interface LogQuery extends PageQuery {
  userId?: number;
  objectType?: string;
  objectId?: string;
  action?: ChangeAction;
}

function parseMessage(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function listLog(database: Db, query: LogQuery = {}): Promise<Page<LogEntry>> {
  const { page, pageSize, offset } = pageWindow(query);
  let q = database.db.selectFrom('admin_log');
  if (query.userId !== undefined) q = q.where('user_id', '=', query.userId);
  if (query.objectType) q = q.where('object_type', '=', query.objectType);
  if (query.objectId) q = q.where('object_id', '=', query.objectId);
  if (query.action) q = q.where('action', '=', query.action);
  const total = (await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n;
  const rows = await q.selectAll().orderBy('id', 'desc').limit(pageSize).offset(offset).execute();
  return {
    items: rows.map((r) => ({
      id: num(r.id),
      actionTime: iso(r.action_time),
      userId: r.user_id === null ? null : num(r.user_id),
      username: r.username,
      action: r.action as ChangeAction,
      objectType: r.object_type,
      objectId: r.object_id,
      objectRepr: r.object_repr,
      changeMessage: parseMessage(r.change_message),
    })),
    total: num(total),
    page,
    pageSize,
  };
}
