// The Thumbnailer's HTTP API: the REST contract, downloads, and the lab's own two endpoints.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Limits } from '../config.js';
import { thumbnailError } from './errors.js';
import { errorResponse } from '../platform/api-shapes.js';
import type { ObjectStore } from '../platform/storage/index.js';
import { CANCEL_TOKEN_HEADER, taskNotFound, type TaskAccess, type TaskClient } from '../tasks/index.js';
import { sendArchive, sendObject } from './downloads.js';
import { archiveNameFor } from './naming.js';
import {
  ACCEPTED_TYPES,
  DEFAULT_FIT,
  DEFAULT_FORMAT,
  DEFAULT_POSITION,
  DEFAULT_QUALITY,
  describeFormats,
  FITS,
  GRAVITIES,
  MAX_ARCHIVE_NAME,
  OUTPUT_FORMATS,
  POSITIONS,
  QUALITY_RANGE,
  SMART_CROPS,
} from './options.js';
import { resultKey } from './storage.js';
import type { MakeThumbnailsResult } from './task.js';
import { discardUploads, receiveThumbnailRequest, type IntakeOptions, type ThumbnailRequest } from './uploads.js';

const binaryFile = z.string().meta({ format: 'binary' });

/** The upload form as /docs shows it ("Try it out" offers a file picker for `images`); uploads.ts reads the stream. */
const uploadForm = z.object({
  images: z.array(binaryFile).describe(`one or more images (${describeFormats()}), recognised from their bytes`),
  sizes: z.string().optional().describe('comma-separated WxH, e.g. 128x128,256x256 (default 128x128)').meta({ example: '128x128,256x256' }),
  format: z.enum(OUTPUT_FORMATS).default(DEFAULT_FORMAT),
  fit: z.enum(FITS).default(DEFAULT_FIT),
  quality: z
    .number()
    .int()
    .min(QUALITY_RANGE.min)
    .max(QUALITY_RANGE.max)
    .optional()
    .describe(`JPEG, WebP and AVIF quality (default ${Object.entries(DEFAULT_QUALITY).map(([f, q]) => `${f} ${q}`).join(', ')}); PNG and GIF ignore it`),
  position: z
    .enum(POSITIONS)
    .default(DEFAULT_POSITION)
    .describe(`where fit=cover crops: ${SMART_CROPS.join(' or ')} (smart crop) or a gravity (${GRAVITIES.join(', ')}); refused with other fits`),
  archiveName: z.string().max(MAX_ARCHIVE_NAME).optional().describe('the zip’s download name (cleaned; default "<first image> and N more")'),
});

/** A refused upload: every bad file, each with its own code and reason (the first also in `message`). */
const refusedResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    files: z
      .array(z.object({ name: z.string(), code: z.string(), status: z.number().int(), message: z.string() }).partial())
      .optional()
      .describe('each refused file (when files were refused)'),
  }),
});

const uploadErrors = { 400: refusedResponse, 413: refusedResponse, 415: refusedResponse, 422: refusedResponse, 429: errorResponse, 503: errorResponse };

const labUploadForm = z.object({ image_file: binaryFile.describe('one image') });

const names = z.array(z.string()).readonly();

const configResponse = z.object({
  limits: z
    .object({ maxUploadBytes: z.number(), maxFiles: z.number(), maxPixels: z.number(), maxSizes: z.number(), maxDimension: z.number() })
    .describe('upload limits (bytes, files, pixels, sizes)'),
  formats: names,
  fits: names,
  positions: names.describe('where fit=cover may crop'),
  quality: z.object({ min: z.number().int(), max: z.number().int(), defaults: z.record(z.string(), z.number().int()) }),
  accepted: names.describe('the image types the server reads'),
});

const labStatusResponse = z.object({
  task_id: z.string(),
  task_status: z.string(),
  results: z.object({ archive_path: z.string() }).optional(),
  error: z.string().optional(),
});

export interface ThumbnailRouteDeps {
  client: TaskClient;
  /** Who may read which task (the same rule as GET /api/v1/tasks/<id>). */
  access: TaskAccess;
  store: ObjectStore;
  /** This host's scratch directory (uploads to S3 are checked from a copy there). */
  scratchDir: string;
  limits: Limits;
  /** Single files: streamed, or a 302 to a presigned URL of the store valid `urlTtlSeconds`. */
  downloads?: { redirect: 'off' | 'presigned'; urlTtlSeconds: number };
  /** The upload budget, the storage probe and the idle timeout of uploads. */
  intake?: Pick<IntakeOptions, 'budget' | 'storageReady' | 'idleTimeoutMs'>;
}


export function registerThumbnailRoutes(server: FastifyInstance, deps: ThumbnailRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, access, store, scratchDir, limits } = deps;
  const intake = deps.intake ?? {};
  const downloads = deps.downloads ?? { redirect: 'off', urlTtlSeconds: 300 };

  // An anonymous upload: the task is marked as the uploader's (served by id, cancelled with the token).
  // A request whose task could not be queued (Redis down: 503) leaves no objects behind.
  const enqueue = async (request: ThumbnailRequest): Promise<{ id: string; cancelToken: string }> => {
    const queued = client.enqueue('thumbnails.make', {
      anonymousOwner: true,
      args: [
        {
          files: request.files.map((f) => ({ upload: f.upload, name: f.name })),
          sizes: request.sizes,
          format: request.format,
          fit: request.fit,
          ...(request.quality !== undefined ? { quality: request.quality } : {}),
          ...(request.position !== undefined ? { position: request.position } : {}),
          archiveName: request.archiveName,
        },
      ],
    });
    const { id, cancelToken } = await queued.catch(async (err: unknown) => {
      await discardUploads(store, request.files);
      throw err;
    });
    return { id, cancelToken: cancelToken! };
  };

  app.get('/api/v1/config', { schema: { tags: ['thumbnails'], summary: 'Limits and choices the upload form needs', response: { 200: configResponse } } }, async () => ({
    limits,
    formats: OUTPUT_FORMATS,
    fits: FITS,
    positions: POSITIONS,
    quality: { ...QUALITY_RANGE, defaults: DEFAULT_QUALITY },
    accepted: ACCEPTED_TYPES,
  }));

  app.post(
    '/api/v1/thumbnails',
    {
      config: { multipartBody: uploadForm },
      schema: {
        tags: ['thumbnails'],
        summary: 'Upload images and queue their thumbnails',
        description:
          `multipart/form-data: files in \`images\` (one or more); optional \`sizes\` ("128x128,256x256"), \`format\` (${OUTPUT_FORMATS.join('|')}), \`fit\` (${FITS.join('|')}), \`quality\` (${QUALITY_RANGE.min}–${QUALITY_RANGE.max}), \`position\` (fit=cover only: ${POSITIONS.join('|')}), \`archiveName\`. The format is detected from the bytes. Every bad file is reported in one answer: \`error.files\` lists each with its code and reason.`,
        consumes: ['multipart/form-data'],
        response: {
          202: z.object({
            id: z.string(),
            status: z.string(),
            statusUrl: z.string(),
            eventsUrl: z.string(),
            cancelToken: z.string().describe(`Revokes the task: DELETE statusUrl with header ${CANCEL_TOKEN_HEADER}. Given only here; keep it.`),
          }),
          ...uploadErrors,
        },
      },
    },
    async (request, reply) => {
      const received = await receiveThumbnailRequest(request, { fileField: 'images', store, scratchDir, limits, ...intake });
      const { id, cancelToken } = await enqueue(received);
      const statusUrl = `/api/v1/tasks/${id}`;
      return reply
        .status(202)
        .header('location', statusUrl)
        .header('cache-control', 'no-store')
        .send({ id, status: 'PENDING', statusUrl, eventsUrl: `${statusUrl}/events`, cancelToken });
    },
  );

  // The lab's form: field `image_file`, one 128x128 thumbnail, answered with {task_id}.
  app.post(
    '/',
    {
      config: { multipartBody: labUploadForm },
      schema: {
        tags: ['lab'],
        summary: 'The lab’s upload (multipart field `image_file`): one 128x128 thumbnail',
        consumes: ['multipart/form-data'],
        response: { 202: z.object({ task_id: z.string() }), ...uploadErrors },
      },
    },
    async (request, reply) => {
      const received = await receiveThumbnailRequest(request, { fileField: 'image_file', store, scratchDir, limits, defaultSizes: '128x128', ...intake });
      // The lab's answer stays {task_id}: its page has no cancel (staff can revoke it).
      const { id } = await enqueue(received);
      return reply.status(202).send({ task_id: id });
    },
  );

  app.get(
    '/task/:id/',
    {
      schema: {
        tags: ['lab'],
        summary: 'The lab’s status: {task_id, task_status, results: {archive_path}}',
        params: z.object({ id: z.string() }),
        response: { 200: labStatusResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { view: task } = await access.read(request, request.params.id);
      const body: z.input<typeof labStatusResponse> = { task_id: task.id, task_status: task.status };
      if (task.status === 'SUCCESS') body.results = { archive_path: (task.result as MakeThumbnailsResult).archiveUrl };
      if (task.error) body.error = task.error.message;
      return body;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id/archive',
    {
      config: { produces: { type: 'application/zip', binary: true, description: 'The zip: each original and its thumbnails', errors: [404, 409, 410] } },
      schema: { tags: ['thumbnails'], summary: 'The zip of the originals and their thumbnails' },
    },
    async (request, reply) => {
      const { task, result } = await finishedThumbnailTask(access, request, request.params.id);
      // The name chosen at upload; tasks made before it was kept: named from their originals.
      const downloadName = result.archiveName ?? archiveNameFor([...new Set(result.files.map((f) => f.source))]);
      return sendArchive(reply, store, task.id, downloadName);
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/api/v1/tasks/:id/files/:name',
    {
      config: { produces: { type: 'image/*', binary: true, description: 'The thumbnail, in the format it was made in', errors: [404, 409, 410] } },
      schema: { tags: ['thumbnails'], summary: 'One thumbnail' },
    },
    async (request, reply) => {
      const { task, result } = await finishedThumbnailTask(access, request, request.params.id);
      // Only names the task itself produced are served; the request's name is never used as a path.
      const file = result.files.find((f) => f.name === request.params.name);
      if (!file) throw thumbnailError.file_not_found(task.id, request.params.name);
      return sendObject(reply, store, resultKey(task.id, file.name), { type: mimeOf(file.format), downloadName: file.name, disposition: 'inline', ...downloads });
    },
  );
}

async function finishedThumbnailTask(access: TaskAccess, request: FastifyRequest, id: string) {
  const { view: task } = await access.read(request, id);
  if (task.name !== 'thumbnails.make') throw taskNotFound();
  if (task.status !== 'SUCCESS') throw thumbnailError.not_ready(id, task.status);
  return { task, result: task.result as MakeThumbnailsResult };
}

function mimeOf(format: string): string {
  return format === 'jpeg' ? 'image/jpeg' : `image/${format}`;
}
