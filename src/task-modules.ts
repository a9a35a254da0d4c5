// Every process that runs or lists tasks (web, worker, beat, pool children) loads them the same way:
// the built-in tasks, configured from the configuration, then the modules the configuration lists.
import type { Config } from './config.js';
import './demo/tasks.js';
import { loadTaskModules } from './tasks/index.js';
import { configureThumbnails, mediaPaths } from './thumbnails/index.js';

export async function loadTasks(config: Config): Promise<void> {
  configureThumbnails({ media: mediaPaths(config.mediaDir), maxPixels: config.limits.maxPixels, mediaTtlSeconds: config.retention.mediaSeconds });
  await loadTaskModules(config.taskModules);
}

/** Runs inside a threads/process pool child: the parent hands over its configuration. */
export async function bootstrapPoolChild(config: Config): Promise<void> {
  await loadTasks(config);
}

export const bootstrapModuleUrl = import.meta.url;
