// Every registered route, attacked with malformed input as a signed-in superuser and anonymously:
// path ids that are not ids, query strings with huge / negative / fractional / NaN numbers and
// repeated keys, and bodies that are deep, huge, of the wrong type, not JSON, or of the wrong
// content type. Whatever the route, the answer is never a 500 (and always the JSON error contract).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/helpers/app.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { createToken, createUser } from './admin/index.js';
import { registeredRoutes, type RegisteredRoute } from './platform/http.js';

const BAD_NUMBERS = ['1e308', '-1', '1.5', 'NaN', 'Infinity', '-Infinity', '1e1000', '9007199254740993', '1e9', '', 'abc'];
// Task ids that are BullMQ's own key names ('meta', 'events', 'stalled-check', …) are the task-access
// part of issue 10 (ids validated as ids in the task layer): add them here once that part is merged.
const BAD_IDS = ['1e308', '-1', '0', '1.5', 'NaN', '..', '%00', 'x'.repeat(300), '%F0%9F%92%A9', '99999999999999999999', 'meta', 'events', 'stalled-check', 'a:b'];
/** Query keys every GET route is tried with, on top of those its schema names. */
const COMMON_KEYS = ['page', 'pageSize', 'limit'];

function deep(levels: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(levels) + leaf + close.repeat(levels);
}

/** Malformed bodies: [content-type, payload, what]. */
function badBodies(route: RegisteredRoute): Array<[string, string, string]> {
  const bodies: Array<[string, string, string]> = [
    ['application/json', '{', 'truncated JSON'],
    ['application/json', '{"a":1,}', 'invalid JSON'],
    ['application/json', '', 'an empty JSON body'],
    ['application/json', 'null', 'null'],
    ['application/json', '1e400', 'a number that overflows'],
    ['application/json', '"text"', 'a JSON string'],
    ['application/json', '[]', 'an array'],
    ['application/json', deep(5000, '[', ']'), 'arrays 5,000 deep'],
    ['application/json', deep(5000, '{"a":', '}'), 'objects 5,000 deep'],
    ['application/json', `{"args":${deep(5000, '[', ']')},"kwargs":${deep(5000, '{"a":', '}')}}`, 'args and kwargs 5,000 deep'],
    ['application/json', `{"args":[${Array(200_000).fill('0').join(',')}]}`, 'a huge array'],
    ['application/json', `{"name":"${'x'.repeat(900_000)}"}`, 'a long string'],
    ['application/json', '{"__proto__":{"isSuperuser":true},"constructor":{"prototype":{"x":1}}}', 'prototype keys'],
    ['text/plain', 'hello', 'plain text'],
    ['application/x-www-form-urlencoded', 'a=1&a=2&page=1e308', 'a form'],
    ['multipart/form-data', 'garbage', 'multipart without a boundary'],
    ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb', 'multipart without its closing boundary'],
    ['application/xml', '<a/>', 'XML'],
  ];
  const props = Object.keys(route.schema?.body?.properties ?? {});
  for (const wrong of ['{}', '[]', '1e308', '-1', '"x"', 'null', 'true', deep(5000, '[', ']')]) {
    if (props.length) bodies.push(['application/json', `{${props.map((p) => `${JSON.stringify(p)}:${wrong}`).join(',')}}`, `every field ${wrong.slice(0, 20)}`]);
  }
  return bodies;
}

function paths(url: string): string[] {
  if (!url.includes(':') && !url.includes('*')) return [url];
  return BAD_IDS.map((id) => url.replace(/:[A-Za-z]+/g, id).replace('*', id));
}

function queries(route: RegisteredRoute): string[] {
  const keys = [...new Set([...Object.keys(route.schema?.querystring?.properties ?? {}), ...(route.method === 'GET' ? COMMON_KEYS : [])])];
  const out: string[] = ['page=1&page=2', 'pageSize=1&pageSize=2', '%zz=1', 'a[b][c]=1'];
  for (const key of keys) {
    for (const value of BAD_NUMBERS) out.push(`${key}=${encodeURIComponent(value)}`);
    out.push(`${key}=1&${key}=2`, `${key}=${'x'.repeat(3000)}`, `${key}=%00`, `${key}[]=1`);
  }
  return out;
}

describe.each(DIALECTS)('malformed input on every route (%s)', (dialect) => {
  let database: TestDatabase;
  let app: TestApp;
  let token: string;
  const failures: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    app = await startTestApp({ env: { DATABASE_URL: database.url }, worker: false });
    const user = await createUser(app.runtime.db!, { username: 'root', password: null, isStaff: true, isSuperuser: true });
    token = (await createToken(app.runtime.db!, user.id, 'bad-input')).token;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  async function attack(who: 'superuser' | 'anonymous', method: string, url: string, body?: [string, string, string]) {
    const headers: Record<string, string> = who === 'superuser' ? { authorization: `Bearer ${token}` } : {};
    if (body) headers['content-type'] = body[0];
    if (url.split('?')[0]!.endsWith('/events')) return attackStream(who, url, headers);
    const res = await app.web!.app.inject({ method: method as 'GET', url, headers, payload: body?.[1] });
    if (res.statusCode >= 500 && res.statusCode !== 503) failures.push(`${who} ${method} ${url.slice(0, 160)}${body ? ` with ${body[2]}` : ''} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400 && res.headers['content-type']?.toString().includes('json')) {
      const json = res.json() as { error?: { code?: unknown; message?: unknown } };
      if (typeof json.error?.code !== 'string' || typeof json.error?.message !== 'string')
        failures.push(`${who} ${method} ${url.slice(0, 160)}: ${res.statusCode} outside the error contract: ${res.body.slice(0, 200)}`);
    }
    return res.statusCode;
  }

  /** An event stream that opens stays open: over a real socket, the status is read from the headers and the stream left. */
  async function attackStream(who: string, url: string, headers: Record<string, string>) {
    const controller = new AbortController();
    const res = await fetch(`${app.baseUrl}${url}`, { headers, signal: controller.signal });
    if (res.status >= 500 && res.status !== 503) failures.push(`${who} GET ${url.slice(0, 160)} → ${res.status} ${(await res.text()).slice(0, 200)}`);
    controller.abort();
    return res.status;
  }

  it('never answers 500, whoever asks', { timeout: 600_000 }, async () => {
    const routes = registeredRoutes(app.web!.app).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    // The walk covers the whole app, not a handful of routes.
    expect(routes.length).toBeGreaterThan(60);
    for (const route of routes) {
      const started = Date.now();
      for (const who of ['superuser', 'anonymous'] as const) {
        for (const path of paths(route.url)) await attack(who, route.method, path);
        for (const query of queries(route)) await attack(who, route.method, `${paths(route.url)[0]}?${query}`);
        if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method))
          for (const body of badBodies(route)) await attack(who, route.method, paths(route.url).at(-1)!, body);
      }
      if (process.env.SELER_TEST_VERBOSE) console.log(route.method, route.url, `${Date.now() - started} ms`);
    }
    expect(failures).toEqual([]);
  });

  it('answers the deep nesting of periodic-task args with a 400 that says why', async () => {
    const res = await app.web!.app.inject({
      method: 'POST',
      url: '/api/v1/admin/periodic-tasks',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: `{"name":"deep","task":"demo.add","schedule":{"interval":{"every":1,"period":"minutes"}},"args":${deep(5000, '[', ']')}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.stringMatching(/nest/i) } });
  });

  it('answers ?page=1e308 and its kind on the admin and monitor lists with a 400 in the contract', async () => {
    for (const url of ['/api/v1/admin/users', '/api/v1/admin/periodic-tasks', '/api/v1/admin/log', '/api/v1/monitor/tasks']) {
      const monitor = url.includes('monitor');
      for (const query of ['page=1e308', 'page=-1', 'page=1.5', 'page=NaN', 'page=Infinity', 'page=1e1000', 'page=1&page=2', monitor ? 'limit=1e9' : 'pageSize=1e9', monitor ? 'limit=Infinity' : 'pageSize=Infinity']) {
        const res = await app.web!.app.inject({ url: `${url}?${query}`, headers: { authorization: `Bearer ${token}` } });
        expect([res.statusCode, url, query]).toEqual([400, url, query]);
        expect(res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }
    }
  });
});
