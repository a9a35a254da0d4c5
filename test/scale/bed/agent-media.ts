// The agent's media operations (loaded only when a scenario needs them): deterministic test photos
// uploaded as multipart, downloads hashed, and the S3 bucket (Swift) made and listed from inside the bed.
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { createBucket, s3ClientConfig, type SwiftInfo } from '../../helpers/swift.js';

/** A photo-like JPEG (smooth gradients and a pattern, so thumbnails differ by size), the same for the same seed. */
async function photo(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 255) / width + seed * 37;
      raw[i + 1] = (y * 255) / height + seed * 11;
      raw[i + 2] = ((x ^ y) + seed * 53) & 0xff;
    }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

export async function upload(req: { url: string; images: { name: string; width: number; height: number; seed: number }[]; fields?: Record<string, string> }) {
  const form = new FormData();
  for (const image of req.images) form.append('images', new Blob([await photo(image.width, image.height, image.seed)], { type: 'image/jpeg' }), image.name);
  for (const [k, v] of Object.entries(req.fields ?? {})) form.append(k, v);
  const res = await fetch(req.url, { method: 'POST', body: form, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: await res.text() };
}

export async function download(req: { url: string }) {
  const res = await fetch(req.url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), contentType: res.headers.get('content-type') };
}

export async function makeBucket(req: { swift: SwiftInfo; bucket: string }) {
  await createBucket(req.swift, req.bucket);
  return { ok: true };
}

export async function listObjects(req: { swift: SwiftInfo; bucket: string; prefix?: string }) {
  const client = new S3Client(s3ClientConfig(req.swift));
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: req.bucket, Prefix: req.prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys };
  } finally {
    client.destroy();
  }
}
