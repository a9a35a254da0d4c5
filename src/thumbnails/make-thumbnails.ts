// What the thumbnail tasks do (task.ts declares them: names, queues, argument schemas). Kept apart and
// imported on a task's first run, so a process that only queues them (`seler call`, the web server's
// routes) does not load the archive, storage and image code.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError, errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { FILE_CHUNK_BYTES, isObjectNotFound, isStorageUnavailable, type ObjectStore } from '../platform/storage/index.js';
import type { TaskContext, TaskTypes } from '../tasks/index.js';
import { archiveSize, uniqueNames } from './archive.js';
import { displayName, safeFileName } from './naming.js';
import type { Slots } from './slots.js';
import { cleanupMedia, manifestKey, resultKey, uploadKey, type ArchiveManifest } from './storage.js';
import type { MakeThumbnailsResult, ThumbnailFile } from './contract.js';

// sharp is loaded on the first thumbnail.
const image = () => import('./image.js');

export const archiveUrl = (taskId: string) => `/api/v1/tasks/${encodeURIComponent(taskId)}/archive`;
export const fileUrl = (taskId: string, name: string) => `/api/v1/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`;

/** What a worker hands the thumbnail tasks (ctx.resources.thumbnails), built from the configuration. */
export interface ThumbnailSettings {
  store: ObjectStore;
  /** This host's scratch directory (copies of originals read from S3). */
  scratchDir: string;
  maxPixels: number;
  /** The process's decode slots (one per core, SELER_DECODE_MEMORY_MB for the decodes that hold a whole image). */
  decodes: Slots;
  /** Uploads and results older than this are removed by `thumbnails.cleanup`. */
  mediaTtlSeconds: number;
}

/** The argument of `thumbnails.make` as its schema (task.ts) gives it. */
export type MakeThumbnailsRequest = TaskTypes['thumbnails.make']['args'][0];

export async function makeThumbnails(request: MakeThumbnailsRequest, ctx: TaskContext, settings: ThumbnailSettings): Promise<MakeThumbnailsResult> {
  const { store, maxPixels } = settings;
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
    const original = await openOriginal(store, settings.scratchDir, file, ctx.log);
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
            decodes: settings.decodes,
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
}

export async function cleanupThumbnails(olderThanSeconds: number | undefined, ctx: TaskContext, settings: ThumbnailSettings): Promise<{ removed: number; bytes: number }> {
  const result = await cleanupMedia(settings.store, olderThanSeconds ?? settings.mediaTtlSeconds);
  ctx.log.info(result, 'media cleaned up');
  return result;
}

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
    await pipeline(await store.get(key), createWriteStream(copy, { flags: 'wx', highWaterMark: FILE_CHUNK_BYTES }));
    return { file: copy, bytes: (await stat(copy)).size, release };
  } catch (err) {
    await release();
    throw isObjectNotFound(err) ? gone() : unreadable(err);
  }
}
