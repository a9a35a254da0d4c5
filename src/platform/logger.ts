// Logs (pino): one JSON object per line for machines, or one readable line per event on a terminal. Task log
// lines carry `taskId` through child loggers. SELER_LOG_FORMAT=pretty|json forces either; unset, a terminal
// (stdout is a TTY) gets pretty lines and anything else (a pipe, a file, a log collector) gets JSON.
import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import type { Logger } from 'pino';
import { formatLogLine } from './log-format.js';

export type { Logger };
export type LogFormat = 'pretty' | 'json';

// Loaded with require (see redis.ts: an ESM import of a CommonJS package scans its files first).
const { pino } = createRequire(import.meta.url)('pino') as typeof Pino;

/** The format in force: SELER_LOG_FORMAT (also inherited by pool children), else pretty on a terminal. */
export function logFormat(stream: { isTTY?: boolean } = process.stdout, forced = process.env.SELER_LOG_FORMAT): LogFormat {
  if (forced === 'pretty' || forced === 'json') return forced;
  return stream.isTTY ? 'pretty' : 'json';
}

export interface LoggerOptions {
  /** Default: logFormat() of the destination. */
  format?: LogFormat;
  /** Where the lines go: stdout (servers) or stderr (commands whose stdout is their answer). */
  destination?: NodeJS.WriteStream;
}

export function createLogger(level = 'info', bindings: Record<string, unknown> = {}, options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const format = options.format ?? logFormat(destination);
  const settings: Pino.LoggerOptions = {
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (format === 'json') return destination === process.stdout ? pino(settings) : pino(settings, pino.destination({ dest: destination === process.stderr ? 2 : 1, sync: true }));
  const color = Boolean(destination.isTTY) && !process.env.NO_COLOR;
  // Synchronous, as pino's own default for stdout: a line is out before the process may exit.
  return pino(settings, { write: (line: string) => void destination.write(formatLogLine(line, { color })) });
}

export const silentLogger: Logger = pino({ level: 'silent' });
