// Receives a multipart upload: files are streamed to generated names, checked from their bytes,
// and removed again at once if anything in the request is refused or the client goes away.
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Limits } from '../config.js';
import { AppError } from '../platform/errors.js';
import { thumbnailError } from './errors.js';
import { isImageComplete } from './complete.js';
import { probeImage, type ImageInfo } from './image.js';
import { archiveNameFor, displayName, parseSizes, safeFileName, type Size } from './naming.js';
import {
  DEFAULT_FIT,
  DEFAULT_FORMAT,
  DEFAULT_POSITION,
  FITS,
  MAX_ARCHIVE_NAME,
  OUTPUT_FORMATS,
  POSITIONS,
  QUALITY_RANGE,
  type Fit,
  type OutputFormat,
  type Position,
} from './options.js';
import type { ObjectStore } from '../platform/storage/index.js';
import { saveUpload, storageUnavailable, type Meter, type SavedUpload } from './storage.js';
import { clientKey, type UploadBudget } from './upload-budget.js';

export interface ReceivedFile {
  upload: string;
  /** Its object in the store. */
  key: string;
  /** Where its bytes were checked (the object on the local store; a scratch copy, removed by release()). */
  file: string;
  release: SavedUpload['release'];
  /** `<safe stem>.<ext of the detected format>`: the name the zip will give the original. */
  name: string;
  bytes: number;
  info: ImageInfo;
}

export interface ThumbnailRequest {
  files: ReceivedFile[];
  sizes: Size[];
  format: OutputFormat;
  fit: Fit;
  /** Given only when the client asked for one (else each format's default). */
  quality?: number;
  /** Given only for `cover`. */
  position?: Position;
  /** The zip's download name: the client's `archiveName`, or "<first original> and N more.zip". */
  archiveName: string;
}

/** One refused file of a batch, as the 4xx answer lists it under `error.files`. */
export interface RefusedFile {
  name: string;
  code: string;
  status: number;
  message: string;
}

export interface IntakeOptions {
  fileField: string;
  store: ObjectStore;
  /** This host's scratch directory (uploads to S3 are checked from a copy there). */
  scratchDir: string;
  limits: Limits;
  defaultSizes?: string;
  /** The per-client budget of requests and bytes (none: unlimited). */
  budget?: UploadBudget;
  /** Resolves when the store takes writes (a cached probe); an upload is refused with 503 before its body is read otherwise. */
  storageReady?: () => Promise<void>;
  /** An upload that sends nothing for this long is dropped (and its partial file removed). */
  idleTimeoutMs?: number;
}

const MAX_FIELD_BYTES = 4096;
const DEFAULT_IDLE_MS = 60_000;

const END_MARKERS: Record<ImageInfo['format'], string> = {
  jpeg: 'it ends before its end-of-image marker',
  png: 'it ends before its IEND chunk',
  gif: 'it ends before its trailer',
  webp: 'it is shorter than its RIFF header says',
  avif: 'a box runs past the end of the file',
  tiff: 'its image data runs past the end of the file',
};

/**
 * After a refusal the rest of the body is read and thrown away, so the client (which is still
 * sending) gets to read the answer, but only up to `cap` bytes: beyond that the connection is cut.
 */
function discardRest(raw: IncomingMessage, cap: number): void {
  if (raw.complete || raw.destroyed) return;
  raw.unpipe();
  let left = cap;
  raw.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) raw.destroy();
  });
  raw.resume();
}

/** Drops the client after `ms` of silence (0: no more). Requests made with Fastify's inject have no socket to time. */
function idleTimeout(raw: FastifyRequest['raw'], ms: number): void {
  if (typeof raw.setTimeout !== 'function') return;
  if (ms === 0) raw.setTimeout(0);
  else raw.setTimeout(ms, () => raw.destroy());
}

export async function receiveThumbnailRequest(request: FastifyRequest, options: IntakeOptions): Promise<ThumbnailRequest> {
  const raw = request.raw;
  const { limits } = options;
  const discardCap = limits.maxUploadBytes + 1024 * 1024;
  // A client that stalls mid-body is dropped: the multipart parser then ends with an error and the partial file goes.
  idleTimeout(raw, options.idleTimeoutMs ?? DEFAULT_IDLE_MS);
  const budget = options.budget;
  const client = clientKey(request.ip);
  let metering: ReturnType<UploadBudget['meter']> | undefined;
  const files: ReceivedFile[] = [];
  try {
    if (!request.isMultipart()) throw thumbnailError.not_multipart();
    if (options.storageReady) await options.storageReady().catch(() => Promise.reject(storageUnavailable()));
    const announced = Number(request.headers['content-length']);
    if (budget) metering = budget.meter(client, await budget.admit(client, Number.isFinite(announced) ? announced : 0));
    const { fields, refused } = await readParts(request, options, files, metering?.meter);
    if (refused.length > 0) throw refusal(refused);
    if (files.length === 0) throw thumbnailError.no_files(options.fileField);
    const choices = parseChoices(fields);
    const sizes = parseSizes(fields.sizes ?? options.defaultSizes, { maxSizes: limits.maxSizes, maxDimension: limits.maxDimension });
    idleTimeout(raw, 0);
    await Promise.all(files.map((f) => f.release()));
    return { files, sizes, ...choices, archiveName: archiveNameFor(files.map((f) => f.name), fields.archiveName) };
  } catch (err) {
    await discardUploads(options.store, files);
    discardRest(raw, discardCap);
    throw translateMultipartError(err, limits);
  } finally {
    await metering?.settle();
  }
}

/** The format, fit, quality, crop position and zip name fields, checked against options.ts. */
export function parseChoices(fields: Record<string, string | undefined>): Pick<ThumbnailRequest, 'format' | 'fit' | 'quality' | 'position'> {
  const pick = <T extends string>(field: 'format' | 'fit' | 'position', allowed: readonly T[], fallback: T): T => {
    // "center" is sharp's other spelling of the centre gravity.
    const value = (fields[field] ?? '').trim().toLowerCase().replace(/^center$/, 'centre') || fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw thumbnailError[`invalid_${field}`](value, allowed);
    }
    return value as T;
  };
  const format = pick('format', OUTPUT_FORMATS, DEFAULT_FORMAT);
  const fit = pick('fit', FITS, DEFAULT_FIT);
  const position = pick('position', POSITIONS, DEFAULT_POSITION);
  if (fields.position?.trim() && position !== DEFAULT_POSITION && fit !== 'cover') {
    throw thumbnailError.invalid_position(position);
  }
  const choices: ReturnType<typeof parseChoices> = { format, fit };
  if (fit === 'cover') choices.position = position;
  const quality = fields.quality?.trim();
  if (quality) {
    const { min, max } = QUALITY_RANGE;
    if (!/^\d{1,3}$/.test(quality) || Number(quality) < min || Number(quality) > max) {
      throw thumbnailError.invalid_quality(quality, min, max);
    }
    choices.quality = Number(quality);
  }
  if ((fields.archiveName?.length ?? 0) > MAX_ARCHIVE_NAME * 4) {
    throw thumbnailError.invalid_archive_name(MAX_ARCHIVE_NAME);
  }
  return choices;
}

/**
 * One answer for every refused file: its status when they agree (413 for sizes, 415 for types, 422
 * for broken images), else 400; each file's own code and reason under `error.files`.
 */
function refusal(refused: RefusedFile[]): AppError {
  const first = refused[0]!;
  const files = refused.map((r) => ({ ...r }));
  if (refused.length === 1) return new AppError(first.code, `"${first.name}": ${first.message}`, first.status, { files });
  const same = <K extends 'code' | 'status'>(key: K) => refused.every((r) => r[key] === first[key]);
  const status = same('status') ? first.status : 400;
  const code = same('code') ? first.code : 'files_refused';
  const list = refused.map((r) => `"${r.name}": ${r.message}`).join(' ');
  return new AppError(code, `${refused.length} files were refused. ${list}`, status, { files });
}

async function readParts(
  request: FastifyRequest,
  options: IntakeOptions,
  files: ReceivedFile[],
  meter: Meter | undefined,
): Promise<{ fields: Record<string, string>; refused: RefusedFile[] }> {
  const { limits } = options;
  const fields: Record<string, string> = {};
  // Every file is read and checked, so one answer can name each bad one (stored ones are removed after).
  const refused: RefusedFile[] = [];
  const refuse = (name: string, err: AppError) => refused.push({ name, code: err.code, status: err.status, message: err.message });
  const parts = request.parts({
    limits: { fileSize: limits.maxUploadBytes, files: limits.maxFiles, fields: 20, fieldSize: MAX_FIELD_BYTES, parts: limits.maxFiles + 20 },
  });
  for await (const part of parts) {
    if (part.type === 'field') {
      if (part.valueTruncated) throw thumbnailError.field_too_long(part.fieldname, MAX_FIELD_BYTES);
      if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      continue;
    }
    const shown = displayName(part.filename ?? '');
    if (part.fieldname !== options.fileField) {
      part.file.destroy();
      throw thumbnailError.unexpected_file_field(options.fileField, part.fieldname);
    }
    const saved = await saveUpload(options.store, options.scratchDir, part.file, meter);
    const stored = { upload: saved.id, key: saved.key, file: saved.file, release: saved.release, bytes: saved.bytes };
    if (part.file.truncated) {
      await discardUploads(options.store, [stored]);
      refuse(shown, thumbnailError.file_too_large('The file', formatMb(limits.maxUploadBytes)));
      continue;
    }
    if (saved.bytes === 0) {
      await discardUploads(options.store, [stored]);
      refuse(shown, thumbnailError.empty_file());
      continue;
    }
    let info: ImageInfo;
    try {
      info = await probeImage(saved.file, { maxPixels: limits.maxPixels });
      if (!(await isImageComplete(saved.file, info.format))) {
        throw thumbnailError.undecodable_image(`The ${info.format.toUpperCase()} image is incomplete (${END_MARKERS[info.format]}); upload the whole file.`);
      }
    } catch (err) {
      await discardUploads(options.store, [stored]);
      if (!(err instanceof AppError)) throw err;
      refuse(shown, err);
      continue;
    }
    files.push({ ...stored, info, name: safeFileName(part.filename ?? '', info.ext) });
  }
  return { fields, refused };
}

/** Removes the objects (and scratch copies) of uploads that will not be queued. */
export async function discardUploads(store: ObjectStore, files: Pick<ReceivedFile, 'key' | 'release'>[]): Promise<void> {
  await Promise.all(files.map((f) => f.release()));
  if (files.length) await store.deleteMany(files.map((f) => f.key)).catch(() => {});
}

function translateMultipartError(err: unknown, limits: Limits): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT')
    return thumbnailError.too_many_files(limits.maxFiles);
  if (code === 'FST_REQ_FILE_TOO_LARGE') return thumbnailError.file_too_large('A file', formatMb(limits.maxUploadBytes));
  if (code === 'FST_FIELDS_LIMIT') return thumbnailError.too_many_fields();
  if (code === 'FST_PROTO_VIOLATION' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return thumbnailError.bad_multipart();
  if (err instanceof Error && /Unexpected end of (form|multipart)|Malformed part header|boundary/i.test(err.message))
    return thumbnailError.bad_multipart(err.message);
  return err;
}

function formatMb(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}
