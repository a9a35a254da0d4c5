// Where the Thumbnailer keeps its objects, in whichever store is configured: originals under
// "uploads/<generated id>", a task's thumbnails and its archive manifest under "results/<task id>/".
// User-supplied names never reach a key unsanitised. Uploads that S3 receives are spooled to this
// host's scratch directory too, only so the upload check can read the file.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppError } from '../platform/errors.js';
import { thumbnailError } from './errors.js';
import { FILE_CHUNK_BYTES, isStorageUnavailable, LocalObjectStore, openObjectStore, type ObjectStore, type StorageTarget } from '../platform/storage/index.js';

/** The Thumbnailer's store: on the local store, the uploads/ and results/ directories are made and probed. */
export async function openMediaStore(target: StorageTarget): Promise<ObjectStore> {
  const store = await openObjectStore(target, { probeDirs: ['uploads', 'results'] });
  if (store instanceof LocalObjectStore) await store.prepare();
  return store;
}

/** This host's scratch directory in the data dir: never shared, never named in a job. */
export const scratchDirOf = (dataDir: string): string => path.join(dataDir, 'tmp');

export const uploadKey = (id: string): string => {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`invalid upload id "${id}"`);
  return `uploads/${id}`;
};

export function resultPrefix(taskId: string): string {
  if (!/^[\w.-]{1,200}$/.test(taskId) || taskId.startsWith('.')) throw new Error(`invalid task id "${taskId}"`);
  return `results/${taskId}/`;
}

export const resultKey = (taskId: string, name: string): string => resultPrefix(taskId) + name;

/** What the archive of a task holds, in order: written by the worker last, read by the download. */
export const manifestKey = (taskId: string): string => `${resultPrefix(taskId)}manifest.json`;

export interface ArchiveManifest {
  createdAt: string;
  entries: { name: string; key: string; bytes: number }[];
}

/** The 503 a client gets when the store cannot take the upload (no server path or bucket in it). */
export function storageUnavailable(err?: unknown): AppError {
  const reason = isStorageUnavailable(err) ? err.reason : undefined;
  const why =
    reason === 'full'
      ? 'its storage is full'
      : reason === 'read-only'
        ? 'its storage is read-only'
        : reason === 'unreachable'
          ? 'its storage cannot be reached'
          : 'its storage is not writable';
  return thumbnailError.storage_unavailable(why);
}

/** Called with each chunk's size before it is written; throwing (or rejecting) ends the upload. */
export type Meter = (bytes: number) => void | Promise<void>;

export interface SavedUpload {
  id: string;
  key: string;
  bytes: number;
  /** A local file with the upload's bytes, for the upload check (the object itself on the local store). */
  file: string;
  /** Removes the scratch copy, if any. */
  release(): Promise<void>;
}

/**
 * Streams an upload into the store under a generated key. On any failure (the client went away, the
 * body broke off, the meter refused, the store is full or down) nothing is left behind, and a store
 * that cannot take it becomes a 503 `storage_unavailable`.
 */
export async function saveUpload(store: ObjectStore, scratchDir: string, source: Readable, meter?: Meter): Promise<SavedUpload> {
  const id = randomUUID();
  const key = uploadKey(id);
  const local = store.localPath(key);
  try {
    if (local !== undefined) {
      const { bytes } = await store.put(key, source, { meter });
      return { id, key, bytes, file: local, release: async () => {} };
    }
    await mkdir(scratchDir, { recursive: true });
    const spool = path.join(scratchDir, `upload-${id}`);
    const release = () => rm(spool, { force: true }).then(() => {}, () => {});
    try {
      const { bytes } = await teeIntoStore(store, key, source, spool, meter);
      return { id, key, bytes, file: spool, release };
    } catch (err) {
      await release();
      throw err;
    }
  } catch (err) {
    throw isStorageUnavailable(err) ? storageUnavailable(err) : err;
  }
}

/** One read of the body, written to the store and to a scratch file side by side (each at its own pace). */
async function teeIntoStore(store: ObjectStore, key: string, source: Readable, spoolFile: string, meter?: Meter): Promise<{ bytes: number }> {
  const spool = createWriteStream(spoolFile, { flags: 'wx', highWaterMark: FILE_CHUNK_BYTES });
  const toStore = new PassThrough();
  const storing = store.put(key, toStore, { meter });
  const splitter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      let waiting = 0;
      const drained = () => {
        if (--waiting === 0) done();
      };
      if (!spool.write(chunk)) {
        waiting++;
        spool.once('drain', drained);
      }
      if (!toStore.write(chunk)) {
        waiting++;
        toStore.once('drain', drained);
      }
      if (waiting === 0) done();
    },
    final(done) {
      toStore.end();
      spool.end(done);
    },
    destroy(err, done) {
      toStore.destroy(err ?? undefined);
      spool.destroy();
      done(err);
    },
  });
  storing.catch((err: unknown) => splitter.destroy(err as Error));
  try {
    await pipeline(source, splitter);
    return await storing;
  } catch (err) {
    // The store's own error says more than "stream destroyed" (a meter's refusal, an outage).
    const stored = await storing.then(() => undefined, (e: unknown) => e);
    if (!spool.closed) await once(spool, 'close').catch(() => {});
    await store.deleteMany([key]).catch(() => {});
    throw stored ?? err;
  }
}

/**
 * Whether the store takes writes, cached `cacheMs`; callers at the same moment share one probe, so
 * /readyz and every upload may ask as often as they like.
 */
export function storageProbe(store: ObjectStore, options: { cacheMs?: number } = {}): () => Promise<void> {
  const cacheMs = options.cacheMs ?? 1500;
  let last: { at: number; error?: Error } | undefined;
  let running: Promise<void> | undefined;
  return async () => {
    if (!last || Date.now() - last.at >= cacheMs) {
      running ??= (async () => {
        try {
          await store.ready();
          last = { at: Date.now() };
        } catch (err) {
          last = { at: Date.now(), error: err as Error };
        } finally {
          running = undefined;
        }
      })();
      await running;
    }
    if (last?.error) throw last.error;
  };
}

/**
 * Removes uploads and results older than the retention. A task's results go together, once the newest
 * of them is past it, so a download never finds half of them.
 */
export async function cleanupMedia(store: ObjectStore, olderThanSeconds: number, now = Date.now()): Promise<{ removed: number; bytes: number }> {
  const cutoff = now - olderThanSeconds * 1000;
  let removed = 0;
  let bytes = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length) await store.deleteMany(batch);
    batch = [];
  };
  const drop = async (objects: { key: string; bytes: number }[]) => {
    for (const o of objects) {
      batch.push(o.key);
      removed++;
      bytes += o.bytes;
    }
    if (batch.length >= 500) await flush();
  };

  for await (const object of store.list('uploads/')) {
    if (object.lastModified.getTime() < cutoff) await drop([object]);
  }
  // Listings are in key order, so one task's objects come together.
  let task: string | undefined;
  let group: { key: string; bytes: number }[] = [];
  let newest = 0;
  const closeGroup = async () => {
    if (group.length && newest < cutoff) await drop(group);
    group = [];
    newest = 0;
  };
  for await (const object of store.list('results/')) {
    const owner = object.key.split('/')[1];
    if (owner !== task) {
      await closeGroup();
      task = owner;
    }
    group.push(object);
    newest = Math.max(newest, object.lastModified.getTime());
  }
  await closeGroup();
  await flush();
  return { removed, bytes };
}

/** A private scratch directory of this host (under the data dir); files a dead process left there are removed after an hour. */
export async function prepareScratch(dir: string, now = Date.now()): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir).catch(() => [])) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > 3600_000) await rm(file, { recursive: true, force: true }).catch(() => {});
  }
}
