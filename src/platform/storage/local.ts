// The embedded default: objects are files under one directory (the data dir's media/), a key's
// segments its path. Writes go to a dot-file beside the target and are renamed in, so a reader never
// sees a partial object and listings never see the temporary ones.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../errors.js';
import { meteredStream } from './metered.js';
import {
  assertKey,
  assertPrefix,
  FILE_CHUNK_BYTES,
  ObjectNotFoundError,
  StorageUnavailableError,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from './types.js';

/** Errors of a file system that cannot take writes now: read-only, full, over quota, or not ours to write. */
const UNAVAILABLE: Record<string, StorageUnavailableError['reason']> = {
  EROFS: 'read-only',
  ENOSPC: 'full',
  EDQUOT: 'full',
  EACCES: 'refused',
  EPERM: 'refused',
  EIO: 'unreachable',
};

function translate(err: unknown, what: string): unknown {
  const code = (err as { code?: string } | undefined)?.code ?? '';
  const reason = UNAVAILABLE[code];
  return reason ? new StorageUnavailableError(`${what}: ${errorMessage(err).split(',')[0]}`, reason, { cause: err }) : err;
}

/** mkdir -p whose error names the real cause (Node's recursive mkdir reports ENOENT on a read-only file system). */
async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
    await mkdir(dir);
  }
}

export interface LocalStoreOptions {
  /** Directories made at start and probed by ready() (e.g. "uploads", "results"). */
  probeDirs?: string[];
  /** ready() fails when the file system has less free than this (default 1 MB). */
  minFreeBytes?: number;
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly description: string;

  constructor(
    readonly root: string,
    private readonly options: LocalStoreOptions = {},
  ) {
    this.description = `the directory ${root}`;
  }

  private file(key: string): string {
    return path.join(this.root, ...assertKey(key));
  }

  localPath(key: string): string {
    return this.file(key);
  }

  private tempFor(file: string): string {
    return path.join(path.dirname(file), `.${path.basename(file).slice(0, 40)}.${randomBytes(6).toString('hex')}.tmp`);
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    const file = this.file(key);
    const temp = this.tempFor(file);
    const { stream: counter, bytes: counted } = meteredStream(options.meter);
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    try {
      await makeDir(path.dirname(file));
    } catch (err) {
      source.resume();
      throw translate(err, `cannot write ${file}`);
    }
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: FILE_CHUNK_BYTES });
    try {
      await pipeline(source, counter, out);
      await rename(temp, file);
    } catch (err) {
      // A body that fails before the file is open still gets it created once the open completes:
      // wait for the stream to close, or the removal below runs first and a 0-byte file stays.
      if (!out.closed) await once(out, 'close').catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
      throw translate(err, `cannot write ${file}`);
    }
    return { bytes: counted() };
  }

  async putFile(key: string, source: string, options: { move?: boolean } = {}): Promise<PutResult> {
    const file = this.file(key);
    try {
      await makeDir(path.dirname(file));
      const { size } = await stat(source);
      if (options.move) {
        try {
          await rename(source, file);
          return { bytes: size };
        } catch (err) {
          if ((err as { code?: string }).code !== 'EXDEV') throw err;
        }
      }
      const temp = this.tempFor(file);
      try {
        await copyFile(source, temp);
        await rename(temp, file);
      } catch (err) {
        await rm(temp, { force: true }).catch(() => {});
        throw err;
      }
      if (options.move) await rm(source, { force: true });
      return { bytes: size };
    } catch (err) {
      throw translate(err, `cannot write ${file}`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    // Opened before returning, so a missing object is an error here and not in the middle of a response.
    const handle = await open(file, 'r').catch((err: unknown) => {
      if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'ENOTDIR') throw new ObjectNotFoundError(key);
      throw translate(err, `cannot read ${file}`);
    });
    return handle.createReadStream({ autoClose: true, start: range?.start, end: range?.end, highWaterMark: FILE_CHUNK_BYTES });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const info = await stat(this.file(key)).catch(() => undefined);
    return info?.isFile() ? { key, bytes: info.size, lastModified: info.mtime } : undefined;
  }

  async deleteMany(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.file(key);
      await rm(file, { force: true }).catch((err: unknown) => {
        throw translate(err, `cannot remove ${file}`);
      });
      dirs.add(path.dirname(file));
    }
    // Directories left empty go too (a task's results), but never the top-level ones (uploads/, results/).
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      for (let d = dir; path.dirname(d).startsWith(this.root + path.sep); d = path.dirname(d)) {
        if (!(await rmdir(d).then(() => true, () => false))) break;
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    const start = prefix === '' ? this.root : path.join(this.root, ...prefix.slice(0, -1).split('/'));
    yield* this.walk(start, prefix);
  }

  private async *walk(dir: string, keyPrefix: string): AsyncIterable<ObjectInfo> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(full, `${keyPrefix}${entry.name}/`);
      } else if (entry.isFile()) {
        const info = await stat(full).catch(() => undefined);
        if (info) yield { key: keyPrefix + entry.name, bytes: info.size, lastModified: info.mtime };
      }
    }
  }

  /** A small file is written and removed in each probe directory, and the file system must have room left. */
  async ready(): Promise<void> {
    const minFree = this.options.minFreeBytes ?? 1024 * 1024;
    for (const dir of (this.options.probeDirs ?? ['']).map((d) => path.join(this.root, d))) {
      const probe = path.join(dir, `.probe-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        await mkdir(dir, { recursive: true });
        const handle = await open(probe, 'wx');
        try {
          await handle.write('ok');
        } finally {
          await handle.close();
        }
      } catch (err) {
        throw new Error(`the data directory ${dir} is not writable (${errorMessage(err).split(',')[0]})`, { cause: err });
      } finally {
        await rm(probe, { force: true }).catch(() => {});
      }
      const fs = await statfs(dir).catch(() => undefined);
      if (fs && fs.bavail * fs.bsize < minFree) {
        throw new Error(`the data directory ${dir} is full (${Math.floor((fs.bavail * fs.bsize) / 1024)} KB free)`);
      }
    }
  }

  /** Makes the probe directories (start-up). */
  async prepare(): Promise<void> {
    for (const dir of this.options.probeDirs ?? []) await mkdir(path.join(this.root, dir), { recursive: true });
  }

  close(): void {}
}
