// Defaults of a lab run; the CLI overrides them from its options.
import type { LabSettings } from './types.js';

export const DEFAULTS = { prefix: 'lab', timeoutMs: 5000, connectTimeoutMs: 3000, rounds: 10 } as const;

export function labSettings(redisUrl: string, overrides: Partial<LabSettings> = {}): LabSettings {
  return {
    redisUrl,
    prefix: DEFAULTS.prefix,
    timeoutMs: DEFAULTS.timeoutMs,
    connectTimeoutMs: DEFAULTS.connectTimeoutMs,
    listen: false,
    flushScripts: false,
    rounds: DEFAULTS.rounds,
    signal: new AbortController().signal,
    ...overrides,
  };
}
