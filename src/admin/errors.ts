// Every error the admin answers with, declared once (docs/errors.md lists them). 401 and 403 carry the
// sentence the situation needs: which permission, which rule of who may change whom.
import { errorCatalogue, retryAfter } from '../platform/errors.js';
import { fieldErrors } from '../platform/json-api.js';

export const ADMIN_ERRORS = {
  not_authenticated: { status: 401, message: () => 'Log in at /admin/login, or send "Authorization: Bearer <token>".' },
  invalid_token: { status: 401, message: () => 'The API token is unknown or revoked (send "Authorization: Bearer <token>").' },
  /** A write without a valid CSRF token, or a log-out from another site. */
  csrf_failed: { status: 403, message: (why: string) => why },
  /** A missing permission, or a change of someone who outranks the caller (api-users.ts assertOutranks). */
  permission_denied: { status: 403, message: (why: string) => why },
  user_not_found: { status: 404, message: (id: number | string) => `No user with id ${id}.` },
  group_not_found: { status: 404, message: (id: number | string) => `No group with id ${id}.` },
  token_not_found: { status: 404, message: (id: number | string) => `No API token with id ${id}.` },
  invalid_user: fieldErrors,
  invalid_group: fieldErrors,
  invalid_token_request: fieldErrors,
  /** The log-in rate limit, per client or for everyone (`where`), with Retry-After. */
  rate_limited: {
    status: 429,
    message: (where: string, seconds: number) => `Too many log-in attempts ${where}: try again in ${seconds} s.`,
    headers: (_where: string, seconds: number) => retryAfter(seconds),
  },
  /** Every password-checking thread is taken and the queue is full. */
  busy: { status: 503, message: () => 'The server is busy checking passwords: try again in a moment.', headers: () => retryAfter(2) },
} as const;

export const adminError = errorCatalogue(ADMIN_ERRORS);
