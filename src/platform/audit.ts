// How a change is told to the admin's history (Django's LogEntry shape). Features that change things
// on an operator's behalf (beat, monitoring) are handed a function taking this; the admin stores it.
export type AuditAction = 'add' | 'change' | 'delete' | 'other';

export type ChangeMessage = Array<
  { added: Record<string, unknown> } | { changed: { fields: string[] } & Record<string, unknown> } | { deleted: Record<string, unknown> } | Record<string, unknown>
>;

export const added = (): ChangeMessage => [{ added: {} }];
export const changed = (fields: string[]): ChangeMessage => (fields.length ? [{ changed: { fields } }] : []);
export const deleted = (): ChangeMessage => [{ deleted: {} }];

/** Who made a change (the signed-in user). */
export interface AuditActor {
  id: number;
  username: string;
}
