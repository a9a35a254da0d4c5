// The object store: where uploads and results live, on this host's disk or in S3. Keys are relative
// paths of safe segments ("uploads/<uuid>", "results/<task id>/<name>"); nothing outside knows where
// an object physically is, except through `localPath` (the local store's files, to skip a copy).
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  bytes: number;
  lastModified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Called with each chunk's size before it is stored; throwing (or rejecting) ends the put and stores nothing. */
  meter?: (bytes: number) => void | Promise<void>;
}

export interface PutResult {
  bytes: number;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP; the end of the object when absent. */
  end?: number;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** Sent back by the store as the response's Content-Type / Content-Disposition. */
  contentType?: string;
  contentDisposition?: string;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Where it is, for logs and /readyz (no credentials). */
  readonly description: string;
  /** Stores a stream or a buffer under `key`; a reader never sees a partial object. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult>;
  /** Stores a local file (its size known, so S3 needs no buffering); `move` lets the local store rename it in. */
  putFile(key: string, file: string, options?: { contentType?: string; move?: boolean }): Promise<PutResult>;
  /** The object's bytes (or a range of them); rejects with ObjectNotFoundError when it does not exist. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deletes every key given; keys that do not exist are not an error. */
  deleteMany(keys: string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, with its size and age. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** A short-lived URL a client may GET the object from directly (S3 only). */
  presignedGetUrl?(key: string, options: PresignOptions): Promise<string>;
  /** The file holding the object when it is one on this host (the local store), else undefined. */
  localPath(key: string): string | undefined;
  /** Resolves when the store takes writes; rejects with a sentence saying why not. */
  ready(): Promise<void>;
  close(): void;
}

export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`no object "${key}"`);
  }
}

/** The store cannot be reached or cannot take writes now (full, read-only, refused, down). */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(
    message: string,
    /** 'full' | 'read-only' | 'unreachable' | 'refused': what the 503 tells the client. */
    readonly reason: 'full' | 'read-only' | 'unreachable' | 'refused',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageUnavailable(err: unknown): err is StorageUnavailableError {
  return err instanceof StorageUnavailableError;
}

export function isObjectNotFound(err: unknown): err is ObjectNotFoundError {
  return err instanceof ObjectNotFoundError;
}

const BAD_CHARS = /[\u0000-\u001f\u007f\\]/;

/**
 * Keys are built by seler from generated ids and sanitised names (which may hold any printable
 * Unicode): segments that are not "." or "..", start with no dot, have no control character or
 * backslash and fit a file name. Anything else is a bug, refused here before it reaches a path.
 */
export function assertKey(key: string): string[] {
  const segments = key.split('/');
  const ok = segments.every((s) => s !== '' && !s.startsWith('.') && !BAD_CHARS.test(s) && Buffer.byteLength(s) <= 255);
  if (!ok || Buffer.byteLength(key) > 900) throw new Error(`invalid object key "${key.slice(0, 120)}"`);
  return segments;
}

/** Prefixes end with "/" or are empty; their segments follow the key rules. */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/')) throw new Error(`invalid object prefix "${prefix}" (must end with "/")`);
  assertKey(prefix.slice(0, -1));
}

/**
 * The chunk size of file streams (reads and the writes' buffer): with Node's 64 KiB default, reading
 * or writing a 16 MB original cost about three times the CPU (22–31 ms against 8 ms to read it, 41–51
 * against 18 to write it, measured on the 2-core development machine).
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;
