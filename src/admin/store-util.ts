// Small helpers the admin's stores share: row conversions, search, unique violations (pages and ids
// are every JSON API's: platform/json-api.ts; errors are in errors.ts).
import { sql, type Expression, type SqlBool } from 'kysely';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageWindow, parseId, type Page, type PageQuery } from '../platform/json-api.js';

export const num = (v: number | string): number => Number(v);
export const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();
export const isoOrNull = (ms: number | string | null): string | null => (ms === null ? null : iso(ms));
export const flag = (b: boolean): number => (b ? 1 : 0);

/** Case-insensitive "contains" on one column, the same on SQLite and PostgreSQL (% and _ match literally). */
export function contains(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
