// Who may use beat's routes and where their changes are recorded: handed in by the app (the admin's
// permission check and history), so beat knows nothing of users, sessions or tokens.
import type { FastifyRequest } from 'fastify';
import type { AuditAction, AuditActor, ChangeMessage } from '../platform/audit.js';
import type { ScheduleKind } from './schedules/index.js';

export type BeatPermission = 'view_periodictask' | 'add_periodictask' | 'change_periodictask' | 'delete_periodictask' | `view_${ScheduleKind}schedule`;
/**
 * Resolves to who is asking, or throws 401/403 (the admin's requirePerm). With `null`, any signed-in
 * staff user will do. Called again on the same request it answers from what it found the first time.
 */
export type BeatGuard = (request: FastifyRequest, perm: BeatPermission | null) => Promise<AuditActor>;

export interface BeatChange {
  action: AuditAction;
  objectType: 'periodictask';
  objectId: number;
  objectRepr: string;
  message: ChangeMessage | string;
}
/** Records an operator's change in the admin history (the admin's recordChange). */
export type BeatAudit = (actor: AuditActor, change: BeatChange) => Promise<void>;
