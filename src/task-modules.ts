// Every process that runs or lists tasks (web, worker, beat, pool children) loads them the same way:
// the built-in tasks, configured from the configuration, then the modules the configuration lists.
// Only the tasks' declarations are loaded here (what they do is imported on their first run): `seler call`
// loads this module to know the registered tasks and should not pay for the web server, sharp or the zip writer.
import type { Config } from './config.js';
import './demo/tasks.js';
// The task definitions themselves, not the folders' index (which brings their HTTP routes and workers).
import { loadTaskModules } from './tasks/define-task.js';
import type { ObjectStore } from './platform/storage/index.js';
import { configureThumbnails } from './thumbnails/task.js';

/** `store`: where thumbnails are kept; a client that only queues tasks (`seler call`) needs none. */
export async function loadTasks(config: Config, store?: ObjectStore): Promise<void> {
  if (store) {
    const { scratchDirOf } = await import('./thumbnails/storage.js');
    configureThumbnails({ store, scratchDir: scratchDirOf(config.dataDir), maxPixels: config.limits.maxPixels, mediaTtlSeconds: config.retention.mediaSeconds });
  }
  await loadTaskModules(config.taskModules);
}

/** Runs inside a threads/process pool child: the parent hands over its configuration (the child opens its own store). */
export async function bootstrapPoolChild(config: Config): Promise<void> {
  const { openMediaStore } = await import('./thumbnails/storage.js');
  await loadTasks(config, await openMediaStore(config.storage));
}

export const bootstrapModuleUrl = import.meta.url;
