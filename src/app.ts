// The composition root: the one file that wires every feature together into the roles.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { migrate, openDatabase, pingDatabase, type Db } from './platform/db/index.js';
import { ConfigError } from './platform/errors.js';
import { createHttpServer } from './platform/http.js';
import type { Logger } from './platform/logger.js';
import { ensurePrivateRedis, type PrivateRedis } from './platform/private-redis.js';
import { checkRedisServer, connectRedis, describeRedisUrl, keyspace, type Redis } from './platform/redis.js';
import { TaskClient, registerTaskRoutes, registeredTasks, startWorker, type PoolKind, type RunningWorker } from './tasks/index.js';
import { bootstrapModuleUrl, loadTasks } from './task-modules.js';
import { BeatStore, notifyScheduleChanged, startBeat, syncStaticSchedules, type RunningBeat } from './beat/index.js';
import { hasSuperuser, loadOrCreateSecret, recordChange, registerAdminAuth, registerAdminConsole, registerPeriodicTaskApi, requirePerm } from './admin/index.js';
import { registerMonitoring } from './monitoring/index.js';

import { ensureMediaDirs, mediaPaths, registerThumbnailRoutes } from './thumbnails/index.js';

export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
export const version = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return dir;
  }
}

/** Connections every role shares: Redis (private or configured), the task client, and optionally the database. */
export interface Runtime {
  config: Config;
  logger: Logger;
  redisUrl: string;
  redis: Redis;
  client: TaskClient;
  db?: Db;
  close(): Promise<void>;
}

export async function resolveRedisUrl(config: Config): Promise<{ url: string; server?: PrivateRedis }> {
  if (config.redisUrl) return { url: config.redisUrl };
  const server = await ensurePrivateRedis(config.dataDir);
  return { url: server.url, server };
}

export async function openRuntime(config: Config, logger: Logger, options: { database?: boolean } = {}): Promise<Runtime> {
  const { url, server } = await resolveRedisUrl(config);
  if (server?.owned) logger.info({ url }, 'started a private redis-server (append-only persistence in the data directory)');
  let redis: Redis;
  try {
    redis = await connectRedis(url, { name: 'seler' });
  } catch (err) {
    await server?.stop();
    throw new ConfigError((err as Error).message);
  }
  const check = await checkRedisServer(redis);
  for (const warning of check.warnings) logger.warn(warning);
  if (check.problems.length) {
    redis.disconnect();
    await server?.stop();
    throw new ConfigError(check.problems.join(' '));
  }
  logger.info({ redis: describeRedisUrl(url), version: check.version }, 'connected to Redis');

  let db: Db | undefined;
  if (options.database) {
    db = openDatabase(config.databaseUrl, config.dataDir);
    try {
      const applied = await migrate(db);
      if (applied.length) logger.info({ applied, database: db.description }, 'database migrated');
    } catch (err) {
      await db.close();
      redis.disconnect();
      await server?.stop();
      throw new ConfigError(`Cannot prepare the database ${db.description}: ${(err as Error).message}`);
    }
  }

  await loadTasks(config);
  const client = new TaskClient({
    redis,
    redisUrl: url,
    keys: keyspace(config.redisPrefix),
    retention: { successSeconds: config.retention.successSeconds, failureSeconds: config.retention.failureSeconds },
    eventsMaxLen: config.eventsMaxLen,
    logger,
  });
  await ensureMediaDirs(mediaPaths(config.mediaDir));

  return {
    config,
    logger,
    redisUrl: url,
    redis,
    client,
    db,
    async close() {
      await client.close();
      await db?.close();
      await redis.quit().catch(() => redis.disconnect());
      await server?.stop();
    },
  };
}

export interface WebRole {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startWeb(runtime: Runtime, options: { port?: number; host?: string } = {}): Promise<WebRole> {
  const { config, logger, client } = runtime;
  const hub = await client.eventHub();
  const app = await createHttpServer({
    logger,
    version,
    ready: async () => {
      await runtime.redis.ping();
      if (runtime.db) await pingDatabase(runtime.db);
    },
  });
  await app.register(fastifyMultipart, { throwFileSizeLimit: false });
  const webDist = path.join(packageRoot, 'dist', 'web');
  if (runtime.db) {
    const { secret } = loadOrCreateSecret({ secret: config.secret, dataDir: config.dataDir });
    const consoleHtml = path.join(webDist, 'admin', 'index.html');
    const consoleBuilt = existsSync(consoleHtml);
    const auth = await registerAdminAuth(app, { db: runtime.db, secret, logger, cookieSecure: config.cookieSecure, shellPage: !consoleBuilt });
    const beatStore = new BeatStore(runtime.db, { timezone: config.timezone });
    registerPeriodicTaskApi(app, { auth, store: beatStore, client, timezone: config.timezone, notify: () => notifyScheduleChanged(runtime.redis, client.keys) });
    if (consoleBuilt) registerAdminConsole(app, { htmlFile: consoleHtml });
    if (!(await hasSuperuser(runtime.db)))
      logger.warn('No superuser exists yet: create one with "seler createsuperuser" (or "npx seler createsuperuser") to use /admin.');
  }
  registerTaskRoutes(app, { client, hub });
  // The monitor (task index, /api/v1/monitor, /metrics) is guarded by the admin's permissions and writes to its history.
  const db = runtime.db;
  const monitoring = await registerMonitoring(app, {
    client,
    hub,
    redisUrl: runtime.redisUrl,
    logger,
    metrics: config.metrics,
    ...(db ? { guard: (request, perm) => requirePerm(request, perm), audit: (actor, change) => recordChange(db, { ...change, actor }) } : {}),
  });
  registerThumbnailRoutes(app, { client, media: mediaPaths(config.mediaDir), limits: config.limits });

  if (existsSync(path.join(webDist, 'index.html'))) {
    // A wildcard route (not one per file) so the console's guarded /admin/* route owns everything under /admin/.
    await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: true, index: ['index.html'] });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain').send('The front end is not built yet: run "npm run build" (npm start does it for you).'),
    );
  }

  const address = await app.listen({ port: options.port ?? config.port, host: options.host ?? config.host });
  return {
    app,
    url: address,
    async close() {
      await app.close();
      await monitoring.stop();
    },
  };
}

export async function startBeatRole(runtime: Runtime): Promise<RunningBeat> {
  const { config, logger, client } = runtime;
  if (!runtime.db) throw new Error('the beat role needs the database (open the runtime with database: true)');
  const store = new BeatStore(runtime.db, { timezone: config.timezone });
  const synced = await syncStaticSchedules(store, config.beatSchedule, config.timezone);
  logger.info(synced, 'static schedules synced');
  return startBeat({ store, client, redis: runtime.redis, redisUrl: runtime.redisUrl, keys: client.keys, logger });
}

export interface WorkerRoleOptions {
  queues?: string[];
  concurrency?: number;
  pool?: PoolKind;
  maxTasksPerChild?: number;
  maxMemoryPerChildMb?: number;
  softTimeLimitSeconds?: number;
  timeLimitSeconds?: number;
  rateLimit?: string;
  lockDurationMs?: number;
}

export async function startWorkerRole(runtime: Runtime, options: WorkerRoleOptions = {}): Promise<RunningWorker> {
  const { config } = runtime;
  const queues = options.queues?.length ? options.queues : [...new Set(['default', ...registeredTasks().map((t) => t.options.queue)])];
  return startWorker({
    redisUrl: runtime.redisUrl,
    client: runtime.client,
    queues,
    concurrency: options.concurrency ?? config.concurrency ?? 4,
    pool: options.pool ?? 'async',
    logger: runtime.logger,
    logLevel: config.logLevel,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    lockDurationMs: options.lockDurationMs ?? config.lockDurationMs,
    maxTasksPerChild: options.maxTasksPerChild,
    maxMemoryPerChildBytes: options.maxMemoryPerChildMb ? options.maxMemoryPerChildMb * 1024 * 1024 : undefined,
    softTimeLimitMs: options.softTimeLimitSeconds ? options.softTimeLimitSeconds * 1000 : undefined,
    timeLimitMs: options.timeLimitSeconds ? options.timeLimitSeconds * 1000 : undefined,
    queueRateLimit: options.rateLimit,
    bootstrap: { module: bootstrapModuleUrl, payload: config },
  });
}
