// Errors that carry a stable code and an HTTP status; anything else is an internal error.

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
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
