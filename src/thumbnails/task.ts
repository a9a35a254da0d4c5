// The tasks `thumbnails.make` and `thumbnails.cleanup` as every process registers them: names, queues,
// argument schemas. What they do is in make-thumbnails.ts, imported on a task's first run: `seler call`
// and the web server register every task and should not load the archive, storage and image code.
import { z } from 'zod';
// defineTask from its own module, the entry task modules use: the folder's index brings the worker and the
// routes, which `seler call` (it registers every task) should not load.
import { defineTask } from '../tasks/define-task.js';
import type { TaskContext } from '../tasks/index.js';
import { FITS, MAX_ARCHIVE_NAME, OUTPUT_FORMATS, POSITIONS, QUALITY_RANGE } from './options.js';
import type { MakeThumbnailsResult, ThumbnailFile } from './contract.js';
import type { ThumbnailSettings } from './make-thumbnails.js';

export const THUMBNAILS_QUEUE = 'thumbnails';

export type { ThumbnailFile, MakeThumbnailsResult, ThumbnailSettings };

const makeRequestSchema = z.object({
  files: z.array(z.object({ upload: z.string().uuid(), name: z.string().max(1000) })).min(1),
  sizes: z.array(z.object({ width: z.number().int().positive(), height: z.number().int().positive() })).min(1),
  format: z.enum(OUTPUT_FORMATS),
  fit: z.enum(FITS),
  // Optional: tasks queued before these existed still run (with each format's default and a centre crop).
  quality: z.number().int().min(QUALITY_RANGE.min).max(QUALITY_RANGE.max).optional(),
  position: z.enum(POSITIONS).optional(),
  archiveName: z.string().max(MAX_ARCHIVE_NAME * 4).optional(),
});
const makeArgsSchema = z.tuple([makeRequestSchema]);
const cleanupArgsSchema = z.union([z.tuple([]), z.tuple([z.number().int().min(0)])]);

declare module '../tasks/define-task.js' {
  interface TaskTypes {
    'thumbnails.make': { args: z.output<typeof makeArgsSchema>; kwargs: Record<string, never>; result: MakeThumbnailsResult };
    'thumbnails.cleanup': { args: z.output<typeof cleanupArgsSchema>; kwargs: Record<string, never>; result: { removed: number; bytes: number } };
  }
  interface TaskResources {
    thumbnails: ThumbnailSettings;
  }
}

/** The worker's composition root hands the tasks their store and limits as ctx.resources.thumbnails. */
function settings(ctx: TaskContext): ThumbnailSettings {
  if (!ctx.resources.thumbnails) throw new Error('thumbnails are not configured in this worker (its ctx.resources has no thumbnails entry)');
  return ctx.resources.thumbnails;
}

const implementation = () => import('./make-thumbnails.js');

export const makeThumbnailsTask = defineTask(
  'thumbnails.make',
  {
    queue: THUMBNAILS_QUEUE,
    maxAttempts: 3,
    retryBackoffMs: 2000,
    description: 'Makes thumbnails of uploaded images and zips them with the originals.',
    argsSchema: makeArgsSchema,
  },
  async ([request], _kwargs, ctx) => (await implementation()).makeThumbnails(request, ctx, settings(ctx)),
);

export const cleanupTask = defineTask(
  'thumbnails.cleanup',
  {
    description: 'Removes uploads and archives older than the retention (SELER_MEDIA_TTL, or the seconds given).',
    argsSchema: cleanupArgsSchema,
  },
  async ([olderThanSeconds], _kwargs, ctx) => (await implementation()).cleanupThumbnails(olderThanSeconds, ctx, settings(ctx)),
);
