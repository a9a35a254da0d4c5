export { registerThumbnailRoutes } from './routes.js';
export { configureThumbnails, makeThumbnailsTask, THUMBNAILS_QUEUE, type MakeThumbnailsResult } from './task.js';
export { openMediaStore, cleanupMedia, storageProbe, prepareScratch, scratchDirOf } from './storage.js';
export { UploadBudget, clientKey, type UploadBudgetSettings } from './upload-budget.js';
