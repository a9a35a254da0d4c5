// The private redis-server belongs to `seler start` on one host. Its owner file (redis/owner.json in
// the data directory: host name, boot id, pid) keeps a second host that sees the same directory (a
// shared volume) from starting a second server on the same append-only file.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { hostIdentity } from './host-identity.js';

export interface RedisOwner {
  hostname: string;
  bootId: string;
  pid: number;
  since: string;
}

export const OWNER_FILE = 'owner.json';

export function readOwner(redisDir: string): RedisOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path.join(redisDir, OWNER_FILE), 'utf8')) as Partial<RedisOwner>;
    if (typeof owner.hostname !== 'string' || typeof owner.pid !== 'number') return undefined;
    return { hostname: owner.hostname, bootId: String(owner.bootId ?? ''), pid: owner.pid, since: String(owner.since ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * Refuses (one sentence) when another host owns the directory. A file from this host is no claim
 * against it: same boot, the lock decides who supervises; an earlier boot, that server is gone.
 */
export function assertNotOwnedElsewhere(redisDir: string, dataDir: string): void {
  const owner = readOwner(redisDir);
  if (!owner) return;
  const me = hostIdentity();
  if (owner.hostname === me.hostname) return;
  const file = path.join(redisDir, OWNER_FILE);
  throw new ConfigError(
    `The private Redis of ${dataDir} belongs to seler on host "${owner.hostname}" (pid ${owner.pid}${owner.since ? `, since ${owner.since}` : ''}), ` +
      `so this host ("${me.hostname}") will not start a second redis-server on the same files: point this host at that Redis with REDIS_URL ` +
      `(or give it its own SELER_DATA_DIR); if "${owner.hostname}" is gone for good, delete ${file}.`,
  );
}

/** Written by the process that starts the server (atomically: a reader never sees half a file). */
export function claimOwnership(redisDir: string): void {
  const me = hostIdentity();
  const owner: RedisOwner = { hostname: me.hostname, bootId: me.bootId, pid: process.pid, since: new Date().toISOString() };
  const tmp = path.join(redisDir, `${OWNER_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(owner) + '\n');
  renameSync(tmp, path.join(redisDir, OWNER_FILE));
}

/** Removed on a clean stop by the process that wrote it, so the directory can be used elsewhere afterwards. */
export function releaseOwnership(redisDir: string): void {
  const owner = readOwner(redisDir);
  if (owner && owner.pid === process.pid && owner.hostname === hostIdentity().hostname) rmSync(path.join(redisDir, OWNER_FILE), { force: true });
}
