// Downloads from the store. A thumbnail is streamed, or redirected (302) to a short-lived presigned
// URL of the store when SELER_STORAGE_REDIRECT=presigned. The zip is always streamed by the web role:
// it is assembled on the fly from the stored originals and thumbnails, so no object holds it.
import type { FastifyReply } from 'fastify';
import { thumbnailError } from './errors.js';
import { isObjectNotFound, isStorageUnavailable, type ObjectStore } from '../platform/storage/index.js';
import { streamArchive } from './archive.js';
import { contentDisposition } from './naming.js';
import { manifestKey, storageUnavailable, type ArchiveManifest } from './storage.js';

const gone = () => thumbnailError.file_gone();

/** A store that cannot answer is a 503, a missing object the 404 `file_gone`; anything else is thrown as it is. */
function translate(err: unknown): unknown {
  if (isObjectNotFound(err)) return gone();
  if (isStorageUnavailable(err)) return storageUnavailable(err);
  return err;
}

function headers(reply: FastifyReply, type: string, downloadName: string, disposition: 'attachment' | 'inline') {
  return reply
    .header('content-type', type)
    .header('content-disposition', contentDisposition(downloadName).replace(/^attachment/, disposition))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, max-age=3600');
}

export async function sendObject(
  reply: FastifyReply,
  store: ObjectStore,
  key: string,
  options: { type: string; downloadName: string; disposition: 'attachment' | 'inline'; redirect: 'off' | 'presigned'; urlTtlSeconds: number },
) {
  const info = await store.head(key).catch((err: unknown) => Promise.reject(translate(err)));
  if (!info) throw gone();
  const disposition = contentDisposition(options.downloadName).replace(/^attachment/, options.disposition);
  if (options.redirect === 'presigned' && store.presignedGetUrl) {
    const url = await store.presignedGetUrl(key, { expiresInSeconds: options.urlTtlSeconds, contentType: options.type, contentDisposition: disposition });
    // The URL is a bearer credential for this object until it expires: not cached by anyone else.
    return reply.header('cache-control', 'private, no-store').redirect(url, 302);
  }
  const body = await store.get(key).catch((err: unknown) => Promise.reject(translate(err)));
  return headers(reply, options.type, options.downloadName, options.disposition).header('content-length', info.bytes).send(body);
}

export async function sendArchive(reply: FastifyReply, store: ObjectStore, taskId: string, downloadName: string) {
  let manifest: ArchiveManifest;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(manifestKey(taskId))) chunks.push(chunk as Buffer);
    manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ArchiveManifest;
  } catch (err) {
    throw translate(err);
  }
  // Originals are the oldest objects of a task, so the first the retention removes: checked before the
  // first byte is sent (thumbnails go with their manifest, as one group).
  const originals = manifest.entries.filter((e) => e.key.startsWith('uploads/'));
  const present = await Promise.all(originals.map((e) => store.head(e.key))).catch((err: unknown) => Promise.reject(translate(err)));
  if (present.some((info) => !info)) throw gone();
  const { stream, bytes } = streamArchive(
    manifest.entries.map((e) => ({ name: e.name, bytes: e.bytes, open: () => store.get(e.key) })),
    new Date(manifest.createdAt),
  );
  return headers(reply, 'application/zip', downloadName, 'attachment').header('content-length', bytes).send(stream);
}
