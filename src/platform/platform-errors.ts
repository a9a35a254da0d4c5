// The errors the HTTP layer itself answers with, whatever the feature, declared once (docs/errors.md lists
// them). Three stay outside, their status depending on the case: `too_many_streams` (429 for one client,
// 503 for the server, sse.ts), `bad_url` and the codes made from Fastify's own errors (http.ts fastifyCode).
import { errorCatalogue, retryAfter } from './errors.js';

export const PLATFORM_ERRORS = {
  /** A body, query or params refused by a route's schema or the input limits (the sentence says which part). */
  invalid_request: { status: 400, message: (problem: string) => problem },
  json_too_deep: { status: 400, message: (maxDepth: number) => `The JSON body nests arrays and objects more than ${maxDepth} levels deep.` },
  uri_too_long: { status: 414, message: () => 'A part of the URL path is too long.' },
  not_found: { status: 404, message: (method: string, path: string) => `No route for ${method} ${path}` },
  rate_limited: {
    status: 429,
    message: (after: string, _seconds: number) => `Too many requests: try again in ${after}.`,
    headers: (_after: string, seconds: number) => retryAfter(seconds),
  },
  redis_unavailable: {
    status: 503,
    message: () => 'Redis is not answering right now (restarting or unreachable); try again in a few seconds.',
    headers: () => retryAfter(5),
  },
  /** A Cluster redirect or cross-slot refusal: a deployment mistake (the sentence says which). */
  redis_misconfigured: { status: 503, message: (sentence: string) => sentence, headers: () => retryAfter(5) },
  /** GET /ready: the process cannot serve (the reason). */
  not_ready: { status: 503, message: (why: string) => why },
  internal_error: { status: 500, message: () => 'Something went wrong on our side; it has been logged.' },
} as const;

export const platformError = errorCatalogue(PLATFORM_ERRORS);
