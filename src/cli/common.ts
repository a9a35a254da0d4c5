// What every command shares: the configuration (read once, from the environment and ./.env), and the rule that
// a command never silently starts over in whatever folder it was run from.
import { existsSync } from 'node:fs';
import { loadConfig, loadDotEnv, type Config } from '../config.js';
import { ConfigError } from '../platform/errors.js';

let cached: Config | undefined;

export function config(): Config {
  if (!cached) {
    loadDotEnv(process.cwd());
    cached = loadConfig();
  }
  return cached;
}

/** True when the data directory is the default ./data of the working directory (no SELER_DATA_DIR, in the environment or .env). */
export function dataDirIsDefault(): boolean {
  return !process.env.SELER_DATA_DIR;
}

/**
 * A command that uses what an earlier `seler start` made (its SQLite file or its private Redis) refuses to make a
 * new one when the data directory is only the default ./data of wherever it was run: run from another folder,
 * it would otherwise create an empty database or Redis and report success there.
 */
export function refuseNewDefault(file: string, what: string): void {
  if (existsSync(file) || !dataDirIsDefault()) return;
  const cfg = config();
  throw new ConfigError(
    `There is no ${what} at ${file}: the data directory is ./data of the working directory (${process.cwd()}) and nothing has run here. ` +
      `Run this in the folder where you run "seler start", or set SELER_DATA_DIR (now ${cfg.dataDir}).`,
  );
}
