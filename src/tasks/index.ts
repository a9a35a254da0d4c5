export { defineTask, getTaskDefinition, registeredTasks, loadTaskModules, taskCaller, DEFAULT_QUEUE } from './define-task.js';
export type { TaskTypes, TaskContext, TaskOptions, TaskProgress, TaskDefinition, TaskName, TaskResources, TaskCaller, CallOptions, ApplyOptions } from './define-task.js';
export { isValidTaskId, taskIdProblem, RESERVED_TASK_IDS, TASK_ID_PATTERN } from './ids.js';
export { TaskClient, type EnqueueOptions, type TaskView, type TaskError, type Retention } from './client.js';
export { EventHub, EventLog, eventsKey, bullEventsKey, parseEvent, parseStreamEntry, enrichEvents, eventCursor, compareStreamIds, EVENT_CURSOR_PATTERN, type EventStreamRef, type TaskEvent, type TaskEventType } from './events.js';
export { startWorker, type RunningWorker, type PoolKind } from './worker.js';
export { PermanentFailure, Retry, SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError } from './execute.js';
export {
  inspect, controlWorkers, liveWorkers, workerHeartbeats, setRateLimit, rateLimitOverrides, HEARTBEAT_MS, WORKER_GONE_MS, INSPECT_COMMANDS, WORKER_CONTROL_COMMANDS, MAX_CONCURRENCY,
  type InspectCommand, type WorkerInfo, type WorkerControl, type ControlReply,
} from './control.js';
export { parseRate } from './rate-limit.js';
export { TASK_STATES, isReady, type TaskState } from './states.js';
export { registerTaskRoutes, requireTask, taskView, type TaskRouteDeps } from './routes.js';
export { TaskAccess, CANCEL_TOKEN_HEADER, publicView, presentView, taskNotFound, type TaskGuard, type TaskAudit, type TaskActor, type TaskChange, type TaskPermission, type AccessLevel } from './access.js';
export { cancelTokenMatches, type TaskOwner } from './owner.js';
export { AsyncResult, TaskFailedError } from './async-result.js';
export { Canvas, signature, type Signature } from './canvas.js';
export { knownQueueNames, queueStats, jobState, retryFailedTask, promoteDelayedTask, retryFailedOfQueue, cleanFailedOfQueue, type QueueStats, type QueueCounts, type JobActionResult, type BulkRetry } from './queue-admin.js';
export { JOB_FIELDS, QUEUE_KEY, finishedSetKey, jobKeyPrefix } from './bull-layout.js';
export { listQueueJobs, actOnJobs, readTaskLog, isJobState, JOB_ACTIONS, MAX_JOBS_PAGE, MAX_BULK_IDS, type JobAction, type JobPage } from './queue-jobs.js';
export { JOB_STATES, type JobState, type QueueJob, type JobActionOutcome } from './contract.js';
export { TASK_LOG_MAX_LINES, TASK_LOG_MAX_LINE_CHARS, type TaskLog } from './task-log.js';
