// The admin's signing secret in the database: shared by web processes (two real web roles on one
// PostgreSQL), rotated without logging anyone out, SELER_SECRET still winning, the old file imported.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { loadSecrets, rotateSecret, SECRET_FILE } from './secret.js';
import { AdminTestClient, makeUser, TEST_PASSWORD } from './test-server.js';

describe.each(DIALECTS)('the secret ring on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => t?.drop());

  it('creates one first generation however many processes start at once, importing the old secret file', async () => {
    await t.db.db.deleteFrom('seler_secret').execute();
    const legacy = 'the secret an earlier version wrote into the data dir';
    writeFileSync(path.join(t.dataDir, SECRET_FILE), `${legacy}\n`);
    const rings = await Promise.all(Array.from({ length: 5 }, () => loadSecrets({ db: t.open(), dataDir: t.dataDir })));
    expect(new Set(rings.map((r) => r.signing))).toEqual(new Set([legacy]));
    expect(await t.db.db.selectFrom('seler_secret').select('generation').execute()).toHaveLength(1);
    rings.forEach((r) => r.close());
  });

  it('rotates: the new secret signs once active, the previous one verifies until its grace ends', async () => {
    let now = Date.now();
    const ring = await loadSecrets({ db: t.db, dataDir: t.dataDir, now: () => now, refreshMs: 20 });
    const before = ring.signing;
    const rotated = await rotateSecret(t.db, { graceMs: 3_600_000, activationDelayMs: 60_000, now });
    await new Promise((r) => setTimeout(r, 100));
    // Written, not yet active: it already verifies (a faster process may sign with it), but does not sign.
    expect(ring.signing).toBe(before);
    expect(ring.verifying).toHaveLength(2);
    now = rotated.activates.getTime() + 1;
    await new Promise((r) => setTimeout(r, 100));
    expect(ring.signing).not.toBe(before);
    expect(ring.verifying).toEqual([ring.signing, before]);
    now = rotated.previousRetires.getTime() + 1;
    await new Promise((r) => setTimeout(r, 100));
    expect(ring.verifying).toEqual([ring.signing]);
    ring.close();
  });

  it('SELER_SECRET overrides the database', async () => {
    const ring = await loadSecrets({ secret: 'from the environment, long enough!!', db: t.db, dataDir: t.dataDir });
    expect(ring).toMatchObject({ signing: 'from the environment, long enough!!', verifying: ['from the environment, long enough!!'], source: 'environment' });
  });
});

describe('two web processes on one PostgreSQL', () => {
  let pg: TestDatabase;
  let webA: TestApp;
  let webB: TestApp;
  beforeAll(async () => {
    pg = await createTestDatabase('postgres');
    // Each its own data directory (two hosts): nothing but the database is shared.
    webA = await startTestApp({ env: { DATABASE_URL: pg.url }, worker: false });
    webB = await startTestApp({ env: { DATABASE_URL: pg.url }, worker: false });
    await makeUser(pg.db, 'alice', { isSuperuser: true });
  });
  afterAll(async () => {
    await webA?.close();
    await webB?.close();
    await pg?.drop();
  });

  const clients = () => {
    const a = new AdminTestClient(webA.web!.app);
    const b = new AdminTestClient(webB.web!.app);
    return { a, b, carry: () => a.jar.forEach((v, k) => b.jar.set(k, v)) };
  };

  it('a log-in on web A is a session on web B, and a CSRF token from A is good on B', async () => {
    const { a, b, carry } = clients();
    expect((await a.login('alice', TEST_PASSWORD)).statusCode).toBe(303);
    carry();
    const me = await b.request({ method: 'GET', url: '/api/v1/admin/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'alice' });
    const tokenFromA = await a.csrf();
    const created = await b.request({ method: 'POST', url: '/api/v1/admin/groups', headers: { 'x-csrf-token': tokenFromA }, payload: { name: 'ops-from-b' } });
    expect(created.statusCode).toBe(201);
    const forged = await b.request({ method: 'POST', url: '/api/v1/admin/groups', headers: { 'x-csrf-token': `${tokenFromA.slice(0, -2)}xx` }, payload: { name: 'forged' } });
    expect(forged.statusCode).toBe(403);
  });

  it('a cookie signed with another secret is refused on both', async () => {
    const { a, b, carry } = clients();
    await a.login('alice', TEST_PASSWORD);
    carry();
    const session = b.jar.get('seler_session')!;
    b.jar.set('seler_session', `${session.slice(0, session.lastIndexOf('.'))}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect((await b.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
  });
});
