export { registerThumbnailRoutes } from './routes.js';
export { makeThumbnailsTask, THUMBNAILS_QUEUE, type MakeThumbnailsResult, type ThumbnailSettings } from './task.js';
export { openMediaStore, cleanupMedia, storageProbe, prepareScratch, scratchDirOf } from './storage.js';
export { UploadBudget, clientKey, type UploadBudgetSettings } from './upload-budget.js';
