// Objects in an S3 bucket under a prefix (@aws-sdk/client-s3). Tested against OpenStack Swift's s3api,
// which shapes two settings: no aws-chunked bodies (checksums only WHEN_REQUIRED) and Content-MD5 on
// multi-object delete. Streams of unknown length go up with lib-storage's multipart Upload (parts of
// 8 MB, two in flight: the memory one upload may hold); files of known size with one PutObject.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { errorMessage } from '../errors.js';
import { meteredStream } from './metered.js';
import type { S3Target } from './target.js';
import {
  assertKey,
  assertPrefix,
  FILE_CHUNK_BYTES,
  ObjectNotFoundError,
  StorageUnavailableError,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
  type PresignOptions,
  type PutOptions,
  type PutResult,
} from './types.js';

const PART_BYTES = 8 * 1024 * 1024;
const DELETE_BATCH = 1000;

/** Network failures, throttling, 5xx, refused credentials and a missing bucket: the store is not usable now. */
function translate(err: unknown, what: string): unknown {
  if (err instanceof ObjectNotFoundError || err instanceof StorageUnavailableError) return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode ?? 0;
    if (err.name === 'NoSuchBucket') return new StorageUnavailableError(`${what}: the bucket does not exist`, 'refused', { cause: err });
    if (status === 403 || err.name === 'AccessDenied' || err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch')
      return new StorageUnavailableError(`${what}: access refused (${err.name})`, 'refused', { cause: err });
    if (status >= 500 || status === 429 || err.name === 'SlowDown')
      return new StorageUnavailableError(`${what}: the store answered ${status} (${err.name})`, 'unreachable', { cause: err });
    return err;
  }
  const code = (err as { code?: string } | undefined)?.code ?? '';
  const name = (err as { name?: string } | undefined)?.name ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code) || /Timeout|NetworkingError/.test(name))
    return new StorageUnavailableError(`${what}: ${errorMessage(err).split('\n')[0]}`, 'unreachable', { cause: err });
  return err;
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404);
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    target: S3Target,
    private readonly options: { deleteBatch?: number } = {},
  ) {
    this.bucket = target.bucket;
    this.prefix = target.prefix;
    this.description = `s3://${target.bucket}/${target.prefix}${target.endpoint ? ` at ${target.endpoint}` : ''}`;
    this.client = new S3Client({
      region: target.region,
      ...(target.endpoint ? { endpoint: target.endpoint } : {}),
      forcePathStyle: target.forcePathStyle,
      ...(target.credentials ? { credentials: target.credentials } : {}),
      // No aws-chunked bodies and no default CRC32 trailers: S3-compatible servers (Swift, older MinIO, Ceph) refuse or store them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3000, socketTimeout: 30_000 },
    });
    // Multi-object delete must carry Content-MD5 (Swift refuses it without; AWS accepts it).
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body?: unknown };
        if (context.commandName === 'DeleteObjectsCommand' && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', name: 'selerContentMd5', priority: 'low' },
    );
  }

  private key(key: string): string {
    assertKey(key);
    return this.prefix + key;
  }

  localPath(): undefined {
    return undefined;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.key(key);
    if (Buffer.isBuffer(body) && !options.meter) {
      await this.call(`cannot store ${key}`, (c) => c.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.length, ContentType: options.contentType })));
      return { bytes: body.length };
    }
    const { stream: counter, bytes: counted } = meteredStream(options.meter);
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    // A failing source must fail the upload: lib-storage only reads the stream it is given.
    let sourceError: unknown;
    source.once('error', (err) => {
      sourceError = err;
      counter.destroy(err);
    });
    source.pipe(counter);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: counter, ContentType: options.contentType },
      partSize: PART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    });
    counter.once('error', (err) => {
      sourceError ??= err;
      void upload.abort().catch(() => {});
    });
    try {
      await upload.done();
    } catch (err) {
      if (sourceError) throw sourceError;
      throw translate(err, `cannot store ${key}`);
    }
    if (sourceError) {
      // The stream ended with an error after the last part was sent: the object must not stay.
      await this.deleteMany([key]).catch(() => {});
      throw sourceError;
    }
    return { bytes: counted() };
  }

  async putFile(key: string, file: string, options: { contentType?: string; move?: boolean } = {}): Promise<PutResult> {
    const { size } = await stat(file);
    if (size > 4 * PART_BYTES) return this.put(key, createReadStream(file, { highWaterMark: FILE_CHUNK_BYTES }), options);
    const Key = this.key(key);
    await this.call(`cannot store ${key}`, (c) =>
      c.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: createReadStream(file, { highWaterMark: FILE_CHUNK_BYTES }), ContentLength: size, ContentType: options.contentType })),
    );
    return { bytes: size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key), Range }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw translate(err, `cannot read ${key}`);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { key, bytes: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw translate(err, `cannot read ${key}`);
    }
  }

  async deleteMany(keys: string[]): Promise<void> {
    const size = this.options.deleteBatch ?? DELETE_BATCH;
    for (let i = 0; i < keys.length; i += size) {
      const batch = keys.slice(i, i + size).map((k) => ({ Key: this.key(k) }));
      const out = await this.call('cannot delete objects', (c) => c.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })));
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length) throw new Error(`could not delete ${failed.length} objects (first: ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''})`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    let token: string | undefined;
    do {
      const ContinuationToken = token;
      const page = await this.call(`cannot list ${prefix || 'the bucket'}`, (c) =>
        c.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken })),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(this.prefix.length), bytes: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async presignedGetUrl(key: string, options: PresignOptions): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.key(key),
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
    });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
  }

  /** A probe object is written (one key, overwritten by every process): the bucket exists, the credentials may write. */
  async ready(): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}probe/ready`, Body: 'ok', ContentLength: 2 }),
        { abortSignal: AbortSignal.timeout(3000) },
      );
    } catch (err) {
      const translated = translate(err, `the object store ${this.description} is not usable`);
      throw new Error(errorMessage(translated), { cause: err });
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async call<T>(what: string, request: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await request(this.client);
    } catch (err) {
      throw translate(err, what);
    }
  }
}
