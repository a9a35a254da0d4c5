// The test S3 server is real: Swift's s3api checks signatures, pages listings, deletes in bulk and
// serves presigned URLs, the way the storage code will use it.
import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client, testSwift, uniqueBucket } from '../helpers/s3.js';
import type { Swift } from '../helpers/swift.js';

let swift: Swift;
let client: S3Client;
let bucket: string;

beforeAll(async () => {
  swift = await testSwift();
  client = s3Client(swift);
  bucket = uniqueBucket('swift');
  await swift.createBucket(bucket);
}, 120_000);

afterAll(() => client?.destroy());

/** Swift's multi-delete insists on Content-MD5 (the SDK sends a CRC32 checksum instead). */
function withContentMd5(s3: S3Client): S3Client {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body?: unknown };
      if (typeof request.body === 'string' || request.body instanceof Uint8Array) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'contentMd5ForSwift', priority: 'low' },
  );
  return s3;
}

describe('Swift as the test S3 server', () => {
  it('puts, gets whole and by range, and heads an object', async () => {
    const body = Buffer.from('0123456789abcdefghij'.repeat(1000));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.bin', Body: body, ContentType: 'application/octet-stream' }));

    const whole = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.bin' }));
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(body)).toBe(true);

    const range = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.bin', Range: 'bytes=10-19' }));
    expect(range.ContentRange).toBe(`bytes 10-19/${body.length}`);
    expect(await range.Body!.transformToString()).toBe('abcdefghij');

    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/b.bin' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('application/octet-stream');
    expect(head.LastModified).toBeInstanceOf(Date);

    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/missing' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('lists more than 1000 keys page by page and deletes them in bulk', async () => {
    const prefix = 'many/';
    const keys = Array.from({ length: 1010 }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let key = queue.shift(); key; key = queue.shift()) {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
        }
      }),
    );

    const listed: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      pages++;
      listed.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(2);
    expect(listed).toEqual(keys);

    const deleter = withContentMd5(s3Client(swift));
    try {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const result = await deleter.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        expect(result.Errors ?? []).toEqual([]);
      }
    } finally {
      deleter.destroy();
    }
    const after = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(after.KeyCount).toBe(0);
  }, 180_000);

  it('refuses a multi-delete without Content-MD5, so the storage code must send one', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5/x', Body: 'x' }));
    await expect(client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'md5/x' }] } }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5/x' }));
  });

  it('refuses a wrong secret with 403 (it checks signatures: not a mock)', async () => {
    const intruder = s3Client(swift, { credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: `${swift.secretAccessKey}x` } });
    try {
      await expect(intruder.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.bin' }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(intruder.send(new PutObjectCommand({ Bucket: bucket, Key: 'intruder', Body: 'x' }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      intruder.destroy();
    }
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'intruder' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('serves a presigned GET URL to plain fetch, and refuses it once tampered with', async () => {
    const body = Buffer.from('presigned bytes');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'signed/file.txt', Body: body }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'signed/file.txt' }), { expiresIn: 60 });
    expect(url).toContain('X-Amz-Signature=');

    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);

    const other = url.replace('signed/file.txt', 'a/b.bin');
    expect((await fetch(other)).status).toBe(403);
    const expired = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'signed/file.txt' }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 60_000),
    });
    expect((await fetch(expired)).status).toBe(403);
    const anonymous = await fetch(url.split('?')[0]!);
    // No S3 signature at all: Swift takes it for one of its own (unversioned) paths and refuses it.
    expect(anonymous.status).toBe(400);
    expect(await anonymous.text()).not.toContain('presigned bytes');
  });
});
