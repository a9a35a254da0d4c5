// What seler's JSON APIs share at run time: pages, ids, and 400s that name each bad field
// (`fieldErrors`, an entry of a feature's error catalogue). Their shapes, in zod, are in api-shapes.ts.
import type { ErrorSpec } from './errors.js';
import { DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE, MAX_PAGE_SIZE } from './api-shapes.js';

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface PageQuery {
  page?: number;
  pageSize?: number;
}

export { DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE, MAX_PAGE_SIZE };

export function pageWindow(query: PageQuery): { page: number; pageSize: number; offset: number } {
  const page = Math.max(1, Math.floor(query.page ?? 1));
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.pageSize ?? DEFAULT_PAGE_SIZE)));
  return { page, pageSize, offset: (page - 1) * pageSize };
}

/** An id from a URL or a body: a positive safe integer, or null. */
export function parseId(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Every bad field in one sentence: "name: is required schedule: choose …" (`_` is the body as a whole). */
export function fieldsSentence(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([field, problem]) => (field === '_' ? problem : `${field}: ${problem}`))
    .join(' ');
}

/** A catalogue entry (errorCatalogue) for a 400 naming each bad field: `{error:{code, message, fields:{name: sentence}}}`. */
export const fieldErrors = {
  status: 400,
  message: (fields: Record<string, string>) => fieldsSentence(fields),
  details: (fields: Record<string, string>) => ({ fields }),
} satisfies ErrorSpec<[Record<string, string>]>;
