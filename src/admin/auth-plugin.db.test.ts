import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/helpers/db.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './auth-plugin.js';
import { sessionKey } from './sessions.js';
import { TEST_PASSWORD, makeUser, startAdminTestServer, type AdminTestServer } from './test-server.js';

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

describe.each(DIALECTS)('admin log-in, sessions and CSRF on %s', (dialect) => {
  let t: TestDatabase;
  let server: AdminTestServer;
  let clock = Date.now();
  const throttleWaits: number[] = [];
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    const sleep = (ms: number) => {
      throttleWaits.push(ms);
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    server = await startAdminTestServer(t.db, { cookieSecure: true, now: () => clock, sleep, throttle: { delayStepMs: 40 } });
    await makeUser(t.db, 'alice');
    await makeUser(t.db, 'visitor', { isStaff: false });
    await makeUser(t.db, 'gone', { isActive: false });
  });
  afterAll(async () => {
    await server?.close();
    await t?.drop();
  });
  afterEach(async () => {
    clock = Date.now();
    await t.db.db.deleteFrom('auth_login_counter').execute();
  });

  it('serves a log-in page with a CSRF field and its own stylesheet, under a strict CSP', async () => {
    const client = server.client();
    const page = await client.request({ method: 'GET', url: '/admin/login?next=/admin/periodic-tasks/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/);
    expect(page.body).toContain('name="next" value="/admin/periodic-tasks/"');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const csrf = page.cookies.find((c) => c.name === CSRF_COOKIE)!;
    expect(csrf).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/' });
    const css = await client.request({ method: 'GET', url: '/admin/assets/auth.css' });
    expect(css.headers['content-type']).toContain('text/css');
  });

  it('logs in: a new signed, httpOnly, SameSite=Strict, Secure session cookie that expires; last_login set', async () => {
    const client = server.client();
    const res = await client.login('alice', TEST_PASSWORD);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/');
    const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/', maxAge: 14 * 24 * 3600 });
    const unsigned = server.app.unsignCookie(cookie.value);
    expect(unsigned.valid).toBe(true);
    expect(unsigned.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Stored hashed: the cookie's id is not in the table.
    expect(await t.db.db.selectFrom('auth_session').select('id').where('id', '=', unsigned.value!).executeTakeFirst()).toBeUndefined();
    expect(await t.db.db.selectFrom('auth_session').select('id').where('id', '=', sessionKey(unsigned.value!)).executeTakeFirst()).toBeDefined();

    const shell = await client.request({ method: 'GET', url: '/admin/' });
    expect(shell.statusCode).toBe(200);
    expect(shell.body).toContain('<strong>alice</strong>');
    expect(shell.body).toContain('action="/admin/logout"');
    const me = (await client.request({ method: 'GET', url: '/api/v1/admin/me' })).json();
    expect(me).toMatchObject({ username: 'alice', isSuperuser: false, permissions: [], authenticatedBy: 'session' });
    const row = await t.db.db.selectFrom('auth_user').select('last_login').where('username', '=', 'alice').executeTakeFirstOrThrow();
    expect(row.last_login).not.toBeNull();
    expect(server.logs.some((l) => l.event === 'admin.login' && l.username === 'alice')).toBe(true);
    expect(JSON.stringify(server.logs)).not.toContain(TEST_PASSWORD);
  });

  it('refuses bad credentials with one generic message: 401 page for forms, 401 JSON for JSON clients', async () => {
    const client = server.client();
    for (const [username, password] of [['alice', 'wrong password!'], ['nobody', TEST_PASSWORD], ['visitor', TEST_PASSWORD], ['gone', TEST_PASSWORD]] as const) {
      const res = await client.login(username, password);
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('Please enter the correct username and password for a staff account.');
      expect(res.body).toContain(`value="${username}"`);
      expect(res.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    }
    const token = await client.csrf();
    const json = await client.request({ method: 'POST', url: '/admin/login', headers: { 'x-csrf-token': token }, payload: { username: 'alice', password: 'nope nope nope' } });
    expect(json.statusCode).toBe(401);
    expect(json.json()).toEqual({ error: { code: 'invalid_credentials', message: expect.any(String) } });
    expect(JSON.stringify(server.logs)).not.toContain('nope nope nope');
  });

  it('JSON log-in answers with the user and a CSRF token for the new session', async () => {
    const client = server.client();
    const res = await client.request({ method: 'POST', url: '/admin/login', headers: { 'x-csrf-token': await client.csrf() }, payload: { username: 'alice', password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ csrfToken: string }>();
    expect(body).toMatchObject({ username: 'alice', isSuperuser: false, permissions: [] });
    const created = await client.request({ method: 'POST', url: '/api/v1/admin/tokens', headers: { 'x-csrf-token': body.csrfToken }, payload: { name: 'script' } });
    expect(created.statusCode).toBe(201);
  });

  it('protects the log-in form against CSRF', async () => {
    const client = server.client();
    await client.request({ method: 'GET', url: '/admin/login' });
    const missing = await client.request({ method: 'POST', url: '/admin/login', ...form({ username: 'alice', password: TEST_PASSWORD }) });
    expect(missing.statusCode).toBe(403);
    expect(missing.body).toContain('Please try again');
    const forged = await client.request({ method: 'POST', url: '/admin/login', ...form({ username: 'alice', password: TEST_PASSWORD, _csrf: 'abc.def' }) });
    expect(forged.statusCode).toBe(403);
    const json = await server.client().request({ method: 'POST', url: '/admin/login', payload: { username: 'alice', password: TEST_PASSWORD } });
    expect(json.json()).toMatchObject({ error: { code: 'csrf_failed' } });
  });

  it('starts a new session at every log-in (no fixation)', async () => {
    const client = server.client();
    await client.login('alice', TEST_PASSWORD);
    const first = client.jar.get(SESSION_COOKIE)!;
    await client.login('alice', TEST_PASSWORD);
    const second = client.jar.get(SESSION_COOKIE)!;
    expect(second).not.toBe(first);
    const stale = server.client();
    stale.jar.set(SESSION_COOKIE, first);
    expect((await stale.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
  });

  it('log-out needs the CSRF token and really ends the session', async () => {
    const client = server.client();
    await client.login('alice', TEST_PASSWORD);
    const cookie = client.jar.get(SESSION_COOKIE)!;
    const noToken = await client.request({ method: 'POST', url: '/admin/logout', headers: { accept: 'application/json' } });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json()).toMatchObject({ error: { code: 'csrf_failed' } });
    const shell = await client.request({ method: 'GET', url: '/admin/' });
    const token = /name="_csrf" value="([^"]+)"/.exec(shell.body)![1]!;
    const out = await client.request({ method: 'POST', url: '/admin/logout', ...form({ _csrf: token }) });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/admin/login');
    expect(client.jar.has(SESSION_COOKIE)).toBe(false);
    const replay = server.client();
    replay.jar.set(SESSION_COOKIE, cookie);
    expect((await replay.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
    expect(server.logs.some((l) => l.event === 'admin.logout' && l.username === 'alice')).toBe(true);
  });

  it('refuses cross-site log-out (Origin or Sec-Fetch-Site), even without a session, and keeps the session alive', async () => {
    const client = server.client();
    await client.login('alice', TEST_PASSWORD);
    const shell = await client.request({ method: 'GET', url: '/admin/' });
    const token = /name="_csrf" value="([^"]+)"/.exec(shell.body)![1]!;
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'http://localhost:80.evil.example' }]) {
      // Even with a valid token (a page on another site cannot read one, but belt and braces).
      const res = await client.request({ method: 'POST', url: '/admin/logout', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(token)}` });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.cookies.find((c) => c.name === SESSION_COOKIE), 'no cookie clearing').toBeUndefined();
      expect((await client.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(200);
    }
    // Without any session cookie (SameSite=Strict keeps it from a cross-site request), still refused: nothing is cleared.
    const anonymous = await server.client().request({ method: 'POST', url: '/admin/logout', headers: { origin: 'https://evil.example', accept: 'application/json' } });
    expect(anonymous.statusCode).toBe(403);
    expect(anonymous.json()).toMatchObject({ error: { code: 'csrf_failed' } });
    expect(anonymous.headers['set-cookie']).toBeUndefined();
    // Same origin works (the browser sends Origin: http://<host> on a form POST).
    const out = await client.request({ method: 'POST', url: '/admin/logout', headers: { origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(token)}` });
    expect(out.statusCode).toBe(303);
    expect((await client.request({ method: 'GET', url: '/api/v1/admin/me' })).statusCode).toBe(401);
  });

  it('refuses cross-site log-in before checking anything', async () => {
    const client = server.client();
    const page = await client.request({ method: 'GET', url: '/admin/login' });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const res = await client.request({ method: 'POST', url: '/admin/login', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ username: 'alice', password: TEST_PASSWORD, _csrf: token }).toString() });
    expect(res.statusCode).toBe(403);
    expect(res.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
  });

  it('expires sessions after 12 h idle and 14 days in all, and ignores a tampered cookie', async () => {
    const client = server.client();
    await client.login('alice', TEST_PASSWORD);
    const me = () => client.request({ method: 'GET', url: '/api/v1/admin/me' });
    expect((await me()).statusCode).toBe(200);
    clock += 11 * 3600_000;
    expect((await me()).statusCode).toBe(200); // touched: idle time starts again
    clock += 11 * 3600_000;
    expect((await me()).statusCode).toBe(200);
    clock += 12 * 3600_000 + 1;
    expect((await me()).statusCode).toBe(401);

    clock = Date.now();
    const loggedIn = clock;
    await client.login('alice', TEST_PASSWORD);
    while (clock + 11 * 3600_000 < loggedIn + 14 * 24 * 3600_000) {
      clock += 11 * 3600_000;
      expect((await me()).statusCode).toBe(200);
    }
    clock = loggedIn + 14 * 24 * 3600_000;
    expect((await me()).statusCode).toBe(401);

    clock = Date.now();
    await client.login('alice', TEST_PASSWORD);
    const signed = client.jar.get(SESSION_COOKIE)!;
    client.jar.set(SESSION_COOKIE, `${signed.slice(0, -2)}xx`);
    expect((await me()).statusCode).toBe(401);
    client.jar.set(SESSION_COOKIE, server.app.unsignCookie(signed).value!); // unsigned id alone
    expect((await me()).statusCode).toBe(401);
  });

  it('without a session: 401 JSON for the API, a redirect to the log-in page for pages', async () => {
    const client = server.client();
    const api = await client.request({ method: 'GET', url: '/api/v1/admin/me' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toMatchObject({ error: { code: 'not_authenticated' } });
    const page = await client.request({ method: 'GET', url: '/admin/?tab=1' });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/admin/login?next=%2Fadmin%2F%3Ftab%3D1');
    const post = await client.request({ method: 'POST', url: '/api/v1/admin/groups', payload: { name: 'x' } });
    expect(post.statusCode).toBe(401);
  });

  it('needs a CSRF token bound to the session for state-changing calls', async () => {
    const client = server.client();
    await client.login('alice', TEST_PASSWORD);
    const post = (headers: Record<string, string>) => client.request({ method: 'POST', url: '/api/v1/admin/tokens', headers, payload: { name: 'x' } });
    expect((await post({})).json()).toMatchObject({ error: { code: 'csrf_failed' } });
    expect((await post({})).statusCode).toBe(403);
    expect((await post({ 'x-csrf-token': 'nonsense' })).statusCode).toBe(403);
    const good = await client.csrf();
    const [salt, mac] = good.split('.');
    const tampered = `${mac!.slice(0, -2)}${mac!.at(-2) === 'A' ? 'B' : 'A'}${mac!.at(-1)}`;
    expect((await post({ 'x-csrf-token': `${salt}.${tampered}` })).statusCode).toBe(403);
    // A token made for someone else's session (same CSRF cookie) is refused.
    const other = server.client();
    other.jar.set(CSRF_COOKIE, client.jar.get(CSRF_COOKIE)!);
    await other.login('alice', TEST_PASSWORD);
    expect((await post({ 'x-csrf-token': await other.csrf() })).statusCode).toBe(403);
    // The anonymous (log-in form) token is not valid once logged in.
    const anonymous = /name="_csrf" value="([^"]+)"/.exec((await server.client().request({ method: 'GET', url: '/admin/login' })).body)![1]!;
    expect((await post({ 'x-csrf-token': anonymous })).statusCode).toBe(403);
    expect((await post({ 'x-csrf-token': good })).statusCode).toBe(201);
    const viaForm = await client.request({ method: 'POST', url: '/api/v1/admin/tokens', ...form({ name: 'form', _csrf: await client.csrf() }) });
    expect(viaForm.statusCode).toBe(201);
  });

  it('refuses open redirects in next', async () => {
    for (const next of ['//evil.com', 'https://evil.com', '/\\evil.com', '\\\\evil.com', '/\t/evil.com', 'javascript:alert(1)', 'evil.com', '/%0a/evil']) {
      const client = server.client();
      const res = await client.login('alice', TEST_PASSWORD, next);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location, next).toBe(next === '/%0a/evil' ? next : '/admin/');
    }
    const ok = await server.client().login('alice', TEST_PASSWORD, '/admin/periodic-tasks/?page=2');
    expect(ok.headers.location).toBe('/admin/periodic-tasks/?page=2');
    const page = await server.client().request({ method: 'GET', url: `/admin/login?next=${encodeURIComponent('//evil.com')}` });
    expect(page.body).toContain('name="next" value="/admin/"');
    const logged = server.client();
    await logged.login('alice', TEST_PASSWORD);
    const again = await logged.request({ method: 'GET', url: `/admin/login?next=${encodeURIComponent('https://evil.com')}` });
    expect(again.statusCode).toBe(302);
    expect(again.headers.location).toBe('/admin/');
  });

  it('slows down after 5 failures, locks the username after 10 (429 + Retry-After), and lifts the lock after 15 minutes', async () => {
    const client = server.client();
    throttleWaits.length = 0;
    let slowest = 0;
    for (let i = 1; i <= 9; i++) {
      const started = performance.now();
      const res = await client.login('alice', `wrong password ${i}`);
      slowest = Math.max(slowest, performance.now() - started);
      expect(res.statusCode).toBe(401);
    }
    // Attempts 6-9 wait 40, 80, 120, 160 ms before the password is even checked.
    expect(throttleWaits).toEqual([40, 80, 120, 160]);
    expect(slowest).toBeGreaterThanOrEqual(155);
    const tenth = await client.login('alice', 'wrong password 10');
    expect(tenth.statusCode).toBe(429);
    expect(Number(tenth.headers['retry-after'])).toBe(900);
    const right = await client.login('alice', TEST_PASSWORD);
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain('Too many failed log-ins');
    const json = await client.request({ method: 'POST', url: '/admin/login', headers: { 'x-csrf-token': await client.csrf() }, payload: { username: 'ALICE', password: TEST_PASSWORD } });
    expect(json.statusCode).toBe(429);
    expect(json.json()).toMatchObject({ error: { code: 'locked_out' } });
    expect(server.logs.some((l) => l.event === 'admin.lockout' && l.username === 'alice')).toBe(true);
    clock += 15 * 60_000;
    expect((await client.login('alice', TEST_PASSWORD)).statusCode).toBe(303);
  });

  it('a successful log-in resets the username’s failures', async () => {
    const client = server.client();
    for (let i = 0; i < 9; i++) expect((await client.login('alice', 'wrong wrong wrong')).statusCode).toBe(401);
    expect((await client.login('alice', TEST_PASSWORD)).statusCode).toBe(303);
    clock += 16 * 60_000; // let this IP's failures (which a success does not clear) age out, to keep the test fast
    for (let i = 0; i < 9; i++) expect((await client.login('alice', 'wrong wrong wrong')).statusCode).toBe(401);
    expect((await client.login('alice', TEST_PASSWORD)).statusCode).toBe(303);
  });

  it('slows down one IP guessing at many usernames without locking them', async () => {
    const client = server.client();
    const remote = { remoteAddress: '203.0.113.9' };
    const attempt = async (username: string) => {
      const page = await client.request({ method: 'GET', url: '/admin/login', ...remote });
      const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const started = performance.now();
      const res = await client.request({ method: 'POST', url: '/admin/login', ...remote, ...form({ username, password: 'guess guess guess', _csrf: token }) });
      return { status: res.statusCode, ms: performance.now() - started };
    };
    throttleWaits.length = 0;
    for (let i = 0; i < 5; i++) expect((await attempt(`user${i}`)).status).toBe(401);
    expect(throttleWaits).toEqual([]);
    const slow = await attempt('user99');
    expect(slow.status).toBe(401);
    expect(throttleWaits).toEqual([40]);
    expect(slow.ms).toBeGreaterThanOrEqual(39);
  });
});
