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

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) => new AppError(code, message, 400, details);
export const notFound = (message: string, code = 'not_found') => new AppError(code, message, 404);
export const tooLarge = (code: string, message: string) => new AppError(code, message, 413);
export const unsupportedMedia = (code: string, message: string) => new AppError(code, message, 415);
export const unprocessable = (code: string, message: string) => new AppError(code, message, 422);
export const forbidden = (code: string, message: string) => new AppError(code, message, 403);
/** 429: the caller should wait `retryAfterSeconds` (sent as Retry-After by the error handler). */
export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number) =>
  new AppError(code, message, 429, undefined, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
/** 503: a dependency (Redis, the database, the data directory) is not usable right now. */
export const unavailable = (code: string, message: string, retryAfterSeconds = 5) =>
  new AppError(code, message, 503, undefined, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

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
