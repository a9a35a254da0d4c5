export { defineTask, getTaskDefinition, registeredTasks, loadTaskModules, DEFAULT_QUEUE } from './define-task.js';
export type { TaskTypes, TaskContext, TaskOptions, TaskProgress, TaskDefinition, TaskName } from './define-task.js';
export { TaskClient, isValidTaskId, type EnqueueOptions, type TaskView, type TaskError, type Retention } from './client.js';
export { EventHub, EventLog, eventsKey, type TaskEvent, type TaskEventType } from './events.js';
export { startWorker, PermanentFailure, type RunningWorker } from './worker.js';
export { TASK_STATES, isReady, type TaskState } from './states.js';
export { registerTaskRoutes, requireTask, taskViewSchema } from './routes.js';
