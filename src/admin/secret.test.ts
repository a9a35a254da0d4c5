import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/errors.js';
import { deriveKey, loadOrCreateSecret } from './secret.js';

describe('the installation secret', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'seler-secret-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is generated once into <dataDir>/secret with mode 0600 and then reused', () => {
    const dataDir = path.join(dir(), 'data');
    const first = loadOrCreateSecret({ dataDir });
    expect(first.source).toBe('generated');
    expect(first.secret.length).toBeGreaterThanOrEqual(64);
    const file = path.join(dataDir, 'secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);
    expect(loadOrCreateSecret({ dataDir })).toEqual({ secret: first.secret, source: 'file', file });
  });

  it('prefers SELER_SECRET, tightens a loose file mode, and refuses a short file', () => {
    const dataDir = dir();
    expect(loadOrCreateSecret({ dataDir, secret: 'from the environment, long enough!!' })).toEqual({ secret: 'from the environment, long enough!!', source: 'environment' });
    const file = path.join(dataDir, 'secret');
    writeFileSync(file, 'x'.repeat(40), { mode: 0o644 });
    loadOrCreateSecret({ dataDir });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'short');
    expect(() => loadOrCreateSecret({ dataDir })).toThrow(ConfigError);
  });

  it('derives a different key per purpose', () => {
    expect(deriveKey('s', 'cookie')).not.toBe(deriveKey('s', 'csrf'));
    expect(deriveKey('s', 'cookie')).toBe(deriveKey('s', 'cookie'));
  });
});
