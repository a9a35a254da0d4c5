// The options of `seler lab`, defined once with commander: the main command line adds them to its `lab`
// subcommand, and runLabCli (tests, other callers) parses with the same definition. Loads nothing else.
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULTS } from './settings.js';

export interface LabOptions {
  redisUrl?: string;
  /** Milliseconds. */
  timeout: number;
  /** Milliseconds. */
  connectTimeout: number;
  json?: boolean;
  listen?: boolean;
  flushScripts?: boolean;
  rounds: number;
  prefix: string;
}

const seconds = (option: string) => (raw: string) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${option} must be a positive number of seconds.`);
  return Math.round(value * 1000);
};

export function defineLabCommand(cmd: Command): Command {
  return cmd
    .description('the lab’s Redis exercises (without an exercise: the list)')
    .argument('[exercise]', 'an exercise, or "all" to run every one in order')
    .option('--redis-url <url>', 'the Redis to use (default: the configured one)')
    .option('--timeout <seconds>', 'bound for anything that blocks or listens', seconds('--timeout'), DEFAULTS.timeoutMs)
    .option('--connect-timeout <seconds>', 'give up connecting after this long', seconds('--connect-timeout'), DEFAULTS.connectTimeoutMs)
    .option('--json', 'print machine-readable results')
    .option('--listen', 'keep the listener of blocking, pubsub, streams or keyspace open (Ctrl-C stops)')
    .option('--flush-scripts', 'lua: run SCRIPT FLUSH (server-wide) to show NOSCRIPT and its fallback')
    .option(
      '--rounds <n>',
      'pipeline: benchmark rounds',
      (raw: string) => {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--rounds must be a whole number of at least 1.');
        return n;
      },
      DEFAULTS.rounds,
    )
    .option(
      '--prefix <prefix>',
      'key prefix: keys are <prefix>:<exercise>:…',
      (raw: string) => {
        if (!/^[\w.-]+$/.test(raw)) throw new InvalidArgumentError('--prefix may only use letters, digits, "_", "." and "-".');
        return raw;
      },
      DEFAULTS.prefix,
    );
}
