// Periodic tasks: the schedule model, the task repository, the config sync, the claim protocol, the tick loop and the HTTP API.
export * from './schedules/index.js';
export {
  MANAGED_FIELDS, MISSED_RUN_POLICIES, OVERLAP_POLICIES, RUN_TRIGGERS, TASK_SOURCES, canonical, computeNextRun, parseTaskInput, withDefaultZone,
  type FieldErrors, type ManagedField, type MissedRunPolicy, type OverlapPolicy, type PeriodicTask, type PeriodicTaskInput,
  type PeriodicTaskRecord, type RunTrigger, type TaskFields, type TaskSource,
} from './model.js';
export { PeriodicTasks, type ListQuery, type PeriodicTasksOptions } from './periodic-tasks.js';
export { RunClaims } from './claims.js';
export type { BeatRun, RunStatus } from './rows.js';
export { BUILTIN_SCHEDULES, parseDeclaredEntry } from './static-schedules.js';
export { ConfigSync, syncStaticSchedules, type SyncResult } from './config-sync.js';
export {
  DEFAULT_TIMING, beatChangesChannel, beatTaskId, notifyScheduleChanged, planClaim, recoverStaleClaims, runHistory, runNow, startBeat,
  type BeatClient, type BeatOptions, type BeatTiming, type RunView, type RunningBeat,
} from './scheduler.js';
export { registerBeatRoutes, type BeatRouteDeps } from './routes.js';
export type { BeatAudit, BeatChange, BeatGuard, BeatPermission } from './access.js';
export type { PeriodicTaskView } from './contract.js';
