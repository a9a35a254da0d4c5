export { registerThumbnailRoutes } from './routes.js';
export { configureThumbnails, makeThumbnailsTask, THUMBNAILS_QUEUE, type MakeThumbnailsResult } from './task.js';
export { mediaPaths, ensureMediaDirs, cleanupMedia, type MediaPaths } from './storage.js';
