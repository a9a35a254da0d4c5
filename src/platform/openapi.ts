// What /docs shows beyond each route's own schema: the sections in a user's order, how to
// authenticate (bearer token, or the admin's session cookie with its CSRF header), a sentence for
// every response status, and multipart request bodies (a route cannot declare one as `body`
// without Fastify validating the stream against it, so it names it in `config.multipartBody`).
import type { FastifySchema, RouteOptions } from 'fastify';
import { z } from 'zod';
import { errorResponse } from './api-shapes.js';

/** The sections of /docs, first what most users come for. */
export const OPENAPI_TAGS = [
  { name: 'thumbnails', description: 'Upload images, follow their task, download the thumbnails and the zip. No account needed: the task id is the capability.' },
  { name: 'tasks', description: 'A task’s state and result, its live events (SSE), revoking it. Anonymous callers see only their own uploads.' },
  { name: 'lab', description: 'The lab’s original endpoints (POST / and /task/<id>/), kept for its page and scripts.' },
  { name: 'monitor', description: 'Flower’s views and controls: workers, queues, tasks, rate limits, live events. Staff only.' },
  { name: 'periodic tasks', description: 'django-celery-beat’s periodic tasks: create, change, run now, history. Staff only.' },
  { name: 'schedules', description: 'Schedules in words and their next runs; the schedules in use. Staff only.' },
  { name: 'admin', description: 'Users, groups, API tokens, the change history, the session. Staff only.' },
  { name: 'health', description: 'Liveness and readiness for load balancers and orchestrators.' },
  { name: 'metrics', description: 'Prometheus metrics.' },
];

export const SECURITY_SCHEMES = {
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token from the admin (API tokens page) or `seler createtoken <username>`. Acts with that user’s permissions; no CSRF header needed.',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'seler_session',
    description: 'The admin’s log-in session (a browser that logged in at /admin/login). Writes also need the CSRF header.',
  },
  csrfHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'x-csrf-token',
    description: 'With the session cookie, on every write: the token from GET /api/v1/admin/csrf.',
  },
} as const;

/** Staff routes accept either a token or a session (with its CSRF header on writes). */
const STAFF_SECURITY = [{ bearerToken: [] }, { sessionCookie: [], csrfHeader: [] }];
const STAFF_TAGS = new Set(['monitor', 'periodic tasks', 'schedules', 'admin']);

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the work is queued; follow it at the URL given',
  204: 'Done; no content',
  302: 'Redirect to a short-lived URL of the object store',
  303: 'Redirect (a page)',
  400: 'Bad input: `{error: {code, message}}` says what to change (`fields` names each bad field)',
  401: 'Not authenticated: log in or send a bearer token',
  403: 'Authenticated but not allowed (a permission is missing), or a write without its CSRF header',
  404: 'No such object (or not yours to see)',
  409: 'Not possible in the object’s current state',
  410: 'Gone: the result has expired',
  413: 'Too large',
  415: 'Not an image format seler reads',
  422: 'An image that cannot be decoded',
  429: 'Too many requests: wait for Retry-After seconds',
  503: 'Redis, the database or the object store is unavailable: retry after Retry-After seconds',
  504: 'No answer in time',
};

export interface DocsConfig {
  /** The multipart/form-data body: its fields (files: strings with `format: binary` in their meta). */
  multipartBody?: z.ZodType;
  /** A route that answers with something other than JSON (a file, a page, an event stream): its 200, and the error statuses it can give. */
  produces?: { type: string; description: string; binary?: boolean; errors?: number[] };
}

const { $schema: _dialect, ...ERROR_BODY } = z.toJSONSchema(errorResponse, { io: 'input' }); // input: the body may carry more (fields, retryAfter)

/** fastify-swagger's per-route transform: security, response descriptions, multipart bodies. */
export function transformRouteDocs({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }): { schema: FastifySchema; url: string } {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  const tags = (schema as { tags?: string[] }).tags ?? [];
  if (tags.some((t) => STAFF_TAGS.has(t)) && !(schema as { security?: unknown }).security) out.security = STAFF_SECURITY;
  const multipart = (route.config as DocsConfig | undefined)?.multipartBody;
  if (multipart) {
    out.consumes = ['multipart/form-data'];
    out.body = z.toJSONSchema(multipart, { target: 'openapi-3.0', io: 'input' });
  }
  const produces = (route.config as DocsConfig | undefined)?.produces;
  let response = (schema as { response?: Record<string, Record<string, unknown>> }).response;
  if (produces) {
    response = {
      200: { description: produces.description, content: { [produces.type]: { schema: { type: 'string', ...(produces.binary ? { format: 'binary' } : {}) } } } },
      ...Object.fromEntries((produces.errors ?? []).map((status) => [status, ERROR_BODY])),
      ...response,
    };
  }
  if (response) {
    out.response = Object.fromEntries(
      Object.entries(response).map(([status, body]) => [status, body.description ? body : { ...body, description: STATUS_TEXT[status] ?? `HTTP ${status}` }]),
    );
  }
  return { schema: out as FastifySchema, url };
}

declare module 'fastify' {
  // A route's docs-only settings live in its config (see DocsConfig).
  interface FastifyContextConfig {
    multipartBody?: DocsConfig['multipartBody'];
    produces?: DocsConfig['produces'];
  }
}
