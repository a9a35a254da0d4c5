// Receives a multipart upload: files are streamed to generated names, checked from their bytes,
// and removed again if anything in the request is refused.
import type { FastifyRequest } from 'fastify';
import type { Limits } from '../config.js';
import { AppError, badRequest, tooLarge } from '../platform/errors.js';
import { probeImage, type Fit, type ImageInfo, type OutputFormat } from './image.js';
import { parseSizes, type Size } from './naming.js';
import { removeQuietly, saveUpload, type MediaPaths } from './storage.js';

export interface ReceivedFile {
  upload: string;
  file: string;
  name: string;
  bytes: number;
  info: ImageInfo;
}

export interface ThumbnailRequest {
  files: ReceivedFile[];
  sizes: Size[];
  format: OutputFormat;
  fit: Fit;
}

const FORMATS: readonly OutputFormat[] = ['original', 'jpeg', 'png', 'webp', 'avif'];
const FITS: readonly Fit[] = ['inside', 'cover', 'contain'];
const MAX_FIELD_BYTES = 4096;

export async function receiveThumbnailRequest(
  request: FastifyRequest,
  options: { fileField: string; media: MediaPaths; limits: Limits; defaultSizes?: string },
): Promise<ThumbnailRequest> {
  if (!request.isMultipart()) throw badRequest('not_multipart', 'Send the images as multipart/form-data.');
  const { limits } = options;
  const files: ReceivedFile[] = [];
  const fields: Record<string, string> = {};
  try {
    const parts = request.parts({
      limits: { fileSize: limits.maxUploadBytes, files: limits.maxFiles, fields: 20, fieldSize: MAX_FIELD_BYTES, parts: limits.maxFiles + 20 },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.valueTruncated) throw badRequest('field_too_long', `The field "${part.fieldname}" is longer than ${MAX_FIELD_BYTES} bytes.`);
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname !== options.fileField) {
        part.file.resume();
        throw badRequest('unexpected_file_field', `Files go in the field "${options.fileField}", not "${part.fieldname}".`);
      }
      const saved = await saveUpload(options.media, part.file);
      const name = part.filename || 'image';
      if (part.file.truncated) {
        await removeQuietly(saved.file);
        throw tooLarge('file_too_large', `"${name}" is larger than the limit of ${formatMb(limits.maxUploadBytes)}.`);
      }
      const received: ReceivedFile = { upload: saved.id, file: saved.file, name, bytes: saved.bytes, info: undefined as unknown as ImageInfo };
      files.push(received);
      if (saved.bytes === 0) throw new AppError('empty_file', `"${name}" is empty.`, 422);
      try {
        received.info = await probeImage(saved.file, { maxPixels: limits.maxPixels });
      } catch (err) {
        if (err instanceof AppError) throw new AppError(err.code, `"${name}": ${err.message}`, err.status);
        throw err;
      }
    }
  } catch (err) {
    await removeQuietly(...files.map((f) => f.file));
    throw translateMultipartError(err, limits);
  }

  try {
    if (files.length === 0) throw badRequest('no_files', `Attach at least one image in the field "${options.fileField}".`);
    const format = (fields.format ?? 'original').toLowerCase() as OutputFormat;
    if (!FORMATS.includes(format)) throw badRequest('invalid_format', `format must be one of ${FORMATS.join(', ')}.`);
    const fit = (fields.fit ?? 'inside').toLowerCase() as Fit;
    if (!FITS.includes(fit)) throw badRequest('invalid_fit', `fit must be one of ${FITS.join(', ')}.`);
    const sizes = parseSizes(fields.sizes ?? options.defaultSizes, { maxSizes: limits.maxSizes, maxDimension: limits.maxDimension });
    return { files, sizes, format, fit };
  } catch (err) {
    await removeQuietly(...files.map((f) => f.file));
    throw err;
  }
}

function translateMultipartError(err: unknown, limits: Limits): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT')
    return tooLarge('too_many_files', `At most ${limits.maxFiles} files per request.`);
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge('file_too_large', `A file is larger than the limit of ${formatMb(limits.maxUploadBytes)}.`);
  if (code === 'FST_FIELDS_LIMIT') return badRequest('too_many_fields', 'Too many form fields.');
  if (code === 'FST_PROTO_VIOLATION' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return badRequest('bad_multipart', 'The multipart body is malformed.');
  if (err instanceof Error && /Unexpected end of (form|multipart)|Malformed part header|boundary/i.test(err.message))
    return badRequest('bad_multipart', `The multipart body is malformed: ${err.message}.`);
  return err;
}

function formatMb(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}
