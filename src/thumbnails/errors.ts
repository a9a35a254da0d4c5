// Every error the thumbnail API answers with, declared once (docs/errors.md lists them). Codes with
// several sentences (what exactly is wrong with a size or an image) take the sentence from the call site.
import { errorCatalogue, retryAfter } from '../platform/errors.js';

const oneOf = (field: string) => (got: string, allowed: readonly string[]) => `${field} must be one of ${allowed.join(', ')}; got "${got.slice(0, 40)}".`;

export const THUMBNAIL_ERRORS = {
  invalid_sizes: { status: 400, message: (problem: string) => problem },
  invalid_format: { status: 400, message: oneOf('format') },
  invalid_fit: { status: 400, message: oneOf('fit') },
  /** Not a known position, or (without `allowed`) a position with a fit other than cover. */
  invalid_position: {
    status: 400,
    message: (got: string, allowed?: readonly string[]) =>
      allowed ? oneOf('position')(got, allowed) : `position "${got}" applies only to fit=cover (the other fits keep the whole image).`,
  },
  invalid_quality: { status: 400, message: (got: string, min: number, max: number) => `quality must be a whole number from ${min} to ${max}; got "${got.slice(0, 40)}".` },
  invalid_archive_name: { status: 400, message: (maxCharacters: number) => `archiveName is longer than ${maxCharacters} characters.` },
  not_multipart: { status: 400, message: () => 'Send the images as multipart/form-data.' },
  no_files: { status: 400, message: (fileField: string) => `Attach at least one image in the field "${fileField}".` },
  field_too_long: { status: 400, message: (field: string, maxBytes: number) => `The field "${field.slice(0, 40)}" is longer than ${maxBytes} bytes.` },
  unexpected_file_field: { status: 400, message: (fileField: string, got: string) => `Files go in the field "${fileField}", not "${got.slice(0, 40)}".` },
  too_many_fields: { status: 400, message: () => 'Too many form fields.' },
  bad_multipart: { status: 400, message: (detail?: string) => (detail === undefined ? 'The multipart body is malformed.' : `The multipart body is malformed: ${detail}.`) },
  too_many_files: { status: 413, message: (maxFiles: number) => `At most ${maxFiles} files per request.` },
  /** `which`: "The file" for one file of the answer, "A file" when the multipart parser stopped. */
  file_too_large: { status: 413, message: (which: 'The file' | 'A file', limit: string) => `${which} is larger than the limit of ${limit}.` },
  too_many_pixels: { status: 413, message: (problem: string) => problem },
  unsupported_format: { status: 415, message: (problem: string) => problem },
  empty_file: { status: 422, message: () => 'The file is empty.' },
  undecodable_image: { status: 422, message: (problem: string) => problem },
  upload_rate_limited: {
    status: 429,
    message: (count: number, period: string, seconds: number) => `Too many uploads: at most ${count} per ${period}. Try again in ${Math.ceil(seconds)} s.`,
    headers: (_count: number, _period: string, seconds: number) => retryAfter(seconds),
  },
  upload_budget_exceeded: {
    status: 429,
    message: (megabytes: number, period: string, seconds: number) => `Upload budget used up: at most ${megabytes} MB of images per ${period}. Try again in ${Math.ceil(seconds)} s.`,
    headers: (_megabytes: number, _period: string, seconds: number) => retryAfter(seconds),
  },
  storage_unavailable: { status: 503, message: (why: string) => `The server cannot store uploads right now (${why}); try again later.`, headers: () => retryAfter(30) },
  file_not_found: { status: 404, message: (taskId: string, name: string) => `Task "${taskId}" has no file "${name}".` },
  not_ready: { status: 404, message: (taskId: string, status: string) => `Task "${taskId}" has no files yet (status ${status}).` },
  file_gone: { status: 404, message: () => 'The file has been cleaned up (past the retention period).' },
} as const;

export const thumbnailError = errorCatalogue(THUMBNAIL_ERRORS);
