// The periodic-task API's shapes as the console uses them (src/beat/schemas.ts).
import type { PeriodicTaskView, TaskSource } from '../../../../../src/beat/contract.js';
import type { Schedule, ScheduleKind } from '../../../../../src/beat/schedules/types.js';

// The schedule and periodic-task shapes are the server's own declarations (type-only imports: no
// server code reaches the bundle).
export type { ManagedField, TaskFields } from '../../../../../src/beat/contract.js';
export type { ClockedSpec, CrontabSpec, IntervalSpec, Schedule, ScheduleKind, SolarEvent, SolarSpec } from '../../../../../src/beat/schedules/types.js';
export type Source = TaskSource;
/** A periodic task as the admin API returns it. */
export type PeriodicTask = PeriodicTaskView;

// The schedules contract's `as const` list (a pure module: nothing else of the server comes with it).
export { SCHEDULE_KINDS } from '../../../../../src/beat/schedules/types.js';

export interface Run {
  id: number;
  periodicTaskId: number;
  taskId: string | null;
  scheduledFor: string;
  trigger: 'schedule' | 'catch-up' | 'manual';
  status: string;
  claimedAt: string;
  enqueuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  duration: number | null;
  note: string | null;
  url: string | null;
}

export interface Preview {
  schedule: Schedule;
  kind: ScheduleKind;
  description: string;
  timezone: string;
  next: { at: string; local: string; timezone: string }[];
  /** Asked with ?errors=inline: the schedule is not valid (the other fields are absent then). */
  invalid?: { code: string; message: string; fields?: Record<string, string> };
}

export interface ScheduleUsage {
  key: string;
  kind: ScheduleKind;
  schedule: Schedule;
  description: string;
  taskCount: number;
  tasks: { id: number; name: string; enabled: boolean }[];
}

/** A JSON Schema (2020-12) as zod's toJSONSchema writes it; only what the form generator reads. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  prefixItems?: JsonSchema[];
  items?: JsonSchema | false;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

export interface RegisteredTask {
  name: string;
  queue: string;
  description: string;
  maxAttempts: number;
  argsSchema: JsonSchema | null;
  kwargsSchema: JsonSchema | null;
}

export interface DeleteResult {
  id: number;
  name: string;
  source: Source;
  deleted: boolean;
  restoredOnBeatStart: boolean;
  message: string | null;
}

export interface BulkResult {
  action: string;
  changed: number[];
  unchanged: number[];
  notFound: number[];
  refused: { id: number; message: string }[];
  restoredOnBeatStart: number[];
}

export const BASE = '/api/v1/admin/periodic-tasks';
export const LIST_PATH = '/admin/periodic-tasks/';
export const addPath = (query?: URLSearchParams) => `/admin/periodic-tasks/add/${query && [...query].length ? `?${query}` : ''}`;
export const changePath = (id: number) => `/admin/periodic-tasks/${id}/`;

export const SOLAR_EVENTS: { value: string; label: string }[] = [
  { value: 'sunrise', label: 'Sunrise' },
  { value: 'sunset', label: 'Sunset' },
  { value: 'solar_noon', label: 'Solar noon' },
  { value: 'dawn_civil', label: 'Civil dawn' },
  { value: 'dawn_nautical', label: 'Nautical dawn' },
  { value: 'dawn_astronomical', label: 'Astronomical dawn' },
  { value: 'dusk_civil', label: 'Civil dusk' },
  { value: 'dusk_nautical', label: 'Nautical dusk' },
  { value: 'dusk_astronomical', label: 'Astronomical dusk' },
];

export const KIND_LABELS: Record<ScheduleKind, string> = { interval: 'Interval', crontab: 'Crontab', solar: 'Solar event', clocked: 'Clocked' };

/** Registered tasks, fetched once per page view (cached for the session: they change only on deploy). */
let registered: Promise<RegisteredTask[]> | undefined;
export function registeredTasks(get: () => Promise<RegisteredTask[]>): Promise<RegisteredTask[]> {
  registered ??= get().catch((err: unknown) => {
    registered = undefined;
    throw err;
  });
  return registered;
}

/** The spec of a schedule, whatever its kind. */
export function specOf(schedule: Schedule): Record<string, unknown> {
  return Object.values(schedule)[0] as Record<string, unknown>;
}

export function kindOf(schedule: Schedule): ScheduleKind {
  return Object.keys(schedule)[0] as ScheduleKind;
}

/** "?kind=crontab&minute=5&hour=15…": the add form pre-filled with this schedule. */
export function scheduleQuery(schedule: Schedule): URLSearchParams {
  const q = new URLSearchParams({ kind: kindOf(schedule) });
  for (const [k, v] of Object.entries(specOf(schedule))) q.set(k, String(v));
  return q;
}

/** A datetime-local input's value (local wall time) from an ISO instant, and back. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
