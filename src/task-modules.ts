// Every process that runs or lists tasks (web, worker, beat, pool children) loads them the same way:
// the built-in tasks, then the modules the configuration lists; a process that runs them also gets what
// they are handed (ctx.resources), built from the configuration.
// Only the tasks' declarations are loaded here (what they do is imported on their first run): `seler call`
// loads this module to know the registered tasks and should not pay for the web server, sharp or the zip writer.
import type { Config } from './config.js';
import './demo/tasks.js';
// The task definitions themselves, not the folders' index (which brings their HTTP routes and workers).
import { loadTaskModules, type TaskResources } from './tasks/define-task.js';
import type { ObjectStore } from './platform/storage/index.js';
import './thumbnails/task.js';

/**
 * Registers the tasks. `store`: where thumbnails are kept; a client that only queues tasks (`seler call`)
 * needs none and gets no resources. The answer is what a worker hands its tasks (startWorker's `resources`).
 */
export async function loadTasks(config: Config, store?: ObjectStore): Promise<Partial<TaskResources>> {
  await loadTaskModules(config.taskModules);
  if (!store) return {};
  const [{ scratchDirOf }, { newDecodeSlots }] = await Promise.all([import('./thumbnails/storage.js'), import('./thumbnails/slots.js')]);
  return {
    thumbnails: {
      store,
      scratchDir: scratchDirOf(config.dataDir),
      maxPixels: config.limits.maxPixels,
      decodes: newDecodeSlots(config.decodeMemoryBytes),
      mediaTtlSeconds: config.retention.mediaSeconds,
    },
  };
}

/** Runs inside a threads/process pool child: the parent hands over its configuration (the child opens its own store). */
export async function bootstrapPoolChild(config: Config): Promise<Partial<TaskResources>> {
  const { openMediaStore } = await import('./thumbnails/storage.js');
  return loadTasks(config, await openMediaStore(config.storage));
}

export const bootstrapModuleUrl = import.meta.url;
