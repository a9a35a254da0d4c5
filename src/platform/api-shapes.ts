// The zod shapes every JSON API shares: the error bodies, ids, pages. Routes declare their params,
// query, body and responses with zod; Fastify validates and serializes with them and /docs is
// generated from them (http.ts), so each shape is written once.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Beyond it a page cannot hold anything (offset page × pageSize stays a safe integer in SQL). */
export const MAX_PAGE = 1_000_000;
/** Ids are 32-bit integers in both dialects (PostgreSQL's integer refuses more). */
export const MAX_ID = 2_147_483_647;

/** `{error: {code, message}}`: every error of the contract. */
export const errorResponse = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A 400 that names each bad field: `{error:{code, message, fields:{field: sentence}}}`. */
export const invalidResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), fields: z.record(z.string(), z.string()).optional() }),
});

/** The error responses of a guarded JSON route. */
export const guardedErrors = { 400: invalidResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse } as const;

/** An ISO 8601 instant, as the APIs send it. */
export const dateTime = z.iso.datetime({ offset: true });

/** A query flag: `true` or `false`, as a query string carries it. */
export const queryFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * A database id in a path: a positive 32-bit integer, written in digits (not `1e3`, `0x10` or ` 7`, which
 * a plain number coercion would take for 1000, 16 and 7).
 */
export const idParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,10}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_ID)),
});

export const pageQueryShape = {
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
};

export function pageOf<Item extends z.ZodType>(item: Item, description: string) {
  return z.object({ items: z.array(item), total: z.number().int(), page: z.number().int(), pageSize: z.number().int() }).describe(description);
}

/** Each bad field and its sentence (`a.b` for nested fields, `_` for the value as a whole), first problem per field. */
export type FieldProblems = Record<string, string>;

/** The field problems of zod issues (an unknown key is named as its own field). */
export function fieldProblems(issues: readonly { code?: string; path: readonly PropertyKey[]; message: string; keys?: readonly string[] }[]): FieldProblems {
  const fields: FieldProblems = {};
  // Own keys only, defined rather than assigned: a field named toString, constructor or __proto__ is a field too.
  const put = (field: string, problem: string) => {
    if (!Object.hasOwn(fields, field)) Object.defineProperty(fields, field, { value: problem, enumerable: true, writable: true, configurable: true });
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) put([...issue.path.map(String), key].join('.'), `unknown field "${key}"`);
      continue;
    }
    put(issue.path.map(String).join('.') || '_', issue.message);
  }
  return fields;
}

/** The part of a request a schema failed on (Fastify checks params, then body, querystring, headers; the first failure answers). */
export type RequestPart = 'params' | 'body' | 'querystring' | 'headers';

/** What fastify-type-provider-zod hands Fastify for a failed validation: one entry per zod issue. */
interface ZodValidationEntry {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: { keys?: readonly string[] };
}

/**
 * A route option: a request that fails the route's zod schema answers with the feature's own 400 naming
 * each bad field (`make(fields)`, an entry of its error catalogue such as `fieldErrors`), not the generic
 * `invalid_request`. Guarded routes pair it with their guard in `preValidation`, so a caller without the
 * permission learns nothing about the body (401/403 first). `make` is told which part failed, for a
 * route answering a bad `:id` or query value with other codes than a bad body.
 */
export function invalidFieldsAs(make: (fields: FieldProblems, part: RequestPart) => Error) {
  return {
    schemaErrorFormatter: (errors: readonly unknown[], part: RequestPart) =>
      make(
        fieldProblems(
          (errors as ZodValidationEntry[]).map((entry) => ({
            code: entry.keyword,
            path: entry.instancePath.split('/').filter(Boolean),
            message: entry.message ?? 'is not valid',
            keys: entry.params?.keys,
          })),
        ),
        part,
      ),
  };
}

/** A route option: the guard runs before validation, so a caller without the permission learns nothing from a 400 (the handler asks the guard again for the actor; guards answer that from the first call). */
export function guardFirst<Permission>(guard: (request: FastifyRequest, perm: Permission) => Promise<unknown>, perm: Permission) {
  return {
    preValidation: async (request: FastifyRequest) => {
      await guard(request, perm);
    },
  };
}
