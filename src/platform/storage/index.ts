export * from './types.js';
export { LocalObjectStore, type LocalStoreOptions } from './local.js';
export { parseStorageTarget, describeStorageTarget, type StorageTarget, type S3Target, type LocalTarget, type StorageEnv } from './target.js';
import { LocalObjectStore, type LocalStoreOptions } from './local.js';
import type { StorageTarget } from './target.js';
import type { ObjectStore } from './types.js';

/** The AWS SDK is loaded only when S3 is configured: a command such as `seler call` never pays for it. */
export async function openObjectStore(target: StorageTarget, local: LocalStoreOptions = {}): Promise<ObjectStore> {
  if (target.kind === 'local') return new LocalObjectStore(target.dir, local);
  const { S3ObjectStore } = await import('./s3.js');
  return new S3ObjectStore(target);
}
