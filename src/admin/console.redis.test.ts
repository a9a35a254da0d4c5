import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../app.js';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { createSuperuser } from './users.js';

const PASSWORD = 'console test password 1';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ worker: false });
  await createSuperuser(app.runtime.db!, { username: 'root', password: PASSWORD });
});
afterAll(async () => {
  await app?.close();
});

async function logIn(): Promise<string> {
  const csrf = await fetch(`${app.baseUrl}/api/v1/admin/csrf`);
  const cookies = csrf.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { token } = (await csrf.json()) as { token: string };
  const res = await fetch(`${app.baseUrl}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', cookie: cookies, 'x-csrf-token': token },
    body: JSON.stringify({ username: 'root', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return [cookies, ...res.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
}

describe('the admin console application', () => {
  it('sends anyone without a session to the log-in page, keeping the deep link', async () => {
    for (const url of ['/admin/', '/admin/periodic-tasks/12/', '/admin/index.html']) {
      const res = await fetch(app.baseUrl + url, { redirect: 'manual' });
      expect(res.status, url).toBe(302);
      expect(res.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent(url)}`);
    }
    const bare = await fetch(`${app.baseUrl}/admin`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/admin/');
  });

  it('serves its page for every console path to a signed-in user, under a CSP without inline code', async () => {
    const cookie = await logIn();
    for (const url of ['/admin/', '/admin/periodic-tasks/12/', '/admin/users/?page=2']) {
      const res = await fetch(app.baseUrl + url, { headers: { cookie }, redirect: 'manual' });
      expect(res.status, url).toBe(200);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toContain('<div id="app"');
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)">/.exec(html);
      expect(script, 'the built script').not.toBeNull();
      expect((await fetch(app.baseUrl + script![1]!)).status).toBe(200);
    }
    // The log-in page and its stylesheet stay with the log-in routes.
    expect((await fetch(`${app.baseUrl}/admin/login`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/admin/assets/auth.css`)).headers.get('content-type')).toContain('text/css');
  });

  it('publishes no source maps: none built, none referenced, and a stray .map file is not served', async () => {
    const assets = path.join(packageRoot, 'dist', 'web', 'assets');
    const files = readdirSync(assets);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const cookie = await logIn();
    const html = await (await fetch(`${app.baseUrl}/admin/`, { headers: { cookie } })).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await (await fetch(app.baseUrl + script)).text();
    expect(js).not.toContain('sourceMappingURL');
    const probe = `probe-${randomUUID()}.js.map`;
    writeFileSync(path.join(assets, probe), '{"version":3,"sources":["secret.ts"]}');
    try {
      expect((await fetch(`${app.baseUrl}/assets/${probe}`)).status).toBe(404);
      expect((await fetch(`${app.baseUrl}${script}.map`)).status).toBe(404);
    } finally {
      rmSync(path.join(assets, probe), { force: true });
    }
  });
});
