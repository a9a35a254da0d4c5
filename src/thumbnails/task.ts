// The task `thumbnails.make`: every requested size from one decode per image, then one zip.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask } from '../tasks/index.js';
import { writeArchive, uniqueNames, type ArchiveEntry } from './archive.js';
import { makeThumbnails, type Fit, type OutputFormat } from './image.js';
import { fileStem, sanitizeFileName, type Size } from './naming.js';
import { ARCHIVE_FILE, cleanupMedia, resultDir, uploadFile, type MediaPaths } from './storage.js';
import type { MakeThumbnailsResult, ThumbnailFile } from './contract.js';

export const THUMBNAILS_QUEUE = 'thumbnails';

export interface MakeThumbnailsRequest {
  files: { upload: string; name: string }[];
  sizes: Size[];
  format: OutputFormat;
  fit: Fit;
}

export type { ThumbnailFile, MakeThumbnailsResult };

declare module '../tasks/define-task.js' {
  interface TaskTypes {
    'thumbnails.make': { args: [MakeThumbnailsRequest]; kwargs: Record<string, never>; result: MakeThumbnailsResult };
    'thumbnails.cleanup': { args: [] | [number]; kwargs: Record<string, never>; result: { removed: number; bytes: number } };
  }
}

const requestSchema = z.tuple([
  z.object({
    files: z.array(z.object({ upload: z.string().uuid(), name: z.string().max(1000) })).min(1),
    sizes: z.array(z.object({ width: z.number().int().positive(), height: z.number().int().positive() })).min(1),
    format: z.enum(['original', 'jpeg', 'png', 'webp', 'avif']),
    fit: z.enum(['inside', 'cover', 'contain']),
  }),
]);

interface ThumbnailDeps {
  media: MediaPaths;
  maxPixels: number;
  /** Uploads and results older than this are removed by `thumbnails.cleanup`. */
  mediaTtlSeconds: number;
}

let deps: ThumbnailDeps | undefined;

/** The worker's composition root hands the task its media directory and limits. */
export function configureThumbnails(value: ThumbnailDeps): void {
  deps = value;
}

export const archiveUrl = (taskId: string) => `/api/v1/tasks/${encodeURIComponent(taskId)}/archive`;
export const fileUrl = (taskId: string, name: string) => `/api/v1/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`;

export const makeThumbnailsTask = defineTask(
  'thumbnails.make',
  {
    queue: THUMBNAILS_QUEUE,
    maxAttempts: 3,
    retryBackoffMs: 2000,
    description: 'Makes thumbnails of uploaded images and zips them with the originals.',
    argsSchema: requestSchema as unknown as z.ZodType<unknown[]>,
  },
  async ([request], _kwargs, ctx) => {
    if (!deps) throw new Error('thumbnails are not configured in this process (configureThumbnails was not called)');
    const { media, maxPixels } = deps;
    const outDir = resultDir(media, ctx.id);
    await mkdir(outDir, { recursive: true });

    const total = request.files.length * request.sizes.length;
    let done = 0;
    const entries: (ArchiveEntry & { thumbnail?: ThumbnailFile })[] = [];

    for (const file of request.files) {
      ctx.signal.throwIfAborted();
      const original = await readFile(uploadFile(media, file.upload));
      const originalName = sanitizeFileName(file.name);
      entries.push({ name: originalName, data: original });
      const { thumbnails } = await makeThumbnails(
        original,
        { sizes: request.sizes, format: request.format, fit: request.fit, stem: fileStem(originalName), maxPixels },
        (_done, _total, thumb) => {
          done++;
          void ctx.progress({ current: done, total, step: thumb.name }).catch(() => {});
        },
      );
      for (const t of thumbnails) {
        const thumbnail = { name: t.name, width: t.width, height: t.height, format: t.format, bytes: t.bytes, url: '', source: originalName };
        entries.push({ name: t.name, data: t.data, thumbnail });
      }
    }

    // Images of different uploads may share a name: the zip and the download URLs use the unique one.
    const names = uniqueNames(entries.map((e) => e.name));
    const files: ThumbnailFile[] = [];
    entries.forEach((entry, i) => {
      entry.name = names[i]!;
      if (!entry.thumbnail) return;
      entry.thumbnail.name = entry.name;
      entry.thumbnail.url = fileUrl(ctx.id, entry.name);
      files.push(entry.thumbnail);
    });
    await Promise.all(entries.filter((e) => e.thumbnail).map((e) => writeFile(path.join(outDir, e.name), e.data)));
    const archive = await writeArchive(path.join(outDir, ARCHIVE_FILE), entries);
    ctx.log.info({ files: files.length, archiveBytes: archive.bytes }, 'thumbnails ready');
    return { archiveUrl: archiveUrl(ctx.id), archiveBytes: archive.bytes, files };
  },
);

export const cleanupTask = defineTask(
  'thumbnails.cleanup',
  {
    description: 'Removes uploads and archives older than the retention (SELER_MEDIA_TTL, or the seconds given).',
    argsSchema: z.union([z.tuple([]), z.tuple([z.number().int().min(0)])]) as unknown as z.ZodType<unknown[]>,
  },
  async ([olderThanSeconds], _kwargs, ctx) => {
    if (!deps) throw new Error('thumbnails are not configured in this process (configureThumbnails was not called)');
    const result = await cleanupMedia(deps.media, olderThanSeconds ?? deps.mediaTtlSeconds);
    ctx.log.info(result, 'media cleaned up');
    return result;
  },
);
