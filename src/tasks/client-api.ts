// The part of the task layer a short-lived client needs (queue, look up, ask the workers): the command line
// loads this instead of index.ts, which also brings the worker runtime and the HTTP routes.
export { getTaskDefinition, registeredTasks } from './define-task.js';
export { isValidTaskId, taskIdProblem } from './ids.js';
export { TaskClient, type TaskView } from './client.js';
export { controlWorkers, inspect, setRateLimit, INSPECT_COMMANDS, type InspectCommand, type WorkerControl } from './control.js';
export { parseRate } from './rate-limit.js';
