// Redis connections, key naming, and the private redis-server of the embedded default.
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { ConfigError, errorMessage } from './errors.js';
import { describeRedisTarget, parseRedisUrl, type RedisTarget } from './redis-target.js';

export { describeRedisTarget, parseRedisUrl, type RedisTarget } from './redis-target.js';

// Loaded with require: importing a CommonJS package from ESM makes Node first scan its files for export names,
// which doubles its load time (ioredis + bullmq: ~0.35 s of CPU per process on a 2-core machine).
const { Cluster, Redis } = createRequire(import.meta.url)('ioredis') as typeof IORedis;
type Cluster = IORedis.Cluster;
type Redis = IORedis.Redis;
export type { Redis };

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** ioredis options for one server or a Sentinel group (a Cluster is built in createRedis). */
export function redisOptionsFromUrl(url: string | RedisTarget): RedisOptions {
  const target = typeof url === 'string' ? toTarget(url) : url;
  const auth = { username: target.username, password: target.password };
  switch (target.kind) {
    case 'single':
      return target.path
        ? { ...auth, db: target.db, path: target.path }
        : { ...auth, db: target.db, host: target.host, port: target.port, ...(target.tls ? { tls: {} } : {}) };
    case 'sentinel':
      return {
        ...auth,
        db: target.db,
        sentinels: target.sentinels,
        name: target.name,
        sentinelUsername: target.sentinelUsername,
        sentinelPassword: target.sentinelPassword,
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        // Sentinel's +switch-master is heard at once instead of at the next failed command: fewer
        // writes go to a demoted master (measured elsewhere: 158 acknowledged jobs lost in a failover, not 1,089).
        failoverDetector: true,
        // A write that reaches a demoted master gets READONLY: reconnect (asking Sentinel anew) and resend it.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
        sentinelRetryStrategy: (times) => Math.min(100 * times, 2000),
      };
    case 'cluster':
      throw new RedisUnavailableError('a Redis Cluster has no single-server options');
  }
}

/** Accepts the parsed description or a URL (tests, benches, the lab's --redis-url). */
function toTarget(url: string | RedisTarget): RedisTarget {
  if (typeof url !== 'string') return url;
  try {
    return parseRedisUrl(url);
  } catch (err) {
    throw new RedisUnavailableError((err as Error).message);
  }
}

export function describeRedisUrl(url: string | RedisTarget): string {
  return describeRedisTarget(url);
}

export interface CreateRedisOptions {
  /** Shown in CLIENT LIST; helps an operator see who is connected. */
  name?: string;
  connectTimeoutMs?: number;
  /** `null` is what BullMQ workers need (blocking commands retry forever). */
  maxRetriesPerRequest?: number | null;
  lazyConnect?: boolean;
  /**
   * Rejects a command that has no reply after this long, also while it waits for a reconnect, so a
   * dead or hung Redis gives a request a quick error instead of a minute of retries. Only for
   * connections that send no blocking commands (BLPOP, XREAD BLOCK, BullMQ's own connections).
   * Such a connection also stops queueing commands once it has been down for OUTAGE_GRACE_MS: a short
   * blip (a restart of the private server) is waited out, a real outage fails at once.
   */
  commandTimeoutMs?: number;
}

/**
 * A connection to wherever the target says. A Redis Cluster is an ioredis Cluster typed as Redis: it
 * takes the same commands, and seler keeps every key in one hash slot so they all reach one shard.
 */
export function createRedis(url: string | RedisTarget, options: CreateRedisOptions = {}): Redis {
  const target = toTarget(url);
  const maxRetriesPerRequest = options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest;
  // Reconnect for ever with a capped delay: a restarted Redis must not leave a process idle.
  const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);
  const common = {
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
    // ioredis 6 speaks RESP3 by default, which changes reply shapes (XREAD, ZRANGE WITHSCORES, Lua
    // booleans); RESP2 keeps the shapes BullMQ's scripts and our code are written for.
    protocol: 2 as const,
  };
  let client: Redis;
  if (target.kind === 'cluster') {
    const cluster = new Cluster(target.nodes, {
      lazyConnect: options.lazyConnect ?? false,
      clusterRetryStrategy: retryStrategy,
      // A failover or resharding answers TRYAGAIN/CLUSTERDOWN for a moment: retry instead of failing the command.
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      retryDelayOnFailover: 200,
      redisOptions: {
        ...common,
        username: target.username,
        password: target.password,
        ...(target.tls ? { tls: {} } : {}),
      },
    });
    client = cluster as unknown as Redis;
  } else {
    client = new Redis({ ...redisOptionsFromUrl(target), ...common, lazyConnect: options.lazyConnect ?? false, retryStrategy });
  }
  // Without a listener ioredis prints every reconnect error as an unhandled 'error' event.
  client.on('error', () => {});
  if (options.commandTimeoutMs) failFastDuringOutages(client);
  return client;
}

/** True when the connection is a Redis Cluster (an ioredis Cluster behind the Redis type). */
export function isCluster(client: Redis): boolean {
  return (client as unknown as { isCluster?: boolean }).isCluster === true;
}

/** The servers that take writes: every master of a Cluster, else the one connection itself. */
export function masters(client: Redis): Redis[] {
  return isCluster(client) ? (client as unknown as Cluster).nodes('master') : [client];
}

/** How long a connection with a command timeout keeps queueing commands after it lost Redis. */
export const OUTAGE_GRACE_MS = 2000;

function failFastDuringOutages(client: Redis): void {
  let timer: NodeJS.Timeout | undefined;
  client.on('reconnecting', () => {
    if (timer) return;
    timer = setTimeout(() => (client.options.enableOfflineQueue = false), OUTAGE_GRACE_MS);
    timer.unref();
  });
  const reset = () => {
    clearTimeout(timer);
    timer = undefined;
    client.options.enableOfflineQueue = true;
  };
  client.on('ready', reset);
  client.on('end', reset);
}

/**
 * Connects and PINGs once, failing with one clear sentence within the timeout
 * instead of retrying for ever. The client keeps its reconnect strategy afterwards.
 */
export async function connectRedis(url: string | RedisTarget, options: CreateRedisOptions = {}): Promise<Redis> {
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const target = toTarget(url);
  const client = createRedis(target, { ...options, lazyConnect: true, connectTimeoutMs: timeoutMs });
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
  // ioredis reports a failed SELECT as an 'error' event and stays on database 0: refuse instead of
  // writing into a database that may be someone else's.
  if (target.db > 0) {
    try {
      await client.select(target.db);
    } catch (err) {
      client.disconnect();
      throw new ConfigError(`REDIS_URL names database ${target.db}, which ${describeRedisUrl(target)} does not have (${errorMessage(err).replace(/^ERR /, '')}; see "databases" in redis.conf).`);
    }
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

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'ECONNABORTED', 'EAI_AGAIN']);

/**
 * True for the errors a command gets when Redis cannot be reached or does not answer (as opposed to
 * a wrong command or a script error): the caller should say "unavailable, try again", not "bug".
 */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; message?: string; code?: string };
  if (e instanceof RedisUnavailableError || e.name === 'MaxRetriesPerRequestError') return true;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  const message = e.message ?? '';
  return (
    message === 'Command timed out' ||
    message.startsWith('Connection is closed') ||
    message.startsWith("Stream isn't writeable") ||
    message.startsWith('LOADING ') ||
    message.startsWith('MASTERDOWN ') ||
    message.startsWith('TRYAGAIN ') ||
    // A Cluster failing over, or a write that reached a master Sentinel just demoted.
    message.startsWith('CLUSTERDOWN ') ||
    message.startsWith('READONLY ') ||
    // ioredis gave up following MOVED/ASK while a Cluster's slot map was changing.
    message.startsWith('Too many Cluster redirections') ||
    // min-replicas-to-write holds writes while too few replicas follow: refused, not acknowledged.
    message.startsWith('NOREPLICAS ') ||
    /^connect (ECONNREFUSED|ENOENT|ETIMEDOUT)/.test(message)
  );
}

/** Readiness: fails at once when the connection is down, else PINGs and fails after `timeoutMs` without an answer. */
export async function pingWithin(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status !== 'ready') throw new RedisUnavailableError(`Redis is not connected (${client.status})`);
  await withTimeout(client.ping(), timeoutMs, () => `Redis did not answer PING within ${timeoutMs} ms`);
}

/** QUIT when connected (bounded by `timeoutMs`), otherwise just drop the connection: closing never waits for a dead Redis. */
export async function closeRedis(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status !== 'ready' || timeoutMs <= 0) return client.disconnect();
  try {
    await withTimeout(client.quit(), timeoutMs, () => 'QUIT timed out');
  } catch {
    client.disconnect();
  }
}

/**
 * One warning when the connection is lost and one line when it is back, however many times ioredis
 * retries in between (the other connections of the process log their connection errors at debug).
 */
export function watchRedisConnection(client: Redis, logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }, label = 'Redis'): () => void {
  let lostAt: number | undefined;
  // 'reconnecting', not 'close': a deliberate quit() closes without reconnecting.
  const onClose = () => {
    if (lostAt !== undefined) return;
    lostAt = Date.now();
    logger.warn({}, `lost the connection to ${label}; reconnecting (requests that need it answer 503 meanwhile)`);
  };
  const onReady = () => {
    if (lostAt === undefined) return;
    logger.info({ downMs: Date.now() - lostAt }, `reconnected to ${label}`);
    lostAt = undefined;
  };
  client.on('reconnecting', onClose);
  client.on('ready', onReady);
  return () => {
    client.off('reconnecting', onClose);
    client.off('ready', onReady);
  };
}

/**
 * Problems that make Redis unfit as a broker; each is one sentence an operator can act on. On a
 * Cluster every master is checked (any of them may own seler's slot after a failover).
 */
export async function checkRedisServer(client: Redis, options: { waitReplicas?: number } = {}): Promise<{ version: string; problems: string[]; warnings: string[] }> {
  const nodes = masters(client);
  const label = (node: Redis) => (nodes.length > 1 ? `${node.options.host}:${node.options.port}: ` : '');
  const problems: string[] = [];
  const warnings: string[] = [];
  let version = '';
  for (const node of nodes) {
    const one = await checkOneServer(node, { cluster: isCluster(client), sentinel: Boolean(client.options.sentinels?.length), waitReplicas: options.waitReplicas ?? 0 });
    version ||= one.version;
    problems.push(...one.problems.map((p) => label(node) + p));
    warnings.push(...one.warnings.map((w) => label(node) + w));
  }
  if (isCluster(client) && !options.waitReplicas)
    warnings.push(
      'REDIS_URL has no waitReplicas: a Cluster failover can lose tasks Redis already acknowledged (replication is asynchronous); add ?waitReplicas=1 (or the number of replicas per master) so enqueue answers once the replicas hold the task.',
    );
  return { version, problems, warnings };
}

async function checkOneServer(client: Redis, mode: { cluster: boolean; sentinel: boolean; waitReplicas: number }): Promise<{ version: string; problems: string[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const info = await client.info();
  const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? '0.0.0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < 6 || (major === 6 && minor < 2)) problems.push(`Redis ${version} is too old: seler needs Redis 6.2 or newer.`);
  if (!mode.cluster && /cluster_enabled:1/.test(info))
    problems.push('REDIS_URL names one node of a Redis Cluster: write redis+cluster://host:port[,host:port…] so seler follows the cluster to the node that owns its keys.');
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction')
      problems.push(`Redis maxmemory-policy is "${policy}": set it to "noeviction" (CONFIG SET maxmemory-policy noeviction), or Redis may silently drop queued tasks.`);
  } catch (err) {
    warnings.push(`Could not read maxmemory-policy (${errorMessage(err)}); make sure it is "noeviction".`);
  }
  if (mode.sentinel) {
    const replicas = Number(/connected_slaves:(\d+)/.exec(await client.info('replication'))?.[1] ?? 0);
    if (mode.waitReplicas === 0)
      warnings.push(
        `REDIS_URL has no waitReplicas: a Sentinel failover can lose tasks Redis already acknowledged (replication is asynchronous); add ?waitReplicas=${Math.max(replicas, 1)} (the number of replicas) so enqueue answers once every replica holds the task.`,
      );
    else if (mode.waitReplicas > replicas)
      warnings.push(`REDIS_URL's waitReplicas is ${mode.waitReplicas} but the Sentinel master has ${replicas} connected replica(s): enqueues fail with 503 until enough replicas follow.`);
  }
  return { version, problems, warnings };
}

/**
 * One sentence for the replies a Redis Cluster or a demoted master gives (MOVED, ASK, CROSSSLOT,
 * CLUSTERDOWN, READONLY), or undefined for any other error: an operator sees what to change, not a stack.
 */
export function clusterErrorSentence(err: unknown): string | undefined {
  const message = errorMessage(err);
  const moved = /^(MOVED|ASK) (\d+) (\S+)/.exec(message);
  if (moved)
    return `Redis answered ${moved[1]}: hash slot ${moved[2]} lives on ${moved[3]}, another node of a Redis Cluster; set REDIS_URL=redis+cluster://host:port[,host:port…] so seler follows the cluster.`;
  if (message.startsWith('CROSSSLOT'))
    return 'Redis Cluster refused a command whose keys span several hash slots (CROSSSLOT): every key of seler must carry its {prefix} hash tag.';
  if (message.startsWith('CLUSTERDOWN'))
    return `The Redis Cluster is down (${message.slice(12).trim() || 'CLUSTERDOWN'}): seler retries once every hash slot is served again.`;
  if (message.startsWith('READONLY'))
    return 'Redis answered READONLY: REDIS_URL names a replica (or a master that was just demoted); point it at the master, or use redis+sentinel:// so seler follows failovers.';
  return undefined;
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
