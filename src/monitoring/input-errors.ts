// Monitoring's own 400s (invalid_page, invalid_ids, invalid_command …) for input its routes' zod
// schemas refuse: a route option naming the error of the first bad field, as the API answered before
// zod checked these routes. Guarded routes pair it with their guard in `preValidation` (guardFirst: 401/403 first;
// the handler calls the guard again for the actor, answered from the identity kept on the request).
import type { FastifyRequest } from 'fastify';

/** One failed check of a route's zod schema. */
export interface InputProblem {
  /** Where it is: params, querystring or body. */
  part: string;
  /** The top-level field at fault; '' for the value as a whole (or for unknown keys). */
  field: string;
  /** The zod issue code: `unrecognized_keys` lists the `keys`, `custom` carries a refinement's own sentence. */
  code: string;
  message: string;
  keys: readonly string[];
}

/** What fastify-type-provider-zod hands Fastify for a failed validation: one entry per zod issue. */
interface ZodValidationEntry {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: { keys?: readonly string[] };
}

/**
 * A route option: the route's error for the problems of one part (in the schema's order), or undefined
 * to leave the platform's generic `invalid_request`.
 */
export function invalidInputAs(answer: (problems: readonly InputProblem[]) => Error | undefined) {
  return {
    schemaErrorFormatter: (errors: readonly unknown[], part: string): Error => {
      const problems = (errors as ZodValidationEntry[]).map((entry) => ({
        part,
        field: entry.instancePath.split('/').filter(Boolean)[0] ?? '',
        code: entry.keyword,
        message: entry.message ?? 'is not valid',
        keys: entry.params?.keys ?? [],
      }));
      // A plain error keeps Fastify's validation marks: the error handler answers invalid_request with it.
      return answer(problems) ?? new Error(problems.map((p) => `${p.field || part} ${p.message}`).join('; '));
    },
  };
}

/** A route option: the guard runs before validation, so a caller without the permission learns nothing from a 400. */
export function guardFirst<Permission extends string>(guard: (request: FastifyRequest, perm: Permission) => Promise<unknown>, perm: Permission) {
  return {
    preValidation: async (request: FastifyRequest) => {
      await guard(request, perm);
    },
  };
}
