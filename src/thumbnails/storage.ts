// Where uploads and results live under the data directory. User-supplied names never reach the
// file system: uploads are stored under generated names, results under the task id.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface MediaPaths {
  root: string;
  uploads: string;
  results: string;
}

export function mediaPaths(mediaDir: string): MediaPaths {
  return { root: mediaDir, uploads: path.join(mediaDir, 'uploads'), results: path.join(mediaDir, 'results') };
}

export async function ensureMediaDirs(paths: MediaPaths): Promise<void> {
  await mkdir(paths.uploads, { recursive: true });
  await mkdir(paths.results, { recursive: true });
}

/** Streams an upload to a file with a generated name; returns the name relative to the uploads dir. */
export async function saveUpload(paths: MediaPaths, source: Readable): Promise<{ id: string; file: string; bytes: number }> {
  const id = randomUUID();
  const file = path.join(paths.uploads, id);
  let bytes = 0;
  source.on('data', (chunk: Buffer) => (bytes += chunk.length));
  await pipeline(source, createWriteStream(file, { flags: 'wx' }));
  return { id, file, bytes };
}

export function uploadFile(paths: MediaPaths, id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`invalid upload id "${id}"`);
  return path.join(paths.uploads, id);
}

export function resultDir(paths: MediaPaths, taskId: string): string {
  if (!/^[\w.-]{1,200}$/.test(taskId) || taskId.startsWith('.')) throw new Error(`invalid task id "${taskId}"`);
  return path.join(paths.results, taskId);
}

export const ARCHIVE_FILE = 'archive.zip';

export async function removeQuietly(...files: string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true, recursive: true }).catch(() => {})));
}

/** Removes uploads and results older than the retention. */
export async function cleanupMedia(paths: MediaPaths, olderThanSeconds: number, now = Date.now()): Promise<{ removed: number; bytes: number }> {
  const cutoff = now - olderThanSeconds * 1000;
  let removed = 0;
  let bytes = 0;
  for (const dir of [paths.uploads, paths.results]) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry);
      const info = await stat(full).catch(() => undefined);
      if (!info || info.mtimeMs >= cutoff) continue;
      bytes += info.isDirectory() ? await directorySize(full) : info.size;
      await rm(full, { recursive: true, force: true });
      removed++;
    }
  }
  return { removed, bytes };
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await directorySize(full) : (await stat(full)).size;
  }
  return total;
}
