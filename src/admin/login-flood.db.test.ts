// A log-in flood: per-client and global rate limits answer 429 with Retry-After before any
// password is hashed, and a file-reading request made during the flood stays fast (hashing does
// not share libuv's threadpool with fs any more).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { observeKdf, verifyPassword } from './passwords.js';
import { makeUser, startAdminTestServer, type AdminTestServer } from './test-server.js';

const PER_CLIENT = 20;
const GLOBAL = 60;

describe.each(DIALECTS)('log-in flood on %s', (dialect) => {
  let t: TestDatabase;
  let server: AdminTestServer;
  let dir: string;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'seler-flood-'));
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, Buffer.alloc(4 * 1024 * 1024, 7));
    server = await startAdminTestServer(t.db, {
      loginRateLimit: { perClient: { max: PER_CLIENT, windowMs: 60_000 }, global: { max: GLOBAL, windowMs: 60_000 } },
      throttle: { delayStepMs: 1, maxDelayMs: 5 },
      // Stands for an upload or a download: a request that needs the fs threadpool.
      routes: (app) => {
        app.get('/test/fs', async () => ({ bytes: (await readFile(file)).length }));
      },
    });
    await makeUser(t.db, 'alice');
    await verifyPassword('warm up', null); // the dummy hash for unknown users is made once, on first use
  });
  afterAll(async () => {
    await server?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function formFor(remoteAddress: string) {
    const page = await server.app.inject({ method: 'GET', url: '/admin/login', remoteAddress });
    return { token: /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!, cookie: page.cookies.map((c) => `${c.name}=${c.value}`).join('; ') };
  }

  const attempt = (remoteAddress: string, form: { token: string; cookie: string }, username: string) =>
    server.app.inject({
      method: 'POST',
      url: '/admin/login',
      remoteAddress,
      headers: { cookie: form.cookie, 'x-csrf-token': form.token, accept: 'application/json' },
      payload: { username, password: 'not the password at all' },
    });

  it('limits one client: 100 parallel bad log-ins, only the first 20 reach the password check', async () => {
    const form = await formFor('203.0.113.1');
    let hashed = 0;
    const stop = observeKdf(() => hashed++);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => attempt('203.0.113.1', form, `user${i}`)));
    stop();
    const limited = results.filter((r) => r.statusCode === 429);
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(PER_CLIENT);
    expect(limited).toHaveLength(100 - PER_CLIENT);
    for (const r of limited) {
      expect(r.json()).toMatchObject({ error: { code: 'rate_limited' } });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(hashed).toBe(PER_CLIENT);
  });

  it('limits everyone together, and a file request during a 200-address flood stays fast', async () => {
    const addresses = Array.from({ length: 200 }, (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const form = await formFor(addresses[0]!); // a CSRF token is bound to its cookie, not to an address
    let hashed = 0;
    const stop = observeKdf(() => hashed++);
    const flood = Promise.all(addresses.map((a, i) => attempt(a, form, `someone${i}`)));
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await server.app.inject({ method: 'GET', url: '/test/fs' });
      latencies.push(performance.now() - started);
      expect(res.json()).toEqual({ bytes: 4 * 1024 * 1024 });
    }
    const results = await flood;
    stop();
    // The first test's 20 count towards the global window too.
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(GLOBAL - PER_CLIENT);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(200 - (GLOBAL - PER_CLIENT));
    expect(hashed).toBe(GLOBAL - PER_CLIENT);
    // Generous: the hole was 14 ms → 13 s.
    expect(Math.max(...latencies)).toBeLessThan(1500);
  });
});
