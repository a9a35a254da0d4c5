// What a module that defines tasks needs, and nothing else: the web server, the worker and BullMQ stay
// unloaded, so a process that only lists or queues tasks (`seler call`) loads task modules cheaply.
// index.ts is the whole feature; features that define tasks (demo, thumbnails) import this one.
export { defineTask, DEFAULT_QUEUE } from './define-task.js';
export type { TaskTypes, TaskContext, TaskOptions, TaskProgress, TaskDefinition, TaskName } from './define-task.js';
export { PermanentFailure, Retry, SoftTimeLimitExceeded, TimeLimitExceeded } from './execute.js';
