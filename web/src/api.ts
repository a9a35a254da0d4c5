// The HTTP contract the page relies on (see docs/ARCHITECTURE.md, "HTTP"): types and small fetchers.

import type { MakeThumbnailsResult, ThumbnailerSettings, ThumbnailsAccepted, UploadLimits } from '../../src/thumbnails/contract.js';
import type { TaskState, TaskView } from '../../src/tasks/contract.js';
import { ACCEPTED_TYPES, DEFAULT_LIMITS, DEFAULT_QUALITY, FITS, OUTPUT_FORMATS, POSITIONS, QUALITY_RANGE } from '../../src/thumbnails/options.js';

export type { ThumbnailFile } from '../../src/thumbnails/contract.js';
export type TaskStatus = TaskState;
export type Limits = UploadLimits;
export type Config = ThumbnailerSettings;
export type Accepted = ThumbnailsAccepted;
/** What the page reads of a thumbnails.make task (GET /api/v1/tasks/<id> answers more). */
export type Task = Pick<TaskView, 'id' | 'name' | 'status' | 'progress' | 'error' | 'dateCreated' | 'dateDone'> & { result?: MakeThumbnailsResult };

export const TERMINAL = ['SUCCESS', 'FAILURE', 'REVOKED'] as const;

/** Used until (or if never) GET /api/v1/config answers; the server checks again anyway. */
export const DEFAULT_CONFIG: Config = {
  limits: { ...DEFAULT_LIMITS },
  formats: [...OUTPUT_FORMATS],
  fits: [...FITS],
  positions: [...POSITIONS],
  quality: { ...QUALITY_RANGE, defaults: { ...DEFAULT_QUALITY } },
  accepted: [...ACCEPTED_TYPES],
};

/** One file the server refused, as its 4xx answer lists them under `error.files`. */
export interface RefusedFile {
  name: string;
  code: string;
  message: string;
}

export function isTerminal(status: string | undefined): boolean {
  return (TERMINAL as readonly string[]).includes(status ?? '');
}

/** An error as the page shows it: a code (HTTP-ish or our own) and one sentence. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 0,
    readonly retryable = false,
    /** Every file the server refused, each with its own reason. */
    readonly files: RefusedFile[] = [],
  ) {
    super(message);
  }
}

/** Turn a non-2xx answer into an ApiError, reading `{error:{code,message}}` when present. */
export function errorFromResponse(status: number, body: string, retryAfter?: string | null): ApiError {
  let code = `HTTP_${status}`;
  let message = '';
  let files: RefusedFile[] = [];
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; files?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    if (Array.isArray(parsed.error?.files)) {
      files = (parsed.error.files as Partial<RefusedFile>[]).filter(
        (f): f is RefusedFile => typeof f?.name === 'string' && typeof f.message === 'string' && typeof f.code === 'string',
      );
    }
  } catch {
    // not JSON (a proxy's page, say): fall through to the generic sentence
  }
  if (!message) message = GENERIC[status] ?? `The server answered with an unexpected error (${status}).`;
  if (status === 429 && retryAfter && /^\d+$/.test(retryAfter)) {
    message += ` Try again in ${retryAfter} s.`;
  }
  return new ApiError(code, message, status, status === 429 || status >= 500, files);
}

const GENERIC: Record<number, string> = {
  400: 'The server could not accept that request.',
  401: 'You need to sign in to do that.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  413: 'The upload is too large for the server.',
  415: 'That file type is not supported.',
  422: 'One of the images could not be read.',
  429: 'Too many requests right now.',
};

export async function fetchConfig(signal?: AbortSignal): Promise<Config> {
  const res = await fetch('/api/v1/config', { headers: { accept: 'application/json' }, signal });
  if (!res.ok) throw errorFromResponse(res.status, await res.text());
  const body = (await res.json()) as Partial<Config>;
  const limits = { ...DEFAULT_CONFIG.limits };
  for (const key of Object.keys(limits) as (keyof Limits)[]) {
    const v = body.limits?.[key];
    if (typeof v === 'number' && v > 0) limits[key] = v;
  }
  const strings = (v: unknown, fallback: string[]): string[] =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : fallback;
  const q = body.quality;
  const quality =
    q && typeof q.min === 'number' && typeof q.max === 'number' && q.min <= q.max ? { ...DEFAULT_CONFIG.quality, ...q } : DEFAULT_CONFIG.quality;
  return {
    limits,
    formats: strings(body.formats, DEFAULT_CONFIG.formats) as Config['formats'],
    fits: strings(body.fits, DEFAULT_CONFIG.fits) as Config['fits'],
    positions: strings(body.positions, DEFAULT_CONFIG.positions) as Config['positions'],
    quality,
    accepted: strings(body.accepted, DEFAULT_CONFIG.accepted),
  };
}

export async function fetchTask(statusUrl: string): Promise<Task> {
  const res = await fetch(statusUrl, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw errorFromResponse(res.status, await res.text());
  return (await res.json()) as Task;
}

/** DELETE /api/v1/tasks/<id> with the upload's cancel token: ask the server to revoke the task. */
export async function revokeTask(job: Pick<Accepted, 'statusUrl' | 'cancelToken'>): Promise<void> {
  const res = await fetch(job.statusUrl, { method: 'DELETE', headers: { accept: 'application/json', 'x-cancel-token': job.cancelToken } });
  if (!res.ok && res.status !== 404) throw errorFromResponse(res.status, await res.text());
}
