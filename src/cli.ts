// The command line: one commander program. It loads only commander and this file's small parsers; each
// command's action imports what that command needs (the server, the database, the task client, the lab),
// so `seler --help`, `seler call` and `seler result` do not pay for the web server, sharp or the SQL driver.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { version } from './package-info.js';
import { UsageError, errorMessage } from './platform/errors.js';
import { defineLabCommand, type LabOptions } from './redis-lab/command.js';
// control.ts is types and one constant: the choices of `inspect` without loading the task client.
import { INSPECT_COMMANDS, type InspectCommand } from './tasks/control.js';

export { SHUTDOWN_MARGIN_MS } from './cli/constants.js';

interface WorkerControlOptions {
  destination?: string;
  timeout: number;
  json?: boolean;
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

/** Set when standard output is closed by its reader (`seler … | head`): writers stop, the lab stops and cleans up. */
const stdoutClosed = new AbortController();

export function buildProgram(): Command {
  const program = new Command('seler')
    .description('Background work on Redis: tasks, a thumbnail service, periodic tasks and an admin console.')
    .version(version)
    .showHelpAfterError('(run "seler --help" for usage)')
    // One error style for every command, commander's own errors included: "seler: <sentence>", exit 2.
    .configureOutput({ outputError: (text, write) => write(`seler: ${text.replace(/^error: /, '')}`) })
    .exitOverride();

  const serverOptions = (cmd: Command) =>
    cmd
      .option('--port <port>', 'HTTP port (default PORT or 8000)', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0-65535.');
        return n;
      })
      .option('--host <host>', 'address to listen on (default HOST or 127.0.0.1)');
  const server = () => import('./cli/server.js');

  serverOptions(program.command('start').description('web + worker + beat in one process (the embedded default)'))
    .option('-c, --concurrency <n>', 'tasks run at once by the worker', positiveInt('concurrency'))
    .action(async (opts) => (await server()).runServer({ web: true, worker: true, beat: true }, opts));

  serverOptions(program.command('web').description('the web server only')).action(async (opts) => (await server()).runServer({ web: true, worker: false }, opts));

  program
    .command('beat')
    .description('the scheduler: turns periodic tasks into queued tasks (run as many as you like)')
    .action(async () => (await server()).runServer({ web: false, worker: false, beat: true }, {}));

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
    .option('--rate-limit <rate>', 'start at most this many tasks per queue across all workers, e.g. 10/m')
    .option('--loglevel <level>', 'log level (overrides SELER_LOG_LEVEL)')
    .action(async (opts: { loglevel?: string; maxMemoryPerChild?: number; softTimeLimit?: number; timeLimit?: number; rateLimit?: string }) => {
      if (opts.rateLimit) {
        const { parseRate } = await import('./tasks/rate-limit.js');
        try {
          parseRate(opts.rateLimit);
        } catch (err) {
          throw new UsageError(`option '--rate-limit <rate>' argument '${opts.rateLimit}' is invalid. ${errorMessage(err)}`);
        }
      }
      if (opts.loglevel) process.env.SELER_LOG_LEVEL = opts.loglevel;
      await (await server()).runServer(
        { web: false, worker: true },
        { ...opts, maxMemoryPerChildMb: opts.maxMemoryPerChild, softTimeLimitSeconds: opts.softTimeLimit, timeLimitSeconds: opts.timeLimit },
      );
    });

  const database = () => import('./cli/database.js');
  program
    .command('migrate')
    .description('apply database migrations (start does it too)')
    .action(async () => (await database()).migrateCommand());

  program
    .command('createsuperuser')
    .description('create an admin user with every permission (the password is asked for, or read with --password-stdin)')
    .option('--username <name>', 'the user name')
    .option('--email <address>', 'the e-mail address')
    .option('--password-stdin', 'read the password from standard input (for scripts)')
    .action(async (opts: { username?: string; email?: string; passwordStdin?: boolean }) => (await database()).createsuperuser(opts));

  program
    .command('createtoken')
    .argument('<username>', 'the user the token acts as')
    .description('print a new API token for that user (send it as "Authorization: Bearer <token>")')
    .option('--name <name>', 'a label for the token')
    .action(async (username: string, opts: { name?: string }) => (await database()).createtoken(username, opts));

  program
    .command('rotatesecret')
    .description("replace the admin's signing secret (kept in the database): the new one signs within a minute, the previous one still verifies for the grace period")
    .option('--grace-hours <hours>', 'how long cookies and tokens signed with the previous secret stay good', positiveNumber('--grace-hours'), 14 * 24)
    .action(async (opts: { graceHours: number }) => (await database()).rotatesecret(opts));

  const tasks = () => import('./cli/tasks.js');
  program
    .command('call')
    .argument('<task>', 'the registered name of the task, e.g. demo.add')
    .description('queue a task and print its id')
    .option('--args <json>', 'positional arguments, a JSON array', json('--args', 'array'))
    .option('--kwargs <json>', 'keyword arguments, a JSON object', json('--kwargs', 'object'))
    .option('--countdown <seconds>', 'run no earlier than this many seconds from now', nonNegative('--countdown'))
    .option('--expires <seconds>', 'revoke instead of running if not started within this many seconds', nonNegative('--expires'))
    .option('--queue <name>', 'queue to send it to (default: the task’s own)')
    .option('--priority <n>', 'priority, 1 is the highest', positiveInt('priority'))
    .action(async (task: string, opts) => (await tasks()).call(task, opts));

  program
    .command('result')
    .argument('<id>', 'the task id `seler call` printed')
    .description('print a task’s state and result as JSON')
    .option('--wait <seconds>', 'wait up to this long for the task to finish', nonNegative('--wait'))
    .action(async (id: string, opts: { wait?: number }) => (await tasks()).result(id, opts));

  program
    .command('inspect')
    .description('ask every live worker: active | scheduled | registered | stats | ping')
    .addArgument(new Argument('<command>', 'what to ask').choices([...INSPECT_COMMANDS]))
    .option('--timeout <seconds>', 'how long to wait for replies', positiveNumber('--timeout'), 1.5)
    .option('--json', 'print the replies as JSON')
    .action(async (command: InspectCommand, opts: { timeout: number; json?: boolean }) => (await tasks()).inspectWorkers(command, opts));

  const control = program
    .command('control')
    .description('change live workers, queues and rate limits (Celery’s control): concurrency, add-consumer, cancel-consumer, shutdown, rate-limit, pause, resume');
  const destination = new Option('--destination <workers>', 'only these workers (comma-separated names, as `seler inspect ping` prints them); default: every live worker');
  const timeout = new Option('--timeout <seconds>', 'how long to wait for replies').argParser(positiveNumber('--timeout')).default(3);
  const toWorkers = (sub: Command) => sub.addOption(destination).addOption(timeout).option('--json', 'print the replies as JSON');
  toWorkers(control.command('concurrency').description('run up to <n> tasks at once').argument('<n>', 'tasks at once (1-1000)', positiveInt('<n>'))).action(
    async (value: number, opts: WorkerControlOptions) => (await tasks()).controlWorkersCommand({ command: 'concurrency', value }, opts),
  );
  toWorkers(control.command('add-consumer').description('start consuming a queue').argument('<queue>')).action(
    async (queue: string, opts: WorkerControlOptions) => (await tasks()).controlWorkersCommand({ command: 'add-consumer', queue }, opts),
  );
  toWorkers(control.command('cancel-consumer').description('stop consuming a queue (its running tasks finish)').argument('<queue>')).action(
    async (queue: string, opts: WorkerControlOptions) => (await tasks()).controlWorkersCommand({ command: 'cancel-consumer', queue }, opts),
  );
  toWorkers(control.command('shutdown').description('warm shutdown: finish running tasks, then exit').option('--all', 'every live worker (without it, --destination is required)')).action(
    async (opts: WorkerControlOptions & { all?: boolean }) => {
      if (!opts.all && !opts.destination) throw new UsageError('say which workers to shut down: --destination <names> or --all.');
      return (await tasks()).controlWorkersCommand({ command: 'shutdown' }, opts);
    },
  );
  control
    .command('rate-limit')
    .description('set a task’s rate limit on every worker at once ("10/s", "100/m", "1000/h", "5000/d", "none"), or "reset" to what it declares')
    .argument('<task>')
    .argument('<rate>')
    .action(async (task: string, rate: string) => (await tasks()).rateLimitCommand(task, rate));
  for (const [name, pause] of [['pause', true], ['resume', false]] as const)
    control
      .command(name)
      .description(pause ? 'no worker starts a task of <queue> until it is resumed' : 'let workers take tasks of a paused <queue> again')
      .argument('<queue>')
      .action(async (queue: string) => (await tasks()).pauseQueueCommand(queue, pause));

  program
    .command('cleanup')
    .description('remove uploads and archives older than the retention (SELER_MEDIA_TTL)')
    .option('--older-than <seconds>', 'override the retention', nonNegative('--older-than'))
    .action(async (opts: { olderThan?: number }) => (await import('./cli/media.js')).cleanup(opts));

  defineLabCommand(program.command('lab')).action(async (exercise: string | undefined, opts: LabOptions) => {
    const [{ runLab }, { config, refuseNewDefault }, { resolveRedisTarget }, path] = await Promise.all([
      import('./redis-lab/index.js'),
      import('./cli/common.js'),
      import('./redis-connection.js'),
      import('node:path'),
    ]);
    let server: { stop(): Promise<void> } | undefined;
    try {
      process.exitCode = await runLab(
        exercise,
        opts,
        { stdout: (t) => void (stdoutClosed.signal.aborted || process.stdout.write(t)), stderr: (t) => void process.stderr.write(t), closed: stdoutClosed.signal },
        {
          redisUrl: async () => {
            const cfg = config();
            if (!cfg.redisTarget) refuseNewDefault(path.join(cfg.dataDir, 'redis'), 'private Redis (REDIS_URL is not set)');
            const resolved = await resolveRedisTarget(cfg);
            server = resolved.server;
            return resolved.target.url;
          },
        },
      );
    } finally {
      await server?.stop();
    }
  });
  // The exercise list is shown under `seler lab --help`; it is loaded only when `lab` is the command.
  program.hook('preSubcommand', async (_program, sub) => {
    if (sub.name() === 'lab') sub.addHelpText('after', `\n${(await import('./redis-lab/index.js')).listing()}`);
  });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // The reader went away (`seler … | head`): stop writing, let the command finish its clean-up and exit quietly.
    if (err.code === 'EPIPE' || stdoutClosed.signal.aborted) stdoutClosed.abort();
    else throw err;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const usage = err instanceof UsageError;
    const known = usage || (err as Error).name === 'ConfigError' || (err as Error).name === 'RedisUnavailableError' || (err as { status?: number }).status === 400;
    // Only the unexpected need the Redis module, to put a cluster's errors in a sentence (else the stack is shown).
    const sentence = known ? errorMessage(err) : (await import('./platform/redis.js')).clusterErrorSentence(err);
    process.stderr.write(`seler: ${sentence ?? (err as Error).stack ?? String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
