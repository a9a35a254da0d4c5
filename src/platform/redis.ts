// Redis connections, key naming, and the private redis-server of the embedded default.
import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage } from './errors.js';

export type { Redis };

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Turns a URL into ioredis options. Besides redis:// and rediss:// it accepts
 * unix:///path/to/redis.sock?db=N (also redis+unix://), which the private server uses.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUnavailableError(`"${url}" is not a Redis URL (expected redis://host:port/db or unix:///path.sock)`);
  }
  const db = parsed.searchParams.get('db') ?? (parsed.pathname.length > 1 && !parsed.protocol.includes('unix') ? parsed.pathname.slice(1) : '0');
  const common: RedisOptions = {
    db: Number(db) || 0,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
  switch (parsed.protocol) {
    case 'unix:':
    case 'redis+unix:':
      return { ...common, path: decodeURIComponent(parsed.pathname) };
    case 'redis:':
    case 'rediss:':
      return {
        ...common,
        host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
        port: parsed.port ? Number(parsed.port) : 6379,
        ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
      };
    default:
      throw new RedisUnavailableError(`unsupported Redis URL scheme "${parsed.protocol}" (use redis://, rediss:// or unix://)`);
  }
}

export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export interface CreateRedisOptions {
  /** Shown in CLIENT LIST; helps an operator see who is connected. */
  name?: string;
  connectTimeoutMs?: number;
  /** `null` is what BullMQ workers need (blocking commands retry forever). */
  maxRetriesPerRequest?: number | null;
  lazyConnect?: boolean;
}

export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const client = new Redis({
    ...redisOptionsFromUrl(url),
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest,
    lazyConnect: options.lazyConnect ?? false,
    // ioredis 6 speaks RESP3 by default, which changes reply shapes (XREAD, ZRANGE WITHSCORES, Lua
    // booleans); RESP2 keeps the shapes BullMQ's scripts and our code are written for.
    protocol: 2,
    // Reconnect for ever with a capped delay: a restarted Redis must not leave a process idle.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  });
  // Without a listener ioredis prints every reconnect error as an unhandled 'error' event.
  client.on('error', () => {});
  return client;
}

/**
 * Connects and PINGs once, failing with one clear sentence within the timeout
 * instead of retrying for ever. The client keeps its reconnect strategy afterwards.
 */
export async function connectRedis(url: string, options: CreateRedisOptions = {}): Promise<Redis> {
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const client = createRedis(url, { ...options, lazyConnect: true, connectTimeoutMs: timeoutMs });
  let lastError: unknown;
  const onError = (err: unknown) => (lastError = err);
  client.on('error', onError);
  try {
    await withTimeout(client.connect().then(() => client.ping()), timeoutMs, () =>
      lastError ? errorMessage(lastError) : `no answer within ${timeoutMs} ms`,
    );
  } catch (err) {
    client.disconnect();
    throw new RedisUnavailableError(`Cannot reach Redis at ${describeRedisUrl(url)}: ${errorMessage(lastError ?? err).replace(/\.+$/, '')}.`);
  } finally {
    client.off('error', onError);
  }
  return client;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Problems that make Redis unfit as a broker; each is one sentence an operator can act on. */
export async function checkRedisServer(client: Redis): Promise<{ version: string; problems: string[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const info = await client.info('server');
  const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? '0.0.0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < 6 || (major === 6 && minor < 2)) problems.push(`Redis ${version} is too old: seler needs Redis 6.2 or newer.`);
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction')
      problems.push(`Redis maxmemory-policy is "${policy}": set it to "noeviction" (CONFIG SET maxmemory-policy noeviction), or Redis may silently drop queued tasks.`);
  } catch (err) {
    warnings.push(`Could not read maxmemory-policy (${errorMessage(err)}); make sure it is "noeviction".`);
  }
  return { version, problems, warnings };
}

/** Every Redis key of seler starts with `{prefix}`: one hash tag keeps multi-key scripts valid on Redis Cluster. */
export function keyspace(prefix: string) {
  const root = `{${prefix}}`;
  return {
    root,
    key: (...parts: string[]) => [root, ...parts].join(':'),
  };
}
export type Keyspace = ReturnType<typeof keyspace>;
