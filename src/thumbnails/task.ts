// The task `thumbnails.make`: one original at a time, read from the store (the object's own file on
// the local store, a scratch copy from S3), every size from one decode, each thumbnail written to the
// store as it is made. The zip is not built here: the download streams it from the stored objects,
// following the manifest written last.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AppError, errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { isObjectNotFound, isStorageUnavailable, type ObjectStore } from '../platform/storage/index.js';
import { defineTask } from '../tasks/authoring.js';
import { archiveSize, uniqueNames } from './archive.js';
// sharp is loaded on the first thumbnail, not when the task is registered: `seler call` registers every task.
const image = () => import('./image.js');
import { displayName, safeFileName } from './naming.js';
import { FITS, MAX_ARCHIVE_NAME, OUTPUT_FORMATS, POSITIONS, QUALITY_RANGE } from './options.js';
import { cleanupMedia, manifestKey, resultKey, uploadKey, type ArchiveManifest } from './storage.js';
import type { MakeThumbnailsResult, ThumbnailFile } from './contract.js';

export const THUMBNAILS_QUEUE = 'thumbnails';

export type { ThumbnailFile, MakeThumbnailsResult };

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

export type MakeThumbnailsRequest = z.output<typeof makeRequestSchema>;

declare module '../tasks/define-task.js' {
  interface TaskTypes {
    'thumbnails.make': { args: z.output<typeof makeArgsSchema>; kwargs: Record<string, never>; result: MakeThumbnailsResult };
    'thumbnails.cleanup': { args: z.output<typeof cleanupArgsSchema>; kwargs: Record<string, never>; result: { removed: number; bytes: number } };
  }
}

interface ThumbnailDeps {
  store: ObjectStore;
  /** This host's scratch directory (copies of originals read from S3). */
  scratchDir: string;
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
    argsSchema: makeArgsSchema,
  },
  async ([request], _kwargs, ctx) => {
    if (!deps) throw new Error('thumbnails are not configured in this process (configureThumbnails was not called)');
    const { store, maxPixels } = deps;
    const total = request.files.length * request.sizes.length;
    let done = 0;
    const entries: ArchiveManifest['entries'] = [];
    const files: ThumbnailFile[] = [];
    // Names in the zip and in download URLs: the second "photo.jpg" gives "photo-2.jpg" and
    // "photo-2_128x128.jpg" (originals are made unique first, case-insensitively).
    const taken: string[] = [];
    const claim = (name: string) => {
      const unique = uniqueNames([...taken, name]).at(-1)!;
      taken.push(unique);
      return unique;
    };

    for (const file of request.files) {
      ctx.signal.throwIfAborted();
      const shown = displayName(file.name);
      const key = uploadKey(file.upload);
      const original = await openOriginal(store, deps.scratchDir, file, ctx.log);
      try {
        let made: Awaited<ReturnType<Awaited<ReturnType<typeof image>>['makeThumbnails']>>;
        let originalName: string;
        try {
          const { probeImage, makeThumbnails } = await image();
          const info = await probeImage(original.file, { maxPixels });
          // The original keeps its client's stem, with the extension of what its bytes really are.
          originalName = claim(safeFileName(file.name, info.ext));
          made = await makeThumbnails(
            original.file,
            {
              sizes: request.sizes,
              format: request.format,
              fit: request.fit,
              quality: request.quality,
              position: request.position,
              stem: originalName.slice(0, -info.ext.length - 1),
              maxPixels,
              info,
            },
            (_done, _total, thumb) => {
              done++;
              void ctx.progress({ current: done, total, step: thumb.name }).catch(() => {});
            },
          );
        } catch (err) {
          if (err instanceof AppError && err.status < 500) throw taskError(err.code, `"${shown}": ${err.message}`, { permanent: true });
          ctx.log.error({ err, upload: file.upload }, 'making thumbnails failed');
          throw taskError('thumbnail_failed', `"${shown}": the thumbnails could not be made (${firstLine(err)}).`);
        }
        entries.push({ name: originalName, key, bytes: original.bytes });
        for (const t of made.thumbnails) {
          const name = claim(t.name);
          await storeResult(ctx.log, () => store.put(resultKey(ctx.id, name), t.data, { contentType: `image/${t.format}` }));
          entries.push({ name, key: resultKey(ctx.id, name), bytes: t.bytes });
          files.push({ name, width: t.width, height: t.height, format: t.format, bytes: t.bytes, url: fileUrl(ctx.id, name), source: originalName });
        }
      } finally {
        await original.release();
      }
    }

    const manifest: ArchiveManifest = { createdAt: new Date().toISOString(), entries };
    await storeResult(ctx.log, () => store.put(manifestKey(ctx.id), Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' }));
    const archiveBytes = archiveSize(entries);
    ctx.log.info({ files: files.length, archiveBytes }, 'thumbnails ready');
    return { archiveUrl: archiveUrl(ctx.id), ...(request.archiveName ? { archiveName: safeFileName(request.archiveName, 'zip', 'thumbnails') } : {}), archiveBytes, files };
  },
);

async function storeResult(log: Logger, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    log.error({ err }, 'storing a result failed');
    if (isStorageUnavailable(err)) throw taskError('storage_unavailable', 'The worker could not store the thumbnails (its storage is full, read-only or unreachable); it will try again.');
    throw taskError('archive_failed', `The results could not be stored (${firstLine(err)}).`, { permanent: true });
  }
}

/**
 * The error a thumbnail task ends with: a code and a message meant for the uploader, without a stack
 * or a server path (the log has the cause). `permanent` ones are not retried.
 */
function taskError(code: string, message: string, options: { permanent?: boolean } = {}): AppError {
  const err = new AppError(code, message, options.permanent ? 422 : 500);
  err.stack = `${err.name}: ${message}`;
  return Object.assign(err, { permanent: options.permanent === true });
}

/** The first line of an error's message with any absolute path taken out. */
function firstLine(err: unknown): string {
  return errorMessage(err)
    .split('\n')[0]!
    .replace(/(?:[A-Za-z]:)?[\\/][^\s'"]*[\\/][^\s'"]*/g, '<file>')
    .trim()
    .slice(0, 200);
}

/** The original as a local file: the object itself on the local store, else a scratch copy removed by release(). */
async function openOriginal(
  store: ObjectStore,
  scratchDir: string,
  file: { upload: string; name: string },
  log: Logger,
): Promise<{ file: string; bytes: number; release(): Promise<void> }> {
  const key = uploadKey(file.upload);
  const gone = () => taskError('upload_gone', `"${displayName(file.name)}": the uploaded file is gone (removed after the retention period); upload it again.`, { permanent: true });
  const unreadable = (err: unknown) => {
    log.error({ err, upload: file.upload }, 'cannot read an upload');
    return taskError('storage_unavailable', `"${displayName(file.name)}": the worker could not read the upload; it will try again.`);
  };
  const local = store.localPath(key);
  if (local !== undefined) {
    const info = await stat(local).catch((err: unknown) => {
      throw (err as { code?: string }).code === 'ENOENT' ? gone() : unreadable(err);
    });
    return { file: local, bytes: info.size, release: async () => {} };
  }
  await mkdir(scratchDir, { recursive: true });
  const copy = path.join(scratchDir, `original-${randomUUID()}`);
  const release = () => rm(copy, { force: true }).then(() => {}, () => {});
  try {
    await pipeline(await store.get(key), createWriteStream(copy, { flags: 'wx' }));
    return { file: copy, bytes: (await stat(copy)).size, release };
  } catch (err) {
    await release();
    throw isObjectNotFound(err) ? gone() : unreadable(err);
  }
}

export const cleanupTask = defineTask(
  'thumbnails.cleanup',
  {
    description: 'Removes uploads and archives older than the retention (SELER_MEDIA_TTL, or the seconds given).',
    argsSchema: cleanupArgsSchema,
  },
  async ([olderThanSeconds], _kwargs, ctx) => {
    if (!deps) throw new Error('thumbnails are not configured in this process (configureThumbnails was not called)');
    const result = await cleanupMedia(deps.store, olderThanSeconds ?? deps.mediaTtlSeconds);
    ctx.log.info(result, 'media cleaned up');
    return result;
  },
);
