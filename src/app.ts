// The composition root: the one file that wires every feature together into the roles.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config.js';
import { packageRoot, version } from './package-info.js';
import { migrate, openDatabase, pingDatabase, type Db } from './platform/db/index.js';
import { ConfigError } from './platform/errors.js';
import { createHttpServer } from './platform/http.js';
import type { Logger } from './platform/logger.js';
import { announceDatabase, type DatabaseAnnouncer } from './platform/db-identity.js';
import { closeRedis, keyspace, type RedisTarget, pingWithin, watchRedisConnection, type Redis } from './platform/redis.js';
import { REDIS_COMMAND_TIMEOUT_MS, connectConfiguredRedis, resolveRedisTarget } from './redis-connection.js';
import { TaskAccess, TaskClient, registerTaskRoutes, registeredTasks, startWorker, type PoolKind, type RunningWorker, type TaskResources } from './tasks/index.js';
import { bootstrapModuleUrl, loadTasks } from './task-modules.js';
import { ConfigSync, PeriodicTasks, RunClaims, notifyScheduleChanged, registerBeatRoutes, startBeat, syncStaticSchedules, type RunningBeat } from './beat/index.js';
import {
  auditLog, hasSuperuser, loadSecrets, recordChange, registerAdminAuth, registerAdminConsole, registerAdminRoutes, requirePerm, staffGuard, SESSION_COOKIE,
} from './admin/index.js';
import { registerMonitoring } from './monitoring/index.js';

import { describeStorageTarget, type ObjectStore } from './platform/storage/index.js';
import { UploadBudget, openMediaStore, prepareScratch, registerThumbnailRoutes, scratchDirOf, storageProbe } from './thumbnails/index.js';

export { packageRoot, version };

/** Connections every role shares: Redis (private or configured), the task client, and optionally the database. */
export interface Runtime {
  config: Config;
  logger: Logger;
  redisTarget: RedisTarget | string;
  redis: Redis;
  client: TaskClient;
  /** Where uploads and results are kept (the data dir's media/, or S3). */
  store: ObjectStore;
  /** What this process's worker hands its tasks (ctx.resources): the thumbnail store and limits. */
  taskResources: Partial<TaskResources>;
  db?: Db;
  /** Present with the database: what the other processes on this Redis use (conflicts are shown in /readyz). */
  databases?: DatabaseAnnouncer;
  close(): Promise<void>;
}

export { REDIS_COMMAND_TIMEOUT_MS, resolveRedisTarget };

export async function openRuntime(config: Config, logger: Logger, options: { database?: boolean } = {}): Promise<Runtime> {
  const { target, server, redis, version: redisVersion } = await connectConfiguredRedis(config, logger);
  logger.info({ redis: target.display, kind: target.kind, version: redisVersion }, 'connected to Redis');
  const unwatch = watchRedisConnection(redis, logger);

  let db: Db | undefined;
  if (options.database) {
    // Opening can fail too (SQLite's native module missing, a data dir that cannot be written): the
    // Redis connection and the private Redis are let go either way, or the process would not exit.
    let opened: Db | undefined;
    try {
      opened = openDatabase(config.databaseUrl, config.dataDir);
      const applied = await migrate(opened);
      if (applied.length) logger.info({ applied, database: opened.description }, 'database migrated');
    } catch (err) {
      await opened?.close();
      redis.disconnect();
      await server?.stop();
      throw new ConfigError(opened ? `Cannot prepare the database ${opened.description}: ${(err as Error).message}` : `Cannot open the database: ${(err as Error).message}`);
    }
    db = opened;
  }

  // Which database this process uses, announced in Redis: hosts on different databases (several on SQLite) are told loudly.
  const databases = db ? await announceDatabase({ redis, keys: keyspace(config.redisPrefix), db, logger, hostname: config.hostname }) : undefined;

  const store = await openMediaStore(config.storage).catch(async (err: unknown) => {
    await db?.close();
    redis.disconnect();
    await server?.stop();
    throw new ConfigError(`Cannot prepare the storage ${describeStorageTarget(config.storage)}: ${(err as Error).message}`);
  });
  await prepareScratch(scratchDirOf(config.dataDir));
  if (config.storage.kind === 's3') logger.info({ storage: store.description }, 'objects are kept in S3');
  const taskResources = await loadTasks(config, store);
  const client = new TaskClient({
    redis,
    redisTarget: target,
    keys: keyspace(config.redisPrefix),
    retention: { successSeconds: config.retention.successSeconds, failureSeconds: config.retention.failureSeconds },
    eventsMaxLen: config.eventsMaxLen,
    logger,
  });

  return {
    config,
    logger,
    redisTarget: target,
    redis,
    client,
    store,
    taskResources,
    db,
    databases,
    async close() {
      // Against a dead or hung Redis every step is cut short: closing must not outlast the shutdown timeout.
      const answering = await pingWithin(redis, 300).then(() => true, () => false);
      await Promise.race([client.close().catch(() => {}), sleep(answering ? 2000 : 200, undefined, { ref: false })]);
      if (answering) await databases?.close();
      await db?.close();
      store.close();
      unwatch();
      await closeRedis(redis, answering ? 1000 : 0);
      // The private redis-server goes last, after every role: a clean SHUTDOWN (AOF fsynced, socket removed).
      await server?.stop({ timeoutMs: answering ? undefined : 500 });
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
  // Whether the store takes writes: /readyz says not ready and uploads get 503 when it does not.
  const storageReady = storageProbe(runtime.store);
  // Not a reason to refuse to start (uploads get 503 until it answers), but worth one line now.
  void storageReady().catch((err: unknown) => logger.warn({ storage: runtime.store.description, err: (err as Error).message }, 'the store does not take writes yet'));
  const app = await createHttpServer({
    logger,
    version,
    trustProxy: config.trustProxy,
    eventStreams: config.eventStreams,
    rateLimit: { redis: runtime.redis, keyPrefix: client.keys.key('') },
    ready: async () => {
      await pingWithin(runtime.redis, 750);
      if (runtime.db) await pingDatabase(runtime.db);
      await storageReady();
    },
    readyWarnings: async () => (await runtime.databases?.conflicts()) ?? [],
  });
  await app.register(fastifyMultipart, { throwFileSizeLimit: false });
  const webDist = path.join(packageRoot, 'dist', 'web');
  if (runtime.db) {
    const secret = await loadSecrets({ secret: config.secret, db: runtime.db, dataDir: config.dataDir });
    const consoleHtml = path.join(webDist, 'admin', 'index.html');
    const consoleBuilt = existsSync(consoleHtml);
    const auth = await registerAdminAuth(app, { db: runtime.db, secret, logger, cookieSecure: config.cookieSecure });
    registerAdminRoutes(app, auth, { shellPage: !consoleBuilt });
    // Periodic tasks, guarded by the admin's permissions and written to its history.
    registerBeatRoutes(app, {
      tasks: new PeriodicTasks(runtime.db, { timezone: config.timezone }),
      claims: new RunClaims(runtime.db),
      client,
      logger,
      timezone: config.timezone,
      guard: staffGuard,
      audit: auditLog(runtime.db),
      notify: () => notifyScheduleChanged(runtime.redis, client.keys),
    });
    if (consoleBuilt) registerAdminConsole(app, { htmlFile: consoleHtml });
    if (!(await hasSuperuser(runtime.db)))
      logger.warn('No superuser exists yet: create one with "seler createsuperuser" (or "npx seler createsuperuser") to use /admin.');
  }
  // The monitor (task index, /api/v1/monitor, /metrics) is guarded by the admin's permissions and writes to its history.
  const db = runtime.db;
  // The public task routes: uploads by their id (and cancel token), anything else for staff only (view_task /
  // change_task), revokes audited. Without the database there is no staff: only uploads are served.
  const access = new TaskAccess({
    client,
    ...(db ? { guard: (request, perm) => (presentsStaffCredentials(request) ? requirePerm(request, perm) : Promise.resolve(null)), audit: (actor, change) => recordChange(db, { ...change, actor }) } : {}),
  });
  registerTaskRoutes(app, { client, hub, access });
  const monitoring = await registerMonitoring(app, {
    client,
    hub,
    redisTarget: runtime.redisTarget,
    logger,
    metrics: config.metrics,
    ...(db ? { guard: (request, perm) => requirePerm(request, perm), audit: (actor, change) => recordChange(db, { ...change, actor }) } : {}),
  });
  const budget = new UploadBudget(
    runtime.redis,
    client.keys,
    {
      ...(config.uploads.rate ? { requests: config.uploads.rate } : {}),
      ...(config.uploads.bytesPerHour ? { bytes: { count: config.uploads.bytesPerHour, periodMs: 3_600_000 } } : {}),
    },
    logger,
  );
  registerThumbnailRoutes(app, {
    client,
    access,
    store: runtime.store,
    scratchDir: scratchDirOf(config.dataDir),
    limits: config.limits,
    downloads: config.downloads,
    intake: { budget, storageReady, idleTimeoutMs: config.uploads.idleTimeoutMs },
  });

  if (existsSync(path.join(webDist, 'index.html'))) {
    // A wildcard route (not one per file) so the console's guarded /admin/* route owns everything under /admin/.
    // Source maps are never served, even if a build left some behind.
    await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: true, index: ['index.html'], allowedPath: (pathName) => !pathName.endsWith('.map') });
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

/** A Bearer token or the admin's session cookie: the caller claims to be staff, so the admin's check decides. */
function presentsStaffCredentials(request: FastifyRequest): boolean {
  const auth = request.headers.authorization;
  return (typeof auth === 'string' && /^bearer(\s|$)/i.test(auth)) || request.cookies?.[SESSION_COOKIE] !== undefined;
}

export async function startBeatRole(runtime: Runtime): Promise<RunningBeat> {
  const { config, logger, client } = runtime;
  if (!runtime.db) throw new Error('the beat role needs the database (open the runtime with database: true)');
  const synced = await syncStaticSchedules(new ConfigSync(runtime.db), config.beatSchedule, config.timezone);
  logger.info(synced, 'static schedules synced');
  return startBeat({ claims: new RunClaims(runtime.db), client, redis: runtime.redis, redisTarget: runtime.redisTarget, keys: client.keys, logger });
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
  /** See WorkerOptions.onShutdownRequested (default: SIGTERM to this process). */
  onShutdownRequested?: () => void;
}

export async function startWorkerRole(runtime: Runtime, options: WorkerRoleOptions = {}): Promise<RunningWorker> {
  const { config } = runtime;
  const queues = options.queues?.length ? options.queues : [...new Set(['default', ...registeredTasks().map((t) => t.options.queue)])];
  return startWorker({
    redisTarget: runtime.redisTarget,
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
    resources: runtime.taskResources,
    bootstrap: { module: bootstrapModuleUrl, payload: config },
    onShutdownRequested: options.onShutdownRequested,
  });
}
