// Errors that carry a stable code and an HTTP status; anything else is an internal error.

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
    /** Response headers that belong to the error (Retry-After on 429 and 503). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** One code of a feature's error catalogue: its HTTP status, its message, and any details, made from what the call site knows. */
export interface ErrorSpec<A extends unknown[] = never[]> {
  status: number;
  message: (...args: A) => string;
  details?: (...args: A) => Record<string, unknown>;
  /** Response headers that belong to the error (retryAfter for Retry-After on 429 and 503). */
  headers?: (...args: A) => Record<string, string>;
}

/** The Retry-After header of an error: whole seconds, at least 1. */
export const retryAfter = (seconds: number): Record<string, string> => ({ 'retry-after': String(Math.max(1, Math.ceil(seconds))) });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any parameter list: each entry declares its own
type AnySpec = ErrorSpec<any[]>;
export type ErrorFactories<C extends Record<string, AnySpec>> = { [K in keyof C]: (...args: Parameters<C[K]['message']>) => AppError };

/**
 * A feature's errors, declared once (`<feature>/errors.ts`): every code it answers with, its status and
 * its message. Returns one factory per code, all with the one signature `errors.<code>(what the message needs)`.
 * docs/errors.md lists every catalogue (test/errors-doc.test.ts keeps them in step).
 */
export function errorCatalogue<const C extends Record<string, AnySpec>>(specs: C): ErrorFactories<C> {
  const factories: Record<string, (...args: unknown[]) => AppError> = {};
  for (const [code, spec] of Object.entries(specs)) {
    factories[code] = (...args: unknown[]) => new AppError(code, spec.message(...args), spec.status, spec.details?.(...args), spec.headers?.(...args));
  }
  return factories as ErrorFactories<C>;
}

// For a code whose status depends on the case (sse.ts `too_many_streams`: 429 for a client, 503 for the
// server); docs/errors.md lists the few codes outside the catalogues.
/** 429: the caller should wait `retryAfterSeconds` (sent as Retry-After by the error handler). */
export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number) => new AppError(code, message, 429, undefined, retryAfter(retryAfterSeconds));
/** 503: a dependency (Redis, the database, the data directory) is not usable right now. */
export const unavailable = (code: string, message: string, retryAfterSeconds = 5) => new AppError(code, message, 503, undefined, retryAfter(retryAfterSeconds));

/** A configuration problem: the process prints the message and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Wrong command-line usage: the process prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
