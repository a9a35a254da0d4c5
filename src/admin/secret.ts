// The installation's secret (signs cookies, keys CSRF tokens): SELER_SECRET when set, otherwise
// generated once into <dataDir>/secret (mode 0600) and reused, so sessions survive restarts and
// every process sharing the data directory agrees on it.
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../platform/errors.js';

export const SECRET_FILE = 'secret';
const MIN_LENGTH = 32;

export interface LoadedSecret {
  secret: string;
  /** Where it came from: the environment, an existing file, or a file written now. */
  source: 'environment' | 'file' | 'generated';
  file?: string;
}

export function loadOrCreateSecret(options: { secret?: string; dataDir: string }): LoadedSecret {
  if (options.secret) return { secret: options.secret, source: 'environment' };
  const file = path.join(options.dataDir, SECRET_FILE);
  mkdirSync(options.dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  try {
    // 'wx': two processes starting at once must not both write; the loser reads the winner's file.
    writeFileSync(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    return { secret: generated, source: 'generated', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`Cannot write the secret file ${file}: ${(err as Error).message}`);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_LENGTH)
    throw new ConfigError(`${file} holds a secret shorter than ${MIN_LENGTH} characters: delete it to generate a new one, or set SELER_SECRET.`);
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { secret, source: 'file', file };
}

/** A key for one purpose, so the cookie signature and the CSRF tokens never share a key. */
export function deriveKey(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(`seler.${purpose}`).digest('base64url');
}
