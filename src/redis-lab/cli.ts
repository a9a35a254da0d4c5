// `seler lab [exercise] [options]`: argument parsing, the exercise list, exit codes.
import { parseArgs } from 'node:util';
import { RedisUnavailableError } from '../platform/redis.js';
import { errorMessage } from '../platform/errors.js';
import { EXERCISES, findExercise } from './exercises/index.js';
import { textPrinter, toJson } from './render.js';
import { runExercises } from './runner.js';
import { DEFAULTS, labSettings } from './settings.js';
import type { Exercise } from './types.js';

export interface LabIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface LabDefaults {
  /** The configured Redis URL, used when --redis-url is not given. */
  redisUrl: () => Promise<string>;
  /** Ends a run early (as Ctrl-C does); --listen sessions end this way. */
  signal?: AbortSignal;
}

const OPTIONS = {
  'redis-url': { type: 'string' },
  timeout: { type: 'string' },
  'connect-timeout': { type: 'string' },
  json: { type: 'boolean' },
  listen: { type: 'boolean' },
  'flush-scripts': { type: 'boolean' },
  rounds: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `Usage: seler lab [exercise|all] [options]

Options:
  --redis-url URL          the Redis to use (default: the configured one)
  --timeout S              bound for anything that blocks or listens (default 5)
  --connect-timeout S      give up connecting after S seconds (default 3)
  --json                   print machine-readable results
  --listen                 keep the listener of blocking, pubsub, streams or keyspace open (Ctrl-C stops)
  --flush-scripts          lua: run SCRIPT FLUSH (server-wide) to show NOSCRIPT and its fallback
  --rounds N               pipeline: benchmark rounds (default 10)
  --prefix P               key prefix, keys are P:<exercise>:… (default lab)
`;

class Usage extends Error {}

/** Resolves to the exit code: 0 ok, 1 failure, 2 bad usage. Never throws. */
export async function runLabCli(argv: string[], io: LabIo, defaults: LabDefaults): Promise<number> {
  try {
    return await main(argv, io, defaults);
  } catch (err) {
    if (err instanceof Usage) {
      io.stderr(`${err.message}\nRun "seler lab --help" for the options.\n`);
      return 2;
    }
    io.stderr(`${errorMessage(err)}\n`);
    return 1;
  }
}

async function main(argv: string[], io: LabIo, defaults: LabDefaults): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new Usage(errorMessage(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n${listing()}`);
    return 0;
  }
  if (positionals.length === 0) {
    io.stdout(values.json ? `${JSON.stringify({ exercises: EXERCISES.map(({ name, rows, summary }) => ({ name, rows, summary })) }, null, 2)}\n` : listing());
    return 0;
  }
  if (positionals.length > 1) throw new Usage(`Give one exercise, not ${positionals.length} (${positionals.join(' ')}).`);
  const name = positionals[0]!;
  const exercises: readonly Exercise[] = name === 'all' ? EXERCISES : [findExercise(name)].filter((e): e is Exercise => !!e);
  if (exercises.length === 0) {
    io.stderr(`Unknown exercise "${name}". Valid exercises: ${EXERCISES.map((e) => e.name).join(', ')}, or all.\n`);
    return 2;
  }
  if (values.listen && name === 'all') throw new Usage('--listen keeps one exercise open; name the exercise instead of "all".');

  const prefix = values.prefix ?? DEFAULTS.prefix;
  if (!/^[\w.-]+$/.test(prefix)) throw new Usage(`--prefix "${prefix}" may only use letters, digits, "_", "." and "-".`);
  const timeoutMs = seconds(values.timeout, '--timeout', DEFAULTS.timeoutMs);
  const connectTimeoutMs = seconds(values['connect-timeout'], '--connect-timeout', DEFAULTS.connectTimeoutMs);
  const rounds = values.rounds === undefined ? DEFAULTS.rounds : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Usage(`--rounds "${values.rounds}" is not a whole number of at least 1.`);

  const redisUrl = values['redis-url'] ?? (await defaults.redisUrl());

  const controller = new AbortController();
  const stop = () => controller.abort();
  defaults.signal?.addEventListener('abort', stop, { once: true });
  if (defaults.signal?.aborted) stop();
  // `once`: a second Ctrl-C during a stuck cleanup falls through to Node's default and ends the process.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const settings = labSettings(redisUrl, {
    prefix,
    timeoutMs,
    connectTimeoutMs,
    listen: values.listen ?? false,
    flushScripts: values['flush-scripts'] ?? false,
    rounds,
    signal: controller.signal,
    onEvent: values.json ? undefined : textPrinter(io.stdout),
  });
  try {
    if (settings.listen && !exercises[0]!.listens) io.stderr(`--listen has no effect on ${name}; it runs as usual.\n`);
    const run = await runExercises(exercises, settings);
    if (values.json) io.stdout(`${JSON.stringify(toJson(run), null, 2)}\n`);
    for (const result of run.exercises)
      if (result.error && result.error !== 'interrupted') io.stderr(`seler lab ${result.exercise}: ${result.error}\n`);
    if (exercises.length > 1 && !values.json) {
      const passed = run.exercises.filter((r) => r.ok).length;
      io.stdout(`\n${passed} of ${exercises.length} exercises completed${passed === exercises.length ? '' : ' (see the errors above)'}\n`);
    }
    if (controller.signal.aborted && !settings.listen) io.stderr('Interrupted.\n');
    return run.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    defaults.signal?.removeEventListener('abort', stop);
  }
}

function seconds(raw: string | undefined, option: string, fallbackMs: number): number {
  if (raw === undefined) return fallbackMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Usage(`${option} "${raw}" is not a positive number of seconds.`);
  return Math.round(value * 1000);
}

function listing(): string {
  const width = Math.max(...EXERCISES.map((e) => e.name.length), 3);
  const lines = EXERCISES.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`);
  return `Redis lab exercises (seler lab <exercise> [--redis-url URL]):\n${lines.join('\n')}\n  ${'all'.padEnd(width)}  run them all, in this order\n`;
}
