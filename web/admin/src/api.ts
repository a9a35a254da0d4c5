// The admin's JSON API client: session cookie + CSRF header on every unsafe call, the error contract
// ({error:{code,message,fields?}}) turned into ApiError, and a redirect to log in when the session ends.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field path → message, for forms ("schedule.crontab.minute": "…"). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

let csrfToken = '';
let csrfHeader = 'x-csrf-token';

async function refreshCsrf(): Promise<void> {
  const res = await fetch('/api/v1/admin/csrf', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const body = (await res.json()) as { token: string; header: string };
  csrfToken = body.token;
  csrfHeader = body.header;
}

export function withQuery(url: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const qs = params.toString();
  return qs ? `${url}${url.includes('?') ? '&' : '?'}${qs}` : url;
}

export function loginUrl(): string {
  return `/admin/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

async function toError(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; fields?: Record<string, string> } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON: a proxy's page, say */
  }
  const e = body.error ?? {};
  return new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? `The server answered ${res.status} ${res.statusText}.`, e.fields ?? {});
}

async function request<T>(method: string, url: string, body?: unknown, retried = false): Promise<T> {
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe && !csrfToken) await refreshCsrf();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (unsafe) headers[csrfHeader] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
  const error = await toError(res);
  if (error.status === 401) {
    location.assign(loginUrl());
    throw error;
  }
  // The token is bound to the session: after a new log-in in another tab it must be fetched again.
  if (error.code === 'csrf_failed' && !retried) {
    await refreshCsrf();
    return request<T>(method, url, body, true);
  }
  throw error;
}

export const api = {
  get: <T>(url: string, query?: Query) => request<T>('GET', withQuery(url, query)),
  post: <T>(url: string, body: unknown = {}) => request<T>('POST', url, body),
  patch: <T>(url: string, body: unknown) => request<T>('PATCH', url, body),
  put: <T>(url: string, body: unknown) => request<T>('PUT', url, body),
  delete: <T = void>(url: string) => request<T>('DELETE', url),
  csrf: async () => {
    if (!csrfToken) await refreshCsrf();
    return csrfToken;
  },
};

/** The page shape of every admin list endpoint. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
