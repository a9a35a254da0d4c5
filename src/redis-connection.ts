// Which Redis a process uses (the configured one, or the private redis-server in the data directory) and the
// checked connection to it: shared by the server roles (app.ts) and the short command-line clients.
import type { Config } from './config.js';
import { ConfigError } from './platform/errors.js';
import { setHostname } from './platform/host-identity.js';
import type { Logger } from './platform/logger.js';
import { ensurePrivateRedis, type PrivateRedis } from './platform/private-redis.js';
import { checkRedisServer, connectRedis, parseRedisUrl, type Redis, type RedisTarget } from './platform/redis.js';

/** A command on the shared connection that has no answer after this long fails (503 for a request), also while Redis is down. */
export const REDIS_COMMAND_TIMEOUT_MS = 3000;

export async function resolveRedisTarget(config: Config, logger?: Logger): Promise<{ target: RedisTarget; server?: PrivateRedis }> {
  setHostname(config.hostname);
  if (config.redisTarget) return { target: config.redisTarget };
  const server = await ensurePrivateRedis(config.dataDir, { logger });
  return { target: parseRedisUrl(server.url), server };
}

export interface RedisConnection {
  target: RedisTarget;
  /** The private redis-server, when no REDIS_URL is configured (stop it last). */
  server?: PrivateRedis;
  redis: Redis;
  /** The server's version (from the start-up check). */
  version: string;
}

/** Resolves, connects and checks the server (refusing one seler cannot work with); on failure nothing is left open. */
export async function connectConfiguredRedis(config: Config, logger: Logger, name = 'seler'): Promise<RedisConnection> {
  const { target, server } = await resolveRedisTarget(config, logger);
  if (server?.owned) logger.info({ url: target.display }, 'started a private redis-server (append-only persistence in the data directory)');
  let redis: Redis;
  try {
    redis = await connectRedis(target, { name, commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS });
  } catch (err) {
    await server?.stop();
    throw new ConfigError((err as Error).message);
  }
  const check = await checkRedisServer(redis, { waitReplicas: target.kind === 'single' ? 0 : target.waitReplicas });
  for (const warning of check.warnings) logger.warn(warning);
  if (check.problems.length) {
    redis.disconnect();
    await server?.stop();
    throw new ConfigError(check.problems.join(' '));
  }
  return { target, server, redis, version: check.version };
}
