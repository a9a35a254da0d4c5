// The command line: parse it, load the configuration, start roles, stop on signals.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, loadDotEnv, type Config } from './config.js';
import { openRuntime, resolveRedisUrl, startBeatRole, startWeb, startWorkerRole, version, type Runtime, type WorkerRoleOptions } from './app.js';
import { ConfigError, UsageError, errorMessage } from './platform/errors.js';
import { createLogger, type Logger } from './platform/logger.js';
import { INSPECT_COMMANDS, inspect, parseRate, registeredTasks, type InspectCommand, type TaskView } from './tasks/index.js';
import { createRedis } from './platform/redis.js';
import { cleanupMedia, mediaPaths } from './thumbnails/index.js';
import { migrate, openDatabase, type Db } from './platform/db/index.js';
import { createsuperuserCommand, createtokenCommand, terminalIO } from './admin/index.js';

type Stopper = () => Promise<void>;

/** First SIGINT/SIGTERM: warm shutdown. A second one: stop at once. */
function onShutdownSignals(logger: Logger, stop: Stopper): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down (send the signal again to stop at once)');
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: errorMessage(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function config(): Config {
  loadDotEnv(process.cwd());
  return loadConfig();
}

const positiveInt = (label: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${label} must be a whole number greater than 0.`);
  return n;
};
const positiveNumber = (label: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${label} must be a number greater than 0.`);
  return n;
};
const nonNegative = (label: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${label} must be a number ≥ 0.`);
  return n;
};
const json = (label: string, kind: 'array' | 'object') => (value: string) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`${label} must be JSON, for example ${kind === 'array' ? "'[1, 2]'" : '\'{"key": "value"}\''}.`);
  }
  if (kind === 'array' ? !Array.isArray(parsed) : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`${label} must be a JSON ${kind}.`);
  return parsed;
};

async function runServer(roles: { web: boolean; worker: boolean; beat?: boolean }, opts: WorkerRoleOptions & { port?: number; host?: string }) {
  const cfg = config();
  const role = roles.web && roles.worker ? 'all' : roles.web ? 'web' : roles.worker ? 'worker' : 'beat';
  const logger = createLogger(cfg.logLevel, { role });
  const runtime = await openRuntime(cfg, logger, { database: roles.web || !!roles.beat });
  const stops: Stopper[] = [];
  try {
    if (roles.beat) {
      const beat = await startBeatRole(runtime);
      stops.push(() => beat.close());
    }
    if (roles.worker) {
      const worker = await startWorkerRole(runtime, opts);
      stops.push(() => worker.close());
    }
    if (roles.web) {
      const web = await startWeb(runtime, { port: opts.port, host: opts.host });
      stops.unshift(() => web.close());
    }
  } catch (err) {
    for (const stop of stops) await stop().catch(() => {});
    await runtime.close();
    throw err;
  }
  onShutdownSignals(logger, async () => {
    for (const stop of stops) await stop();
    await runtime.close();
  });
}

/** Opens the database, brings it up to date, runs `fn` (told which migrations were applied now) and closes it. */
async function withDatabase<T>(fn: (db: Db, applied: string[]) => Promise<T>): Promise<T> {
  const cfg = config();
  const db = openDatabase(cfg.databaseUrl, cfg.dataDir);
  try {
    const applied = await migrate(db);
    return await fn(db, applied);
  } finally {
    await db.close();
  }
}

async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const cfg = config();
  const runtime = await openRuntime(cfg, createLogger(process.env.SELER_LOG_LEVEL ?? 'warn'));
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

function printTask(view: TaskView): void {
  const out: Record<string, unknown> = { id: view.id, status: view.status };
  if (view.status === 'SUCCESS') out.result = view.result;
  if (view.error) out.error = view.error.traceback ? { code: view.error.code, message: view.error.message } : view.error;
  if (view.progress) out.progress = view.progress;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function formatReply(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Array.isArray(reply)) return reply.length ? `\n${reply.map((r) => `   * ${typeof r === 'string' ? r : JSON.stringify(r)}`).join('\n')}` : 'none';
  return `\n${JSON.stringify(reply, null, 2).replace(/^/gm, '   ')}`;
}

export function buildProgram(): Command {
  const program = new Command('seler')
    .description('Background work on Redis: tasks, a thumbnail service, periodic tasks and an admin console.')
    .version(version)
    .showHelpAfterError('(run "seler --help" for usage)')
    .exitOverride();

  const serverOptions = (cmd: Command) =>
    cmd
      .option('--port <port>', 'HTTP port (default PORT or 8000)', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0-65535.');
        return n;
      })
      .option('--host <host>', 'address to listen on (default HOST or 127.0.0.1)');

  serverOptions(program.command('start').description('web + worker + beat in one process (the embedded default)'))
    .option('-c, --concurrency <n>', 'tasks run at once by the worker', positiveInt('concurrency'))
    .action(async (opts) => runServer({ web: true, worker: true, beat: true }, opts));

  serverOptions(program.command('web').description('the web server only')).action(async (opts) => runServer({ web: true, worker: false }, opts));

  program
    .command('beat')
    .description('the scheduler: turns periodic tasks into queued tasks (run as many as you like)')
    .action(async () => runServer({ web: false, worker: false, beat: true }, {}));

  program
    .command('worker')
    .description('run tasks from one or more queues')
    .option('-Q, --queues <names>', 'comma-separated queues (default: every queue a registered task uses)', (v) => v.split(',').map((q) => q.trim()).filter(Boolean))
    .option('-c, --concurrency <n>', 'tasks run at once', positiveInt('concurrency'))
    .addOption(
      new Option('-P, --pool <kind>', 'async: in this process (I/O-bound tasks); threads or process: CPU-bound tasks in worker threads or child processes')
        .choices(['async', 'threads', 'process'])
        .default('async'),
    )
    .option('--max-tasks-per-child <n>', 'replace a pool child after this many tasks', positiveInt('--max-tasks-per-child'))
    .option('--max-memory-per-child <MB>', 'replace a pool child whose memory grows past this', positiveInt('--max-memory-per-child'))
    .option('--soft-time-limit <seconds>', 'abort a task’s signal after this long', positiveNumber('--soft-time-limit'))
    .option('--time-limit <seconds>', 'give up a task after this long (pool children are killed)', positiveNumber('--time-limit'))
    .option('--rate-limit <rate>', 'start at most this many tasks per queue across all workers, e.g. 10/m', (v) => {
      try {
        parseRate(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      return v;
    })
    .option('--loglevel <level>', 'log level (overrides SELER_LOG_LEVEL)')
    .action(async (opts: WorkerRoleOptions & { loglevel?: string; maxMemoryPerChild?: number; softTimeLimit?: number; timeLimit?: number }) => {
      if (opts.loglevel) process.env.SELER_LOG_LEVEL = opts.loglevel;
      await runServer(
        { web: false, worker: true },
        { ...opts, maxMemoryPerChildMb: opts.maxMemoryPerChild, softTimeLimitSeconds: opts.softTimeLimit, timeLimitSeconds: opts.timeLimit },
      );
    });

  program
    .command('migrate')
    .description('apply database migrations (start does it too)')
    .action(async () =>
      withDatabase(async (db, applied) => {
        process.stdout.write(applied.length ? `Applied ${applied.join(', ')} to ${db.description}.\n` : `${db.description} is up to date.\n`);
      }),
    );

  program
    .command('createsuperuser')
    .description('create an admin user with every permission (the password is asked for, or read with --password-stdin)')
    .option('--username <name>', 'the user name')
    .option('--email <address>', 'the e-mail address')
    .option('--password-stdin', 'read the password from standard input (for scripts)')
    .action(async (opts: { username?: string; email?: string; passwordStdin?: boolean }) =>
      withDatabase(async (db) => {
        process.exitCode = await createsuperuserCommand(db, opts, terminalIO());
      }),
    );

  program
    .command('createtoken <username>')
    .description('print a new API token for that user (send it as "Authorization: Bearer <token>")')
    .option('--name <name>', 'a label for the token')
    .action(async (username: string, opts: { name?: string }) =>
      withDatabase(async (db) => {
        process.exitCode = await createtokenCommand(db, username, terminalIO(), opts);
      }),
    );

  program
    .command('call <task>')
    .description('queue a task and print its id')
    .option('--args <json>', 'positional arguments, a JSON array', json('--args', 'array'))
    .option('--kwargs <json>', 'keyword arguments, a JSON object', json('--kwargs', 'object'))
    .option('--countdown <seconds>', 'run no earlier than this many seconds from now', nonNegative('--countdown'))
    .option('--expires <seconds>', 'revoke instead of running if not started within this many seconds', nonNegative('--expires'))
    .option('--queue <name>', 'queue to send it to (default: the task’s own)')
    .option('--priority <n>', 'priority, 1 is the highest', positiveInt('priority'))
    .action(async (task: string, opts) =>
      withRuntime(async (runtime) => {
        if (!registeredTasks().some((t) => t.name === task))
          throw new UsageError(`Unknown task "${task}". Registered tasks: ${registeredTasks().map((t) => t.name).join(', ')}.`);
        const { id } = await runtime.client.enqueue(task, opts);
        process.stdout.write(`${id}\n`);
      }),
    );

  program
    .command('result <id>')
    .description('print a task’s state and result as JSON')
    .option('--wait <seconds>', 'wait up to this long for the task to finish', nonNegative('--wait'))
    .action(async (id: string, opts: { wait?: number }) =>
      withRuntime(async (runtime) => {
        const view = opts.wait ? await runtime.client.waitUntilReady(id, opts.wait * 1000) : await runtime.client.getTask(id);
        if (!view) throw new ConfigError(`No task with id "${id}" (it never existed or its result has expired).`);
        printTask(view);
        if (view.status === 'FAILURE' || view.status === 'REVOKED') process.exitCode = 1;
      }),
    );

  program
    .command('inspect')
    .description('ask every live worker: active | scheduled | registered | stats | ping')
    .addArgument(new Argument('<command>', 'what to ask').choices([...INSPECT_COMMANDS]))
    .option('--timeout <seconds>', 'how long to wait for replies', positiveNumber('--timeout'), 1.5)
    .option('--json', 'print the replies as JSON')
    .action(async (command: InspectCommand, opts: { timeout: number; json?: boolean }) =>
      withRuntime(async (runtime) => {
        const blocking = createRedis(runtime.redisUrl, { name: 'seler-inspect', maxRetriesPerRequest: null });
        try {
          const replies = await inspect(runtime.redis, blocking, runtime.client.keys, command, opts.timeout * 1000);
          if (opts.json) process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
          else if (!replies.length) process.stdout.write('No worker answered.\n');
          else for (const { worker, reply } of replies) process.stdout.write(`-> ${worker}: ${formatReply(reply)}\n`);
          if (!replies.length) process.exitCode = 1;
        } finally {
          blocking.disconnect();
        }
      }),
    );

  program
    .command('cleanup')
    .description('remove uploads and archives older than the retention (SELER_MEDIA_TTL)')
    .option('--older-than <seconds>', 'override the retention', nonNegative('--older-than'))
    .action(async (opts: { olderThan?: number }) => {
      const cfg = config();
      const { removed, bytes } = await cleanupMedia(mediaPaths(cfg.mediaDir), opts.olderThan ?? cfg.retention.mediaSeconds);
      process.stdout.write(`Removed ${removed} item(s), ${(bytes / 1024 / 1024).toFixed(1)} MB.\n`);
    });

  program
    .command('lab [args...]')
    .description('the lab’s Redis exercises ("seler lab" lists them)')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      const { runLabCli } = await import('./redis-lab/index.js');
      let server: { stop(): Promise<void> } | undefined;
      const code = await runLabCli(
        args,
        { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
        {
          redisUrl: async () => {
            const resolved = await resolveRedisUrl(config());
            server = resolved.server;
            return resolved.url;
          },
        },
      );
      await server?.stop();
      process.exitCode = code;
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const usage = err instanceof UsageError;
    const known = usage || err instanceof ConfigError || (err as Error).name === 'RedisUnavailableError' || (err as { status?: number }).status === 400;
    process.stderr.write(`seler: ${known ? errorMessage(err) : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
