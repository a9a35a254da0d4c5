// The SQLite file holds password hashes, session and token digests: nobody but its owner may read
// it, nor its -wal and -shm companions (which hold recent pages), whatever the umask.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from './index.js';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('the SQLite database files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  for (const umask of [0o022, 0o000]) {
    it(`are created 0600 (seler.db, -wal, -shm) under umask ${umask.toString(8).padStart(3, '0')}`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-mode-'));
      dirs.push(dataDir);
      const previous = process.umask(umask);
      try {
        const db = openDatabase(undefined, dataDir);
        await migrate(db); // writes: the WAL and the shared-memory file exist now
        const file = path.join(dataDir, 'seler.db');
        for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f), f).toBe(0o600);
        await db.close();
      } finally {
        process.umask(previous);
      }
    });
  }

  it('tightens an existing world-readable database and its companions', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-mode-'));
    dirs.push(dataDir);
    const file = path.join(dataDir, 'other.db');
    const first = openDatabase(`sqlite:${file}`, dataDir);
    await migrate(first);
    await first.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) writeFileSync(f, '', { flag: 'a', mode: 0o644 });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
    const again = openDatabase(`sqlite:${file}`, dataDir);
    await migrate(again);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f), f).toBe(0o600);
    await again.close();
  });
});
