// The run's real S3 server (Swift, started by the first test that asks) and clients for it.
import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { s3ClientConfig, sharedSwift, type Swift, type SwiftInfo } from './swift.js';

/** Swift for this run; its start (about 5 s, longer on a busy machine) is paid once, by the first caller. */
export function testSwift(): Promise<Swift> {
  return sharedSwift(inject('swiftRunDir'));
}

/** A bucket name no other test uses (S3 names: 3-63 lower-case letters, digits and hyphens). */
export function uniqueBucket(label = 't'): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export function s3Client(swift: SwiftInfo, overrides: Partial<ReturnType<typeof s3ClientConfig>> = {}): S3Client {
  return new S3Client({ ...s3ClientConfig(swift), ...overrides });
}
