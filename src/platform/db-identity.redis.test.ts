// Hosts announce their database in Redis; a second host on its own SQLite file (or any other
// disagreement) is logged loudly and shown in /readyz, with real web roles on the test Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testRedis, uniquePrefix, deleteKeys } from '../../test/helpers/redis.js';
import { announceDatabase, databaseConflicts, type DatabaseAnnouncement } from './db-identity.js';
import { openDatabase } from './db/index.js';
import { keyspace } from './redis.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

async function web(env: Record<string, string>): Promise<TestApp> {
  const app = await startTestApp({ env, worker: false });
  apps.push(app);
  return app;
}

async function readyz(app: TestApp): Promise<{ status: number; body: { status: string; warnings?: string[] } }> {
  const res = await fetch(`${app.baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; warnings?: string[] } };
}

describe('the database identity hosts announce in Redis', () => {
  it('a second host on its own SQLite file shows in /readyz on both (still 200), and goes away with that host', async () => {
    const prefix = uniquePrefix('dbid');
    const a = await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'web-a' });
    expect(await readyz(a)).toEqual({ status: 200, body: { status: 'ready' } });
    const b = await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'web-b' });
    for (const app of [a, b]) {
      const { status, body } = await readyz(app);
      expect(status).toBe(200);
      expect(body.warnings).toHaveLength(1);
      expect(body.warnings![0]).toMatch(/^The processes sharing this Redis use 2 different databases \(/);
      expect(body.warnings![0]).toContain(`web-a on the SQLite file ${path.join(a.dataDir, 'seler.db')} of web-a`);
      expect(body.warnings![0]).toContain(`web-b on the SQLite file ${path.join(b.dataDir, 'seler.db')} of web-b`);
      expect(body.warnings![0]).toMatch(/a SQLite file belongs to one host; for several hosts, point every one at one PostgreSQL with DATABASE_URL\.$/);
    }
    await apps.pop()!.close();
    expect(await readyz(a)).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('the same SQLite file path on another host is a different database too', async () => {
    const prefix = uniquePrefix('dbid');
    const a = await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'web-a' });
    const file = path.join(a.dataDir, 'seler.db');
    await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'web-b', DATABASE_URL: `sqlite:${file}` });
    expect((await readyz(a)).body.warnings?.[0]).toContain(`web-b on the SQLite file ${file} of web-b`);
  });

  it('processes of one host on one SQLite file agree', async () => {
    const prefix = uniquePrefix('dbid');
    const a = await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'solo' });
    await web({ SELER_REDIS_PREFIX: prefix, SELER_HOSTNAME: 'solo', DATABASE_URL: `sqlite:${path.join(a.dataDir, 'seler.db')}` });
    expect((await readyz(a)).body).toEqual({ status: 'ready' });
  });

  it('says it once in the log at error level, and ignores announcements of processes long gone', async () => {
    const redis = await testRedis();
    const keys = keyspace(uniquePrefix('dbid'));
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }), done()) }));
    const dir = mkdtempSync(path.join(tmpdir(), 'seler-dbid-'));
    const db = openDatabase(undefined, dir);
    try {
      const gone: DatabaseAnnouncement = { host: 'old-host', pid: 1, kind: 'sqlite', identity: 'sqlite:old-host:/x.db', at: Date.now() - 3_600_000 };
      await redis.hset(keys.key('databases'), 'old-host/1', JSON.stringify(gone));
      const first = await announceDatabase({ redis, keys, db, logger, hostname: 'h1', everyMs: 50 });
      expect(await first.conflicts()).toEqual([]);
      expect(await redis.hexists(keys.key('databases'), 'old-host/1')).toBe(0);
      const other: DatabaseAnnouncement = { host: 'h2', pid: 2, kind: 'postgres', identity: 'postgres://db:5432/seler', at: Date.now() };
      await redis.hset(keys.key('databases'), 'h2/2', JSON.stringify(other));
      await new Promise((r) => setTimeout(r, 300));
      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(/^The processes sharing this Redis use 2 different databases \(h1 on the SQLite file .* of h1; h2 on postgres:\/\/db:5432\/seler\)/);
      await first.close();
    } finally {
      await deleteKeys(redis, `${keys.root}*`);
      await db.close();
      rmSync(dir, { recursive: true, force: true });
      redis.disconnect();
    }
  });

  it('two hosts on one PostgreSQL agree; two PostgreSQL databases do not', () => {
    const at = Date.now();
    const pgA = { host: 'a', pid: 1, kind: 'postgres' as const, identity: 'postgres://db:5432/seler', at };
    expect(databaseConflicts([pgA, { ...pgA, host: 'b' }])).toEqual([]);
    expect(databaseConflicts([pgA, { ...pgA, host: 'b', identity: 'postgres://db:5432/other' }])[0]).toMatch(/: give every host the same DATABASE_URL\.$/);
  });
});
