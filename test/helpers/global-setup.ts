// Starts a private redis-server for the whole run (unless SELER_TEST_REDIS_URL names one), so tests
// never depend on, nor disturb, a Redis the machine already runs. Swift (a real S3 server) is started
// only by the first test that asks for it (test/helpers/swift.ts), and stopped here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensurePrivateRedis, type PrivateRedis } from '../../src/platform/private-redis.js';
import { createSharedSwiftDir, stopSharedSwift } from './swift.js';

let server: PrivateRedis | undefined;
let dir: string | undefined;
let swiftRunDir: string | undefined;

export async function setup(project: TestProject) {
  let url = process.env.SELER_TEST_REDIS_URL;
  if (!url) {
    dir = mkdtempSync(path.join(tmpdir(), 'seler-test-'));
    server = await ensurePrivateRedis(dir);
    url = server.url;
  }
  project.provide('redisUrl', url);
  swiftRunDir = createSharedSwiftDir();
  project.provide('swiftRunDir', swiftRunDir);
}

export async function teardown() {
  if (swiftRunDir) await stopSharedSwift(swiftRunDir);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** Where the run's shared Swift is started on demand: use testSwift() from test/helpers/s3.ts. */
    swiftRunDir: string;
  }
}
