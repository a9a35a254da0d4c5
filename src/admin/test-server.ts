// For tests of admin routes (this feature's and the ones guarded by it): a Fastify server with the
// platform's error contract, registerAdminAuth and the admin's routes on a given database, driven with
// inject() (real HTTP semantics without a socket), and a client that keeps cookies like a browser and logs in.
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import type { Db } from '../platform/db/index.js';
import { createHttpServer } from '../platform/http.js';
import { registerAdminAuth, type AdminAuth, type AdminAuthOptions } from './auth-plugin.js';
import { registerAdminRoutes, type AdminRouteOptions } from './routes.js';
import { createUser, type NewUser, type UserRecord } from './users.js';

export const TEST_SECRET = 'a test secret that is long enough to be accepted';

export interface AdminTestServer {
  app: FastifyInstance;
  auth: AdminAuth;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  client(): AdminTestClient;
  close(): Promise<void>;
}

export async function startAdminTestServer(
  db: Db,
  options: Partial<Omit<AdminAuthOptions, 'db'>> & AdminRouteOptions & { routes?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<AdminTestServer> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = options.logger ?? pino({ level: 'info' }, sink);
  const app = await createHttpServer({ logger, version: 'test', ready: async () => {} });
  // Tests log in far more often than people: the log-in rate limit is off unless a test asks for it.
  const { shellPage, routes, ...authOptions } = options;
  const auth = await registerAdminAuth(app, { secret: TEST_SECRET, cookieSecure: false, loginRateLimit: false, ...authOptions, db, logger });
  registerAdminRoutes(app, auth, { shellPage });
  await routes?.(app);
  await app.ready();
  return { app, auth, logs, client: () => new AdminTestClient(app), close: () => app.close() };
}

/** A browser-like client: keeps cookies, fetches CSRF tokens, logs in through the real form. */
export class AdminTestClient {
  readonly jar = new Map<string, string>();
  bearer: string | undefined;

  constructor(readonly app: FastifyInstance) {}

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...(options.headers as Record<string, string>) };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const response = await this.app.inject({ ...options, headers });
    for (const c of response.cookies) {
      const expired = c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now());
      if (expired || c.value === '') this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return response;
  }

  async csrf(): Promise<string> {
    return (await this.request({ method: 'GET', url: '/api/v1/admin/csrf' })).json<{ token: string }>().token;
  }

  /** Posts the log-in form as a browser would; returns the response (303 on success). */
  async login(username: string, password: string, next?: string): Promise<LightMyRequestResponse> {
    const page = await this.request({ method: 'GET', url: '/admin/login' });
    // Already signed in, the page redirects: use the session's token as a script would.
    const token = page.statusCode === 200 ? (/name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '') : await this.csrf();
    const form = new URLSearchParams({ username, password, _csrf: token, ...(next !== undefined ? { next } : {}) });
    return this.request({ method: 'POST', url: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
  }

  /** A JSON call carrying a fresh CSRF token for the current session. */
  async call(method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, body?: unknown): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (method !== 'GET' && !this.bearer) headers['x-csrf-token'] = await this.csrf();
    return this.request({ method, url, headers, ...(body !== undefined ? { payload: body as object } : {}) });
  }
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** A user with a known password (TEST_PASSWORD unless given). */
export function makeUser(db: Db, username: string, fields: Partial<NewUser> = {}): Promise<UserRecord> {
  return createUser(db, { username, password: TEST_PASSWORD, isStaff: true, ...fields });
}
