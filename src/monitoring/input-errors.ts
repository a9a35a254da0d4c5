// Monitoring's own 400s (invalid_page, invalid_ids, invalid_command …) for input its routes' zod schemas
// refuse, as the API answered before zod checked these routes.
import { invalidFieldsAs, type FieldProblems, type RequestPart } from '../platform/api-shapes.js';

/**
 * A route option: input of `part` that the route's zod schema refuses answers with `answer(fields)` (the
 * bad fields in the schema's order, unknown keys after them); another part, or no answer, keeps the
 * platform's `invalid_request` naming the fields.
 */
export function invalidInputAs(part: RequestPart, answer: (fields: FieldProblems) => Error | undefined) {
  return invalidFieldsAs(
    (fields, failed) =>
      (failed === part ? answer(fields) : undefined) ??
      // A plain error keeps Fastify's validation marks: the error handler answers invalid_request with it.
      new Error(Object.entries(fields).map(([field, problem]) => `${field} ${problem}`).join('; ')),
  );
}
