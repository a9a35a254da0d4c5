// Limits on what a request may carry, for every route at once: JSON bodies nested too deeply are
// refused at the parser (before anything recursive touches them), and numbers that validation lets
// through but no handler can use (Infinity, NaN, integers past 2^53: Ajv's coercion turns the query
// text "Infinity" or "1e1000" into Infinity, and skips minimum/maximum for it) get a 400, as do
// strings with NUL characters (PostgreSQL's text refuses them).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { platformError } from './platform-errors.js';

/** Deepest nesting of arrays and objects a JSON body (or a JSON text field) may have. */
export const MAX_JSON_DEPTH = 64;

/** How deep JSON text nests, reading at most until it passes `limit` (strings are skipped; no recursion). */
export function jsonTextDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** How deep a value nests (arrays and objects), walking at most until it passes `limit` (no recursion). */
export function valueDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = d + 1;
    if (here > deepest) {
      deepest = here;
      if (deepest > limit) return deepest;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, here]);
  }
  return deepest;
}

/** Why a value (already bounded in depth) holds something no handler can use, or null. */
function badValue(value: unknown, path: string): string | null {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length) {
    const [v, p] = stack.pop()!;
    if (typeof v === 'string') {
      // PostgreSQL's text cannot hold NUL: it would fail the query, not the request.
      if (v.includes('\u0000')) return `${p} must not contain NUL characters`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${p} must be a finite number`;
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return `${p} is too large`;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return `${p} has a key with a NUL character`;
        stack.push([child, Array.isArray(v) ? `${p}[${k}]` : `${p}.${k}`]);
      }
    }
  }
  return null;
}

function checkValues(request: FastifyRequest): void {
  for (const [part, value] of [['query', request.query], ['params', request.params], ['body', request.body]] as const) {
    if (value === undefined || value === null || typeof value !== 'object') continue;
    const problem = badValue(value, part);
    if (problem) throw platformError.invalid_request(`${problem}.`);
  }
}

/** Installs the limits on `app` (the root instance, so they cover every route). */
export function installInputLimits(app: FastifyInstance): void {
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonTextDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(platformError.json_too_deep(MAX_JSON_DEPTH), undefined);
      return;
    }
    defaultJson(request, text, done);
  });
  // After validation (which coerced the query), before any handler.
  app.addHook('preHandler', async (request) => checkValues(request));
}
