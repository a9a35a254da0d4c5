// Periodic tasks: the schedule model, the database store, the config sync, the tick loop and the HTTP API.
export * from './schedules/index.js';
export {
  MANAGED_FIELDS, MISSED_RUN_POLICIES, OVERLAP_POLICIES, RUN_TRIGGERS, TASK_SOURCES, canonical, computeNextRun, parseTaskInput, withDefaultZone,
  type FieldErrors, type ManagedField, type MissedRunPolicy, type OverlapPolicy, type PeriodicTask, type PeriodicTaskInput,
  type PeriodicTaskRecord, type RunTrigger, type TaskFields, type TaskSource,
} from './model.js';
export { BeatStore, type BeatRun, type BeatStoreOptions, type ListQuery, type Page, type RunStatus } from './store.js';
export { BUILTIN_SCHEDULES, parseDeclaredEntry, syncStaticSchedules, type SyncResult } from './static-schedules.js';
export {
  DEFAULT_TIMING, beatChangesChannel, beatTaskId, notifyScheduleChanged, planClaim, recoverStaleClaims, runHistory, runNow, startBeat,
  type BeatClient, type BeatOptions, type BeatTiming, type RunView, type RunningBeat,
} from './scheduler.js';
export { registerBeatRoutes, type BeatRouteDeps } from './routes.js';
export type { BeatAudit, BeatChange, BeatGuard, BeatPermission } from './access.js';
export type { PeriodicTaskView } from './contract.js';
