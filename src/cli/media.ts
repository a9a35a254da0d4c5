// `seler cleanup`: remove uploads and results past the retention, on the local store or S3.
import { describeStorageTarget } from '../platform/storage/index.js';
import { cleanupMedia, openMediaStore } from '../thumbnails/storage.js';
import { config } from './common.js';

export async function cleanup(opts: { olderThan?: number }): Promise<void> {
  const cfg = config();
  const store = await openMediaStore(cfg.storage);
  try {
    const { removed, bytes } = await cleanupMedia(store, opts.olderThan ?? cfg.retention.mediaSeconds);
    process.stdout.write(`Removed ${removed} item(s), ${(bytes / 1024 / 1024).toFixed(1)} MB from ${describeStorageTarget(cfg.storage)}.\n`);
  } finally {
    store.close();
  }
}
