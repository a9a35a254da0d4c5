// A periodic task's JSON (the admin API's, DESIGN.md contract), as the server sends it and the admin
// console reads it (web/admin/src/pages/beat/types.ts). Pure types and `as const` lists: the browser
// code imports this file too, so it imports nothing but other contract modules.
import type { Schedule, ScheduleKind } from './schedules/types.js';

export const MISSED_RUN_POLICIES = ['skip', 'once', 'all'] as const;
export type MissedRunPolicy = (typeof MISSED_RUN_POLICIES)[number];
export const OVERLAP_POLICIES = ['allow', 'skip'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const TASK_SOURCES = ['admin', 'config', 'builtin'] as const;
export type TaskSource = (typeof TASK_SOURCES)[number];
export const RUN_TRIGGERS = ['schedule', 'catch-up', 'manual'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** The fields a configuration entry may declare (and an operator may override). */
export interface TaskFields {
  task: string;
  schedule: Schedule;
  args: unknown[];
  kwargs: Record<string, unknown>;
  queue: string | null;
  priority: number | null;
  /** ISO instant after which the task no longer runs. */
  expires: string | null;
  /** A run not started within this many seconds of being enqueued is discarded. */
  expireSeconds: number | null;
  oneOff: boolean;
  startTime: string | null;
  enabled: boolean;
  description: string;
  missedRunPolicy: MissedRunPolicy;
  overlapPolicy: OverlapPolicy;
}
export type ManagedField = keyof TaskFields;

/** The periodic-task JSON of the admin API, instants as ISO strings. */
export interface PeriodicTask extends TaskFields {
  id: number;
  name: string;
  scheduleKind: ScheduleKind;
  source: TaskSource;
  /** Config and builtin rows: where each field's current value comes from. Null for admin rows. */
  fieldSources: Record<ManagedField, TaskSource> | null;
  /** Config and builtin rows: the values the declaration gives (overridden ones differ). */
  declared: TaskFields | null;
  /** False for a custom task name no module in this process defines (it still runs wherever it is defined). */
  taskRegistered: boolean;
  lastRunAt: string | null;
  totalRunCount: number;
  lastTaskId: string | null;
  nextRunAt: string | null;
  dateCreated: string;
  dateChanged: string;
}

/** A periodic task as the periodic-task API returns it: the task and its schedule in words. */
export interface PeriodicTaskView extends PeriodicTask {
  scheduleDescription: string;
}
