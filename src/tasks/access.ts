// Who may do what with a task id on the public routes (GET/DELETE /api/v1/tasks/<id>, its events, the
// Thumbnailer's downloads, the lab's GET /task/<id>/):
//   - a task an anonymous uploader created (owner in the job) is read by whoever holds its id (a random
//     UUID) and cancelled by whoever also holds its cancel token; that caller sees the public view
//     (no args, no queue, errors as {code, message}). Terminating is never anonymous.
//   - every other task, and every revoke without the token, needs staff permissions (view_task to read,
//     change_task to revoke or terminate), checked by the guard the composition root passes in (the
//     admin's), and each revoke is written to the admin history.
// An anonymous caller gets the same 404 for an unknown id, a malformed id and a task that is not theirs.
import type { FastifyRequest } from 'fastify';
import { taskError } from './errors.js';
import type { TaskClient } from './client.js';
import type { TaskView } from './contract.js';
import { isValidTaskId } from './ids.js';
import { cancelTokenMatches, type TaskOwner } from './owner.js';
import { isReady } from './states.js';

export type TaskPermission = 'view_task' | 'change_task';
export interface TaskActor {
  id: number;
  username: string;
}
/**
 * The staff check: null when the request carries no staff credentials at all (an anonymous caller);
 * the actor when it does and they hold the permission; throws 401/403 for bad credentials or a missing permission.
 */
export type TaskGuard = (request: FastifyRequest, perm: TaskPermission) => Promise<TaskActor | null>;
export interface TaskChange {
  action: 'change';
  objectType: 'task';
  objectId: string;
  objectRepr: string;
  message: string;
}
export type TaskAudit = (actor: TaskActor, change: TaskChange) => Promise<void>;

/** Where the cancel token may come with DELETE: this header, or `?token=`. */
export const CANCEL_TOKEN_HEADER = 'x-cancel-token';

export type AccessLevel = 'public' | 'staff';
export interface TaskAccessResult {
  view: TaskView;
  level: AccessLevel;
}

/** The one answer for an id an anonymous caller may not see, whatever the reason. */
export const taskNotFound = () => taskError.task_not_found();

/** What the holder of an upload's id sees: the state, progress, result and {code, message} of an error; no arguments. */
export function publicView(view: TaskView): Partial<TaskView> {
  const out: Partial<TaskView> = { id: view.id, name: view.name, status: view.status, dateCreated: view.dateCreated };
  if (view.dateStarted) out.dateStarted = view.dateStarted;
  if (view.dateDone) out.dateDone = view.dateDone;
  if (view.progress) out.progress = view.progress;
  if (view.result !== undefined) out.result = view.result;
  if (view.error) {
    // A revoke's reason may name the operator who did it: the uploader learns only that it happened.
    const message = view.status === 'REVOKED' && view.error.code !== 'expired' ? 'The task was cancelled before it finished.' : view.error.message;
    out.error = { code: view.error.code, message };
  }
  return out;
}

export const presentView = (view: TaskView, level: AccessLevel): Partial<TaskView> => (level === 'staff' ? view : publicView(view));

export interface TaskAccessOptions {
  client: TaskClient;
  /** Absent (a web role without the database, so without staff): only anonymous uploads are served. */
  guard?: TaskGuard;
  audit?: TaskAudit;
}

export class TaskAccess {
  constructor(private readonly options: TaskAccessOptions) {}

  /** Staff credentials checked for `perm`; null for a caller who presented none (or when there is no staff). */
  private async staff(request: FastifyRequest, perm: TaskPermission): Promise<TaskActor | null> {
    return this.options.guard ? this.options.guard(request, perm) : null;
  }

  /**
   * The task for reading, with the view the caller may have; throws 404 (or 401/403 for bad staff
   * credentials). `queue`: where this caller already found the task (see TaskClient.readTask).
   */
  async read(request: FastifyRequest, id: string, options: { queue?: string } = {}): Promise<TaskAccessResult> {
    if (!isValidTaskId(id)) throw taskNotFound();
    // One snapshot gives the owner and the view (read before the check, shown only after it).
    const task = await this.options.client.readTask(id, options);
    const owner = task?.owner;
    let actor: TaskActor | null = null;
    try {
      actor = await this.staff(request, 'view_task');
    } catch (err) {
      // Staff credentials that do not open it (expired session, no view_task): the upload's own capability still does.
      if (!owner) throw err;
    }
    if (!actor && !owner) throw taskNotFound();
    if (!task) throw taskNotFound();
    return { view: task.view, level: actor ? 'staff' : 'public' };
  }

  /**
   * Revokes (and with `terminate`, ends a running) task. The anonymous owner may revoke with the
   * cancel token; anything else needs change_task and is audited. A finished task is returned as it is.
   */
  async revoke(request: FastifyRequest, id: string, options: { terminate?: boolean; token?: string }): Promise<Partial<TaskView>> {
    if (!isValidTaskId(id)) throw taskNotFound();
    const { client } = this.options;
    const owner: TaskOwner | undefined = await client.taskOwner(id);
    if (owner && options.token !== undefined && !options.terminate) {
      if (!cancelTokenMatches(owner, options.token))
        throw taskError.invalid_cancel_token();
      const view = await client.revoke(id, { reason: 'cancelled by the uploader' });
      if (!view) throw taskNotFound();
      return publicView(view);
    }
    const actor = await this.staff(request, 'change_task');
    if (!actor) {
      if (!owner) throw taskNotFound();
      if (options.terminate) throw taskError.terminate_not_allowed();
      throw taskError.cancel_token_required(CANCEL_TOKEN_HEADER);
    }
    const current = await client.getTask(id);
    if (!current) throw taskNotFound();
    if (isReady(current.status)) return current;
    const reason = `revoked by ${actor.username}`;
    const view = await client.revoke(id, { terminate: !!options.terminate, reason });
    if (!view) throw taskNotFound();
    await this.options.audit?.(actor, {
      action: 'change',
      objectType: 'task',
      objectId: id,
      objectRepr: `${current.name} ${id}`,
      message: `Revoked${options.terminate ? ' and terminated' : ''} over the task API: ${reason}`,
    });
    return view;
  }
}
