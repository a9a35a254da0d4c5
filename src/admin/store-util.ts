// Small helpers the admin's stores share: row conversions, pagination, search, input errors.
import { sql, type Expression, type SqlBool } from 'kysely';
import { AppError } from '../platform/errors.js';

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

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export function pageWindow(query: PageQuery): { page: number; pageSize: number; offset: number } {
  const page = Math.max(1, Math.floor(query.page ?? 1));
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.pageSize ?? DEFAULT_PAGE_SIZE)));
  return { page, pageSize, offset: (page - 1) * pageSize };
}

export const num = (v: number | string): number => Number(v);
export const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();
export const isoOrNull = (ms: number | string | null): string | null => (ms === null ? null : iso(ms));
export const flag = (b: boolean): number => (b ? 1 : 0);

/** An id from a URL or a body: a positive safe integer, or null. */
export function parseId(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Case-insensitive "contains" on one column, the same on SQLite and PostgreSQL (% and _ match literally). */
export function contains(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

/** A 400 naming each bad field: `{error:{code, message, fields:{name: sentence}}}`. */
export function invalid(code: string, fields: Record<string, string>): AppError {
  const message = Object.entries(fields)
    .map(([field, problem]) => (field === '_' ? problem : `${field}: ${problem}`))
    .join(' ');
  return new AppError(code, message, 400, { fields });
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
