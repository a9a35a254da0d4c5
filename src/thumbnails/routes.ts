// The Thumbnailer's HTTP API: the REST contract, downloads, and the lab's own two endpoints.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Limits } from '../config.js';
import { notFound } from '../platform/errors.js';
import { errorSchema } from '../platform/http.js';
import { requireTask, type TaskClient } from '../tasks/index.js';
import { contentDisposition, fileStem } from './naming.js';
import { ARCHIVE_FILE, resultDir, type MediaPaths } from './storage.js';
import type { MakeThumbnailsResult } from './task.js';
import { receiveThumbnailRequest, type ThumbnailRequest } from './uploads.js';

export interface ThumbnailRouteDeps {
  client: TaskClient;
  media: MediaPaths;
  limits: Limits;
}

const accepted = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/tiff', 'image/avif'];

export function registerThumbnailRoutes(app: FastifyInstance, deps: ThumbnailRouteDeps): void {
  const { client, media, limits } = deps;

  const enqueue = (request: ThumbnailRequest) =>
    client.enqueue('thumbnails.make', {
      args: [
        {
          files: request.files.map((f) => ({ upload: f.upload, name: f.name })),
          sizes: request.sizes,
          format: request.format,
          fit: request.fit,
        },
      ],
    });

  app.get('/api/v1/config', { schema: { tags: ['thumbnails'], summary: 'Limits and choices the upload form needs' } }, async () => ({
    limits,
    formats: ['original', 'jpeg', 'png', 'webp', 'avif'],
    fits: ['inside', 'cover', 'contain'],
    accepted,
  }));

  app.post(
    '/api/v1/thumbnails',
    {
      schema: {
        tags: ['thumbnails'],
        summary: 'Upload images and queue their thumbnails',
        description:
          'multipart/form-data: files in `images` (one or more); optional `sizes` ("128x128,256x256"), `format` (original|jpeg|png|webp|avif), `fit` (inside|cover|contain). The format is detected from the bytes.',
        consumes: ['multipart/form-data'],
        response: {
          202: {
            type: 'object',
            properties: { id: { type: 'string' }, status: { type: 'string' }, statusUrl: { type: 'string' }, eventsUrl: { type: 'string' } },
          },
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const received = await receiveThumbnailRequest(request, { fileField: 'images', media, limits });
      const { id } = await enqueue(received);
      const statusUrl = `/api/v1/tasks/${id}`;
      return reply.status(202).header('location', statusUrl).send({ id, status: 'PENDING', statusUrl, eventsUrl: `${statusUrl}/events` });
    },
  );

  // The lab's form: field `image_file`, one 128x128 thumbnail, answered with {task_id}.
  app.post('/', { schema: { tags: ['lab'], summary: 'The lab’s upload (multipart field `image_file`)', consumes: ['multipart/form-data'] } }, async (request, reply) => {
    const received = await receiveThumbnailRequest(request, { fileField: 'image_file', media, limits, defaultSizes: '128x128' });
    const { id } = await enqueue(received);
    return reply.status(202).send({ task_id: id });
  });

  app.get<{ Params: { id: string } }>(
    '/task/:id/',
    { schema: { tags: ['lab'], summary: 'The lab’s status: {task_id, task_status, results: {archive_path}}' } },
    async (request) => {
      const task = await requireTask(client, request.params.id);
      const body: Record<string, unknown> = { task_id: task.id, task_status: task.status };
      if (task.status === 'SUCCESS') body.results = { archive_path: (task.result as MakeThumbnailsResult).archiveUrl };
      if (task.error) body.error = task.error.message;
      return body;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id/archive',
    { schema: { tags: ['thumbnails'], summary: 'The zip of the originals and their thumbnails' } },
    async (request, reply) => {
      const { task, result } = await finishedThumbnailTask(client, request.params.id);
      const downloadName = `${fileStem(result.files[0]?.source ?? 'thumbnails')}.zip`;
      return sendFile(reply, path.join(resultDir(media, task.id), ARCHIVE_FILE), 'application/zip', downloadName);
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/api/v1/tasks/:id/files/:name',
    { schema: { tags: ['thumbnails'], summary: 'One thumbnail' } },
    async (request, reply) => {
      const { task, result } = await finishedThumbnailTask(client, request.params.id);
      // Only names the task itself produced are served; the request's name is never used as a path.
      const file = result.files.find((f) => f.name === request.params.name);
      if (!file) throw notFound(`Task "${task.id}" has no file "${request.params.name}".`, 'file_not_found');
      return sendFile(reply, path.join(resultDir(media, task.id), file.name), mimeOf(file.format), file.name, 'inline');
    },
  );
}

async function finishedThumbnailTask(client: TaskClient, id: string) {
  const task = await requireTask(client, id);
  if (task.name !== 'thumbnails.make') throw notFound(`Task "${id}" is not a thumbnail task.`, 'not_a_thumbnail_task');
  if (task.status !== 'SUCCESS') throw notFound(`Task "${id}" has no files yet (status ${task.status}).`, 'not_ready');
  return { task, result: task.result as MakeThumbnailsResult };
}

async function sendFile(reply: FastifyReply, file: string, type: string, downloadName: string, disposition: 'attachment' | 'inline' = 'attachment') {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw notFound('The file has been cleaned up (past the retention period).', 'file_gone');
  return reply
    .header('content-type', type)
    .header('content-length', info.size)
    .header('content-disposition', contentDisposition(downloadName).replace(/^attachment/, disposition))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, max-age=3600')
    .send(createReadStream(file));
}

function mimeOf(format: string): string {
  return format === 'jpeg' ? 'image/jpeg' : `image/${format}`;
}
