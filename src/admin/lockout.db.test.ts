// The log-in lock under attack, against real listening servers (two web processes' worth: two
// servers on two connections to the same database), on SQLite and PostgreSQL: 60 parallel wrong
// passwords check at most lockAfter of them, and the right one afterwards is refused; the lock
// holds only the attacking client, so the real user elsewhere still gets in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { observeKdf } from './passwords.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestServer } from './test-server.js';
import { DEFAULT_THROTTLE } from './throttle.js';

interface Browser {
  cookie: string;
  token: string;
}

async function openLoginForm(baseUrl: string): Promise<Browser> {
  const page = await fetch(`${baseUrl}/admin/login`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  return { cookie, token };
}

async function postLogin(baseUrl: string, browser: Browser, username: string, password: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/json', accept: 'application/json', cookie: browser.cookie, 'x-csrf-token': browser.token, ...headers },
    body: JSON.stringify({ username, password }),
  });
  const body = res.status === 200 ? undefined : ((await res.json()) as { error: { code: string } });
  return { status: res.status, code: body?.error.code, retryAfter: res.headers.get('retry-after') };
}

describe.each(DIALECTS)('log-in lock-out under parallel attack on %s', (dialect) => {
  let t: TestDatabase;
  const servers: AdminTestServer[] = [];
  const urls: string[] = [];
  const sleeps: number[] = [];
  let verified = 0;
  let stopObserving: () => void;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    const sleep = (ms: number) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    // Two servers on two connections: what two web processes sharing the database see.
    for (const db of [t.db, t.open()]) {
      const server = await startAdminTestServer(db, { throttle: { delayStepMs: 5, maxDelayMs: 40 }, sleep, loginRateLimit: false });
      urls.push(await server.app.listen({ port: 0, host: '127.0.0.1' }));
      servers.push(server);
    }
    await makeUser(t.db, 'alice');
    await makeUser(t.db, 'bob');
    stopObserving = observeKdf(() => verified++);
  });
  afterAll(async () => {
    stopObserving?.();
    for (const s of servers) await s.close();
    await t?.drop();
  });

  it('checks at most lockAfter of 60 parallel wrong passwords, then refuses the right one', async () => {
    const browser = await openLoginForm(urls[0]!);
    verified = 0;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => postLogin(urls[i % 2]!, browser, 'alice', `wrong guess number ${i}`)),
    );
    expect(verified).toBe(DEFAULT_THROTTLE.lockAfter);
    expect(results.filter((r) => r.status === 401)).toHaveLength(DEFAULT_THROTTLE.lockAfter - 1);
    const locked = results.filter((r) => r.status === 429);
    expect(locked).toHaveLength(60 - DEFAULT_THROTTLE.lockAfter + 1);
    expect(locked.every((r) => r.code === 'locked_out' && Number(r.retryAfter) > 800)).toBe(true);

    for (const url of urls) {
      const right = await postLogin(url, browser, 'alice', TEST_PASSWORD);
      expect(right).toMatchObject({ status: 429, code: 'locked_out' });
    }
    // Case and a forged X-Forwarded-For (no trusted proxy) change nothing.
    expect((await postLogin(urls[1]!, browser, 'ALICE', TEST_PASSWORD, { 'x-forwarded-for': '192.0.2.77' })).status).toBe(429);
    expect(verified).toBe(DEFAULT_THROTTLE.lockAfter);
  });

  it('locks only the attacking client: alice from another address still logs in (slowed, not refused)', async () => {
    const server = servers[0]!;
    const remoteAddress = '198.51.100.20';
    const page = await server.app.inject({ method: 'GET', url: '/admin/login', remoteAddress });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = page.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    sleeps.length = 0;
    const res = await server.app.inject({
      method: 'POST',
      url: '/admin/login',
      remoteAddress,
      headers: { cookie, 'x-csrf-token': token, accept: 'application/json' },
      payload: { username: 'alice', password: TEST_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    // The username's many failures slow it down, up to the cap: never a lock for the account.
    expect(sleeps).toEqual([40]);
  });
});
