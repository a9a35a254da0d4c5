// `seler start | web | worker | beat`: open the shared connections, start the roles, stop on signals.
import { hasSuperuser } from '../admin/index.js';
import { openRuntime, startBeatRole, startWeb, startWorkerRole, type Runtime, type WorkerRoleOptions } from '../app.js';
import { followWrapper, signalDeduper } from '../platform/allocator.js';
import { errorMessage } from '../platform/errors.js';
import { createLogger, logFormat, type LogFormat, type Logger } from '../platform/logger.js';
import { describeRedisUrl } from '../platform/redis.js';
import { config } from './common.js';
import { SHUTDOWN_MARGIN_MS } from './constants.js';

type Stopper = () => Promise<void>;
type Role = { name: string; stop: Stopper };


/**
 * First SIGINT/SIGTERM: warm shutdown, which ends within the shutdown timeout plus a small margin
 * whatever Redis does (exit 0; exit 1 if it had to be cut short). A second one: stop at once (exit 1).
 */
function onShutdownSignals(logger: Logger, stop: Stopper, timeoutMs: number): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, timeoutMs }, 'shutting down (send the signal again to stop at once)');
    const limit = timeoutMs + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      // The private redis-server still stops cleanly: its guard sees this process go.
      logger.error({ limitMs: limit }, 'shutdown did not finish in time: stopping now');
      process.exit(1);
    }, limit).unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: errorMessage(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  // A relaunched worker (platform/allocator.ts) hears its wrapper's signals too; each counts once.
  const deliver = signalDeduper(handler);
  followWrapper(deliver);
  process.on('SIGINT', (signal) => deliver(signal, 'direct'));
  process.on('SIGTERM', (signal) => deliver(signal, 'direct'));
}

export async function runServer(roles: { web: boolean; worker: boolean; beat?: boolean }, opts: WorkerRoleOptions & { port?: number; host?: string }) {
  const cfg = config();
  const role = roles.web && roles.worker ? 'all' : roles.web ? 'web' : roles.worker ? 'worker' : 'beat';
  const format = cfg.logFormat ?? logFormat();
  // Pool children (processes and threads) write to the same terminal or pipe: they log in the parent's format.
  process.env.SELER_LOG_FORMAT = format;
  const logger = createLogger(cfg.logLevel, { role }, { format });
  const runtime = await openRuntime(cfg, logger, { database: roles.web || !!roles.beat });
  const stops: Role[] = [];
  let url: string | undefined;
  try {
    if (roles.beat) {
      const beat = await startBeatRole(runtime);
      stops.push({ name: 'beat', stop: () => beat.close() });
    }
    if (roles.worker) {
      const worker = await startWorkerRole(runtime, opts);
      stops.push({ name: 'worker', stop: () => worker.close() });
    }
    if (roles.web) {
      const web = await startWeb(runtime, { port: opts.port, host: opts.host });
      stops.unshift({ name: 'web', stop: () => web.close() });
      url = web.url;
    }
  } catch (err) {
    for (const { stop } of stops) await stop().catch(() => {});
    await runtime.close();
    throw err;
  }
  await announceReady(runtime, logger, format, url, role);
  onShutdownSignals(
    logger,
    async () => {
      // The roles stop side by side (web closed, beat stopped, the worker's warm shutdown), so the
      // worker's timeout is not added to the others'; the connections and the private Redis go last.
      // Each role gets the timeout and part of the margin; the rest is for the connections and Redis.
      const budget = cfg.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS - 1500;
      await Promise.all(
        stops.map(({ name, stop }) => {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<void>((resolve) => (timer = setTimeout(() => (logger.warn({ role: name }, `the ${name} role did not stop in time; going on`), resolve()), budget)));
          const stopped = stop().catch((err: unknown) => logger.warn({ role: name, err: errorMessage(err) }, `the ${name} role did not stop cleanly`));
          return Promise.race([stopped, late]).finally(() => clearTimeout(timer));
        }),
      );
      await runtime.close();
      logger.info('stopped');
    },
    cfg.shutdownTimeoutMs,
  );
}


/**
 * One line when everything is up: where to go, which data directory and database, and whether anyone can log in
 * to the admin yet. On a terminal it stands out from the log; in JSON it is a log entry with the same fields.
 */
async function announceReady(runtime: Runtime, logger: Logger, format: LogFormat, url: string | undefined, role: string): Promise<void> {
  const { config: cfg, db } = runtime;
  const superuser = db ? await hasSuperuser(db) : undefined;
  const fields = { url, dataDir: cfg.dataDir, database: db?.description, redis: describeRedisUrl(runtime.redisTarget), superuser };
  const what = url ? `seler is ready at ${url}` : `seler ${role} is ready`;
  if (format === 'json') {
    logger.info(fields, what);
    return;
  }
  const admin = superuser === undefined ? '' : superuser ? '; admin at /admin' : '; no superuser yet: create one with "npx seler createsuperuser"';
  const line = `${what}  (data ${cfg.dataDir}${db ? `, database ${db.description}` : ''}, Redis ${fields.redis}${admin})`;
  process.stdout.write(process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${line}\x1b[0m\n` : `${line}\n`);
}
