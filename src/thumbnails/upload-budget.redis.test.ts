// The per-client upload budget against the real Redis: exact accounting under parallel uploads and
// several web processes, windows that end, Redis trouble; then over HTTP, with X-Forwarded-For
// standing in for many clients (SELER_TRUST_PROXY=true).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { multipartBody, rawPost, type RawPart } from '../../test/helpers/raw-http.js';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { AppError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { connectRedis, isRedisUnavailableError, keyspace, type Redis } from '../platform/redis.js';
import { makeJpeg, makeNoisyJpeg } from './test-images.js';
import { UploadBudget } from './upload-budget.js';

const KB = 1024;
const MB = 1024 * 1024;

let redis: Redis;
const prefix = uniquePrefix('budget');
const keys = keyspace(prefix);
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(async () => {
  await deleteKeys(redis, `{${prefix}}*`);
  redis.disconnect();
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).status).toBe(429);
  return err as AppError;
}

/** Streams `total` bytes through a meter in 64 KB chunks; resolves with the bytes it was allowed to pass. */
async function stream(budget: UploadBudget, client: string, total: number, reserved = 0): Promise<{ passed: number; refused: boolean }> {
  const { meter, settle } = budget.meter(client, reserved);
  let passed = 0;
  try {
    for (let sent = 0; sent < total; sent += 64 * KB) {
      const n = Math.min(64 * KB, total - sent);
      await meter!(n);
      passed += n;
    }
    return { passed, refused: false };
  } catch (err) {
    expect((err as AppError).code).toBe('upload_budget_exceeded');
    return { passed, refused: true };
  } finally {
    await settle();
  }
}

const used = async (client: string) => Number((await redis.get(keys.key('upload', 'bytes', client))) ?? 0);

describe('UploadBudget', () => {
  it('counts requests per window and refuses the next with 429 upload_rate_limited and Retry-After', async () => {
    const budget = new UploadBudget(redis, keys, { requests: { count: 3, periodMs: 60_000 } });
    for (let i = 0; i < 3; i++) await budget.admit('r1');
    const err = await refusal(budget.admit('r1'));
    expect(err.code).toBe('upload_rate_limited');
    expect(Number(err.headers!['retry-after'])).toBeGreaterThan(50);
    expect(Number(err.headers!['retry-after'])).toBeLessThanOrEqual(60);
    await budget.admit('r2'); // another client is not affected
    const ttl = await redis.pttl(keys.key('upload', 'requests', 'r1'));
    expect(ttl).toBeGreaterThan(0); // counters always expire: no key is left forever
  });

  it('admits 40 parallel requests exactly up to the limit', async () => {
    const budget = new UploadBudget(redis, keys, { requests: { count: 10, periodMs: 60_000 } });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => budget.admit('r3')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
  });

  it('a window ends: the client may upload again', async () => {
    const budget = new UploadBudget(redis, keys, { requests: { count: 1, periodMs: 300 }, bytes: { count: 100 * KB, periodMs: 300 } });
    await budget.admit('w1');
    await refusal(budget.admit('w1'));
    expect((await stream(budget, 'w2', 200 * KB)).refused).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    await budget.admit('w1');
    expect(await stream(budget, 'w2', 100 * KB)).toEqual({ passed: 100 * KB, refused: false });
  });

  it('reserves what a request announces, all or nothing, and refuses one announcing more than is left', async () => {
    const budget = new UploadBudget(redis, keys, { bytes: { count: 1 * MB, periodMs: 60_000 } });
    const reserved = await budget.admit('a1', 950 * KB);
    expect(reserved).toBe(950 * KB);
    expect(await used('a1')).toBe(950 * KB);
    expect(await stream(budget, 'a1', 900 * KB, reserved)).toEqual({ passed: 900 * KB, refused: false });
    expect(await used('a1')).toBe(900 * KB); // the announced bytes not sent (multipart overhead) came back
    const err = await refusal(budget.admit('a1', 200 * KB));
    expect(err.code).toBe('upload_budget_exceeded');
    expect(err.message).toContain('1 MB');
    expect(await budget.admit('a1', 124 * KB)).toBe(124 * KB); // exactly what is left
    await refusal(budget.admit('a1', 0)); // nothing left at all: refused even without a length
  });

  it('parallel requests with a Content-Length: whole requests are admitted first come, first served, none fails half-way', async () => {
    const budget = new UploadBudget(redis, keys, { bytes: { count: 3 * MB, periodMs: 60_000 } });
    const results = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const reserved = await budget.admit('c1', 700 * KB).catch(() => -1);
        return reserved < 0 ? { passed: 0, refused: true } : stream(budget, 'c1', 700 * KB, reserved);
      }),
    );
    expect(results.filter((r) => !r.refused)).toHaveLength(4); // floor(3 MB / 700 KB)
    expect(results.every((r) => r.refused ? r.passed === 0 : r.passed === 700 * KB)).toBe(true);
    expect(await used('c1')).toBe(4 * 700 * KB);
  });

  it('stops a stream at the budget and returns unused credit exactly', async () => {
    const budget = new UploadBudget(redis, keys, { bytes: { count: 1 * MB, periodMs: 60_000 } });
    expect(await stream(budget, 's1', 300 * KB)).toEqual({ passed: 300 * KB, refused: false });
    expect(await used('s1')).toBe(300 * KB); // the slice reserved ahead was given back
    const second = await stream(budget, 's1', 2 * MB);
    expect(second.refused).toBe(true);
    expect(300 * KB + second.passed).toBeLessThanOrEqual(1 * MB);
    expect(await used('s1')).toBe(300 * KB + second.passed);
  });

  it('parallel chunked uploads of one client, through two web processes, never pass more than the budget together', async () => {
    const other = await testRedis(); // a second web process: its own connection and its own UploadBudget
    try {
      const budgets = [new UploadBudget(redis, keys, { bytes: { count: 3 * MB, periodMs: 60_000 } }), new UploadBudget(other, keys, { bytes: { count: 3 * MB, periodMs: 60_000 } })];
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => stream(budgets[i % 2]!, 'p1', 700 * KB)));
      const passed = results.reduce((n, r) => n + r.passed, 0);
      expect(passed).toBeLessThanOrEqual(3 * MB); // not one byte over: a slice is only granted when it fits
      expect(passed).toBeGreaterThan(3 * MB * 0.75); // and reservations of peers in flight waste little of it (87–100% seen)
      expect(await used('p1')).toBe(passed); // every unused reservation came back
    } finally {
      other.disconnect();
    }
  });

  it('refuses at admission when Redis is unreachable (the task could not be queued anyway), before any byte is stored', async () => {
    const broken = await testRedis();
    broken.disconnect();
    const budget = new UploadBudget(broken, keys, { requests: { count: 1, periodMs: 60_000 }, bytes: { count: 1, periodMs: 60_000 } });
    const refused = await budget.admit('x', 10 * MB).then(() => null, (err: unknown) => err);
    expect(isRedisUnavailableError(refused)).toBe(true);
  });

  it('lets uploads through when Redis answers but refuses the budget script (an ACL without EVAL), saying so once', async () => {
    const user = `budget-${process.pid}-${Date.now()}`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', '-eval', '-evalsha');
    const limited = await connectRedis(testRedisUrl(), { name: 'seler-test' });
    try {
      await limited.call('AUTH', user, 'pw');
      const warnings: unknown[] = [];
      const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
      const budget = new UploadBudget(limited, keys, { requests: { count: 1, periodMs: 60_000 }, bytes: { count: 1, periodMs: 60_000 } }, logger);
      await budget.admit('x', 10 * MB);
      await budget.admit('x', 10 * MB);
      expect(await stream(budget, 'x', 1 * MB)).toEqual({ passed: 1 * MB, refused: false });
      expect(warnings).toHaveLength(1);
    } finally {
      limited.disconnect();
      await redis.call('ACL', 'DELUSER', user);
    }
  });
});

describe('the budget over HTTP', () => {
  let app: TestApp;
  let jpeg700k: Buffer;
  beforeAll(async () => {
    app = await startTestApp({
      worker: false,
      env: { SELER_TRUST_PROXY: 'true', SELER_UPLOAD_RATE: '3/m', SELER_UPLOAD_BUDGET_MB: '1' },
    });
    // A real JPEG padded after its end marker to an exact size (the check at upload accepts trailing data).
    const jpeg = await makeNoisyJpeg(200, 150);
    jpeg700k = Buffer.concat([jpeg, Buffer.alloc(700 * KB - jpeg.length)]);
  });
  afterAll(async () => app?.close());

  const stored = () => readdirSync(path.join(app.config.mediaDir, 'uploads')).filter((n) => !n.startsWith('.'));
  const part = (data: Buffer, filename = 'a.jpg'): RawPart => ({ field: 'images', filename, data, type: 'image/jpeg' });
  const post = (ip: string, parts: RawPart[], options: { path?: string; chunked?: boolean } = {}) =>
    rawPost(app.baseUrl, multipartBody(parts), { headers: { 'x-forwarded-for': ip }, ...options });

  function expect429(res: Awaited<ReturnType<typeof post>>, code: string) {
    expect(res?.status, res?.body).toBe(429);
    expect(JSON.parse(res!.body).error.code).toBe(code);
    expect(JSON.parse(res!.body).error.message.length).toBeGreaterThan(20);
    expect(Number(res!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }

  it('the 4th upload in a minute gets 429 upload_rate_limited, before its body is stored; both upload routes share the count', async () => {
    const small = await makeJpeg();
    expect((await post('198.51.100.1', [part(small)]))?.status).toBe(202);
    expect((await post('198.51.100.1', [{ field: 'image_file', filename: 'a.jpg', data: small }], { path: '/' }))?.status).toBe(202);
    expect((await post('198.51.100.1', [part(small)]))?.status).toBe(202);
    const before = stored();
    expect429(await post('198.51.100.1', [part(small)]), 'upload_rate_limited');
    expect429(await post('198.51.100.1', [{ field: 'image_file', filename: 'a.jpg', data: small }], { path: '/' }), 'upload_rate_limited');
    expect(stored()).toEqual(before);
    expect((await post('198.51.100.2', [part(small)]))?.status).toBe(202); // another client
  });

  it('over the byte budget by Content-Length: 429 upload_budget_exceeded, nothing stored', async () => {
    expect((await post('198.51.100.3', [part(jpeg700k)]))?.status).toBe(202);
    const before = stored();
    expect429(await post('198.51.100.3', [part(jpeg700k)]), 'upload_budget_exceeded');
    expect(stored()).toEqual(before);
  });

  it('over the byte budget while streaming (chunked, no Content-Length): the upload is cut, its file removed', async () => {
    const before = stored();
    expect429(await post('198.51.100.4', [part(jpeg700k, 'one.jpg'), part(jpeg700k, 'two.jpg')], { chunked: true }), 'upload_budget_exceeded');
    expect(stored()).toEqual(before); // the first, whole file of the refused request goes too
    // The bytes it sent count: refused uploads are not free, else failing on purpose would be a way around the budget.
    expect429(await post('198.51.100.4', [part(await makeJpeg())]), 'upload_budget_exceeded');
  });

  it('8 parallel uploads of one client cannot store more than the budget', async () => {
    const jpeg300k = jpeg700k.subarray(0, 300 * KB);
    const padded = Buffer.concat([await makeNoisyJpeg(100, 80)]);
    const file = Buffer.concat([padded, Buffer.alloc(300 * KB - padded.length)]);
    expect(jpeg300k.length).toBe(file.length);
    const before = new Set(stored());
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => post('198.51.100.5', [part(file, `${i}.jpg`)], { chunked: i % 2 === 0 })));
    const statuses = results.map((r) => r?.status);
    expect(statuses.every((s) => s === 202 || s === 429), JSON.stringify(statuses)).toBe(true);
    const accepted = statuses.filter((s) => s === 202).length;
    const added = stored().filter((n) => !before.has(n));
    expect(added).toHaveLength(accepted);
    const bytes = added.reduce((sum, n) => sum + statSync(path.join(app.config.mediaDir, 'uploads', n)).size, 0);
    expect(bytes).toBeLessThanOrEqual(1 * MB);
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(3);
  });

  it('addresses of one IPv6 /64 share a budget', async () => {
    expect((await post('2001:db8:aa:bb::1', [part(jpeg700k)]))?.status).toBe(202);
    expect429(await post('2001:db8:aa:bb:dead:beef:0:2', [part(jpeg700k)]), 'upload_budget_exceeded');
    expect((await post('2001:db8:aa:cc::1', [part(jpeg700k)]))?.status).toBe(202);
  });
});

describe('the default budget', () => {
  it('lets one client run the benchmark’s pattern: 8 uploads in flight, 60 in a row', async () => {
    const app = await startTestApp({ worker: false });
    try {
      expect(app.config.uploads.rate?.count).toBeGreaterThanOrEqual(60);
      const body = multipartBody([{ field: 'images', filename: 'p.jpg', data: await makeJpeg({ width: 300, height: 200 }) }, { field: 'sizes', data: '128x128,256x256,512x512' }]);
      let next = 0;
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next++ < 60) statuses.push((await rawPost(app.baseUrl, body))?.status ?? 0);
        }),
      );
      expect(statuses).toHaveLength(60);
      expect(statuses.every((s) => s === 202)).toBe(true);
    } finally {
      await app.close();
    }
  });
});
