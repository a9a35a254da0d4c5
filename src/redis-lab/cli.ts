// `seler lab [exercise] [options]`: runs the exercises the parsed options name, and the exit codes.
import { Command, CommanderError } from 'commander';
import { UsageError, errorMessage } from '../platform/errors.js';
import { describeRedisUrl } from '../platform/redis.js';
import { defineLabCommand, type LabOptions } from './command.js';
import { EXERCISES, findExercise } from './exercises/index.js';
import { textPrinter, toJson } from './render.js';
import { runExercises } from './runner.js';
import { labSettings } from './settings.js';
import type { Exercise } from './types.js';

export type { LabOptions };

export interface LabIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Aborted when standard output is closed (`seler lab … | head`): the run stops as after Ctrl-C, still removing
   * its keys, and says nothing more; the exit code is 0, as for any producer whose reader has seen enough.
   */
  closed?: AbortSignal;
}

export interface LabDefaults {
  /** The configured Redis URL, used when --redis-url is not given. */
  redisUrl: () => Promise<string>;
  /** Ends a run early (as Ctrl-C does); --listen sessions end this way. */
  signal?: AbortSignal;
}

/**
 * Parses `argv` with the same definition as `seler lab` and runs it. Resolves to the exit code (0 ok, 1 failure,
 * 2 bad usage); errors are written as `seler: <sentence>`. Never throws.
 */
export async function runLabCli(argv: string[], io: LabIo, defaults: LabDefaults): Promise<number> {
  let code = 0;
  const cmd = defineLabCommand(new Command('lab'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(`seler: ${text.replace(/^error: /, '')}`) })
    .addHelpText('after', `\n${listing()}`)
    .action(async (exercise: string | undefined, options: LabOptions) => {
      code = await runLab(exercise, options, io, defaults);
    });
  try {
    await cmd.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.stderr(`seler: ${errorMessage(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/** Runs what the options name. Throws UsageError for bad usage and RedisUnavailableError (one sentence) for an unreachable Redis. */
export async function runLab(name: string | undefined, options: LabOptions, io: LabIo, defaults: LabDefaults): Promise<number> {
  if (name === undefined) {
    io.stdout(options.json ? `${JSON.stringify({ exercises: EXERCISES.map(({ name, rows, summary }) => ({ name, rows, summary })) }, null, 2)}\n` : listing());
    return 0;
  }
  const exercises: readonly Exercise[] = name === 'all' ? EXERCISES : [findExercise(name)].filter((e): e is Exercise => !!e);
  if (exercises.length === 0) throw new UsageError(`Unknown exercise "${name}". Valid exercises: ${EXERCISES.map((e) => e.name).join(', ')}, or all.`);
  if (options.listen && name === 'all') throw new UsageError('--listen keeps one exercise open; name the exercise instead of "all".');

  const redisUrl = options.redisUrl ?? (await defaults.redisUrl());

  const controller = new AbortController();
  const stop = () => controller.abort();
  defaults.signal?.addEventListener('abort', stop, { once: true });
  io.closed?.addEventListener('abort', stop, { once: true });
  if (defaults.signal?.aborted || io.closed?.aborted) stop();
  // `once`: a second Ctrl-C during a stuck cleanup falls through to Node's default and ends the process.
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stdout = (text: string) => {
    if (!io.closed?.aborted) io.stdout(text);
  };

  const settings = labSettings(redisUrl, {
    prefix: options.prefix,
    timeoutMs: options.timeout,
    connectTimeoutMs: options.connectTimeout,
    listen: options.listen ?? false,
    flushScripts: options.flushScripts ?? false,
    rounds: options.rounds,
    signal: controller.signal,
    onEvent: options.json ? undefined : withHeader(textPrinter(stdout), () => stdout(`Redis at ${describeRedisUrl(redisUrl)}; keys under ${options.prefix}:<exercise>:, removed afterwards.\n`)),
  });
  try {
    if (settings.listen && !exercises[0]!.listens) io.stderr(`seler: --listen has no effect on ${name}; it runs as usual.\n`);
    const run = await runExercises(exercises, settings);
    if (io.closed?.aborted) return 0;
    if (options.json) stdout(`${JSON.stringify(toJson(run), null, 2)}\n`);
    for (const result of run.exercises)
      if (result.error && result.error !== 'interrupted') io.stderr(`seler: lab ${result.exercise}: ${result.error}\n`);
    if (exercises.length > 1 && !options.json) {
      const passed = run.exercises.filter((r) => r.ok).length;
      stdout(`\n${passed} of ${exercises.length} exercises completed${passed === exercises.length ? '' : ' (see the errors above)'}\n`);
    }
    if (controller.signal.aborted && !settings.listen) io.stderr('Interrupted.\n');
    return run.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    defaults.signal?.removeEventListener('abort', stop);
    io.closed?.removeEventListener('abort', stop);
  }
}

/** Calls `header` before the first event (once connected: an unreachable Redis prints nothing on stdout). */
function withHeader<E>(print: (event: E) => void, header: () => void): (event: E) => void {
  let first = true;
  return (event) => {
    if (first) header();
    first = false;
    print(event);
  };
}

export function listing(): string {
  const width = Math.max(...EXERCISES.map((e) => e.name.length), 3);
  const lines = EXERCISES.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`);
  return `Redis lab exercises (seler lab <exercise> [--redis-url URL]):\n${lines.join('\n')}\n  ${'all'.padEnd(width)}  run them all, in this order\n`;
}
