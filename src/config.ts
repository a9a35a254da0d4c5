// The only reader of process.env. Validates once and fails naming the bad variable.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './platform/errors.js';
import { parseRedisUrl, type RedisTarget } from './platform/redis-target.js';
import { parseStorageTarget, type StorageTarget } from './platform/storage/target.js';
import { DEFAULT_DECODE_MEMORY_BYTES, DEFAULT_LIMITS, type UploadLimits } from './thumbnails/contract.js';

const positiveInt = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).positive(`${name} must be greater than 0`);

const positiveNumber = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).positive(`${name} must be greater than 0`);

const envSchema = z.object({
  SELER_DATA_DIR: z.string().min(1).default('./data'),
  SELER_CONFIG: z.string().optional(),
  REDIS_URL: z.string().optional(),
  SELER_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'SELER_REDIS_PREFIX may contain letters, digits, "_", "." and "-"').default('seler'),
  DATABASE_URL: z.string().optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number({ error: 'PORT must be a number' }).int().min(0, 'PORT must be 0-65535').max(65535, 'PORT must be 0-65535').default(8000),
  SELER_TIMEZONE: z.string().default('UTC'),
  SELER_HOSTNAME: z.string().regex(/^[A-Za-z0-9_.-]{1,253}$/, 'SELER_HOSTNAME may contain letters, digits, "_", "." and "-"').optional(),
  SELER_SECRET: z.string().min(32, 'SELER_SECRET must be at least 32 characters').optional(),
  SELER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SELER_LOG_FORMAT: z.enum(['pretty', 'json'], { error: 'SELER_LOG_FORMAT must be "pretty" or "json"' }).optional(),
  SELER_MAX_UPLOAD_MB: positiveNumber('SELER_MAX_UPLOAD_MB').default(DEFAULT_LIMITS.maxUploadBytes / 1024 / 1024),
  SELER_MAX_FILES: positiveInt('SELER_MAX_FILES').default(DEFAULT_LIMITS.maxFiles),
  SELER_MAX_MEGAPIXELS: positiveNumber('SELER_MAX_MEGAPIXELS').default(DEFAULT_LIMITS.maxPixels / 1_000_000),
  SELER_DECODE_MEMORY_MB: positiveNumber('SELER_DECODE_MEMORY_MB').default(DEFAULT_DECODE_MEMORY_BYTES / 1024 / 1024),
  SELER_MAX_SIZES: positiveInt('SELER_MAX_SIZES').default(DEFAULT_LIMITS.maxSizes),
  SELER_MAX_DIMENSION: positiveInt('SELER_MAX_DIMENSION').default(DEFAULT_LIMITS.maxDimension),
  SELER_UPLOAD_RATE: z
    .string()
    .regex(/^\s*(off|0|\d+\s*\/\s*[smhd])\s*$/i, 'SELER_UPLOAD_RATE must look like "120/m" (uploads per s, m, h or d per client), or "off"')
    .default('300/m'),
  SELER_UPLOAD_BUDGET_MB: z.coerce
    .number({ error: 'SELER_UPLOAD_BUDGET_MB must be a number' })
    .min(0, 'SELER_UPLOAD_BUDGET_MB must be 0 (no budget) or more')
    .default(2048),
  SELER_UPLOAD_IDLE_TIMEOUT: positiveNumber('SELER_UPLOAD_IDLE_TIMEOUT').default(60),
  SELER_RESULT_TTL: positiveInt('SELER_RESULT_TTL').default(24 * 3600),
  SELER_FAILURE_TTL: positiveInt('SELER_FAILURE_TTL').optional(),
  SELER_MEDIA_TTL: positiveInt('SELER_MEDIA_TTL').default(24 * 3600),
  SELER_EVENTS_MAXLEN: positiveInt('SELER_EVENTS_MAXLEN').default(100_000),
  SELER_CONCURRENCY: positiveInt('SELER_CONCURRENCY').optional(),
  SELER_SHUTDOWN_TIMEOUT: positiveNumber('SELER_SHUTDOWN_TIMEOUT').default(30),
  SELER_LOCK_DURATION: positiveNumber('SELER_LOCK_DURATION').default(30),
  SELER_COOKIE_SECURE: z.enum(['true', 'false', '1', '0'], { error: 'SELER_COOKIE_SECURE must be true or false' }).default('false'),
  SELER_METRICS_TOKEN: z.string().min(16, 'SELER_METRICS_TOKEN must be at least 16 characters').optional(),
  SELER_METRICS_AUTH: z.enum(['none', 'token', 'admin'], { error: 'SELER_METRICS_AUTH must be none, token or admin' }).optional(),
  SELER_SSE_MAX_PER_CLIENT: positiveInt('SELER_SSE_MAX_PER_CLIENT').default(20),
  SELER_SSE_MAX_TOTAL: positiveInt('SELER_SSE_MAX_TOTAL').default(500),
  SELER_SSE_MAX_BUFFER_KB: positiveInt('SELER_SSE_MAX_BUFFER_KB').default(512),
  SELER_STORAGE: z.string().optional(),
  SELER_S3_ENDPOINT: z.string().optional(),
  SELER_S3_REGION: z.string().optional(),
  SELER_S3_FORCE_PATH_STYLE: z.string().optional(),
  SELER_STORAGE_REDIRECT: z.enum(['off', 'presigned'], { error: 'SELER_STORAGE_REDIRECT must be off or presigned' }).default('off'),
  SELER_STORAGE_URL_TTL: z.coerce
    .number({ error: 'SELER_STORAGE_URL_TTL must be a number of seconds' })
    .int('SELER_STORAGE_URL_TTL must be a whole number of seconds')
    .min(1, 'SELER_STORAGE_URL_TTL must be 1-604800 seconds')
    .max(604_800, 'SELER_STORAGE_URL_TTL must be 1-604800 seconds')
    .default(300),
  AWS_REGION: z.string().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  SELER_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'SELER_TRUST_PROXY must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses')
    .default('false'),
});

export const CONFIG_FILE_NAMES = ['seler.config.json'];

const fileSchema = z
  .object({
    tasks: z.array(z.string().min(1)).default([]),
    beatSchedule: z.record(z.string(), z.unknown()).default({}),
    timezone: z.string().optional(),
  })
  .strict();

export type Limits = UploadLimits;

export interface Config {
  dataDir: string;
  mediaDir: string;
  /** Where uploads and results are kept: the media directory (default) or an S3 bucket (SELER_STORAGE). */
  storage: StorageTarget;
  /** Downloads of single objects: streamed by the web role, or a 302 to a presigned URL valid `urlTtlSeconds` (S3 only). */
  downloads: { redirect: 'off' | 'presigned'; urlTtlSeconds: number };
  configFile: string | undefined;
  /** REDIS_URL, parsed (unset: the private redis-server of the data directory). */
  redisTarget: RedisTarget | undefined;
  redisPrefix: string;
  databaseUrl: string | undefined;
  /** This host's name in claims other hosts see (SELER_HOSTNAME; the system's host name when unset). */
  hostname: string | undefined;
  host: string;
  port: number;
  timezone: string;
  secret: string | undefined;
  logLevel: string;
  /** Forced log format; unset: pretty on a terminal, JSON otherwise. */
  logFormat: 'pretty' | 'json' | undefined;
  limits: Limits;
  /** The per-client budget of anonymous uploads (kept in Redis), and how long a stalled upload is waited for. */
  uploads: {
    rate?: { count: number; periodMs: number };
    bytesPerHour?: number;
    idleTimeoutMs: number;
  };
  retention: { successSeconds: number; failureSeconds: number; mediaSeconds: number };
  eventsMaxLen: number;
  concurrency: number | undefined;
  /** Memory the thumbnail decodes that hold a whole image may take together in one worker process. */
  decodeMemoryBytes: number;
  shutdownTimeoutMs: number;
  /** Mark the admin's cookies Secure (set it when seler is served over HTTPS). */
  cookieSecure: boolean;
  /** Who may read GET /metrics: anyone, a bearer token (SELER_METRICS_TOKEN), or the admin's auth (view_task). */
  metrics: { auth: 'none' | 'token' | 'admin'; token?: string };
  /**
   * Fastify's trustProxy: whether X-Forwarded-For names the client (per-client limits and the audit log
   * use the client's address). false: the peer's address is the client's.
   */
  trustProxy: boolean | number | string;
  /** Event streams (SSE) per client address and per web process, and the bytes a slow reader may hold before it is dropped. */
  eventStreams: { maxPerClient: number; maxTotal: number; maxBufferedBytes: number };
  /** A running task whose worker stops renewing its lock this long is handed to another worker. */
  lockDurationMs: number;
  /** Absolute paths of task modules to import (Celery's autodiscovery). */
  taskModules: string[];
  beatSchedule: Record<string, unknown>;
}

function isValidTimeZone(tz: string): boolean {
  // The default needs no check: the first Intl.DateTimeFormat loads the time-zone data (20-100 ms), which
  // every short command (`seler call`, `seler result`) would pay for nothing.
  if (tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Reads `.env` in the working directory (when present) without overriding real variables. */
export function loadDotEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = path.join(cwd, '.env');
  if (!existsSync(file)) return;
  const parsed = parseDotEnv(readFileSync(file, 'utf8'));
  for (const [key, value] of Object.entries(parsed)) if (env[key] === undefined) env[key] = value;
}

function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    out[match[1]!] = value;
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(blank);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(issue.message.includes(variable) ? issue.message : `${variable}: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.SELER_DATA_DIR);

  const configFile = e.SELER_CONFIG
    ? path.resolve(cwd, e.SELER_CONFIG)
    : CONFIG_FILE_NAMES.map((n) => path.join(cwd, n)).find((p) => existsSync(p));
  let fileConfig: z.infer<typeof fileSchema> = { tasks: [], beatSchedule: {} };
  if (configFile) {
    if (!existsSync(configFile)) throw new ConfigError(`SELER_CONFIG points at ${configFile}, which does not exist`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${configFile} is not valid JSON: ${(err as Error).message}`);
    }
    const file = fileSchema.safeParse(json);
    if (!file.success) {
      const issue = file.error.issues[0]!;
      throw new ConfigError(`${configFile}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
    }
    fileConfig = file.data;
  }

  const timezone = e.SELER_TIMEZONE !== 'UTC' ? e.SELER_TIMEZONE : fileConfig.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) throw new ConfigError(`SELER_TIMEZONE: unknown time zone "${timezone}"`);
  if (e.DATABASE_URL && !/^(postgres(ql)?:\/\/|sqlite:)/.test(e.DATABASE_URL))
    throw new ConfigError('DATABASE_URL must start with postgres:// (or sqlite:<path>)');

  const metricsAuth = e.SELER_METRICS_AUTH ?? (e.SELER_METRICS_TOKEN ? 'token' : 'none');
  if (metricsAuth === 'token' && !e.SELER_METRICS_TOKEN) throw new ConfigError('SELER_METRICS_AUTH=token needs SELER_METRICS_TOKEN');

  const mediaDir = path.join(dataDir, 'media');
  const storage = parseStorageTarget(e, mediaDir);
  if (e.SELER_STORAGE_REDIRECT === 'presigned' && storage.kind !== 's3')
    throw new ConfigError('SELER_STORAGE_REDIRECT=presigned needs SELER_STORAGE=s3://… (the local store has no URLs to redirect to).');

  const configDir = configFile ? path.dirname(configFile) : cwd;
  return {
    dataDir,
    mediaDir,
    storage,
    downloads: { redirect: e.SELER_STORAGE_REDIRECT, urlTtlSeconds: e.SELER_STORAGE_URL_TTL },
    configFile,
    redisTarget: e.REDIS_URL ? parseRedisUrl(e.REDIS_URL, 'REDIS_URL') : undefined,
    redisPrefix: e.SELER_REDIS_PREFIX,
    databaseUrl: e.DATABASE_URL,
    hostname: e.SELER_HOSTNAME,
    host: e.HOST,
    port: e.PORT,
    timezone,
    secret: e.SELER_SECRET,
    logLevel: e.SELER_LOG_LEVEL,
    logFormat: e.SELER_LOG_FORMAT,
    limits: {
      maxUploadBytes: Math.round(e.SELER_MAX_UPLOAD_MB * 1024 * 1024),
      maxFiles: e.SELER_MAX_FILES,
      maxPixels: Math.round(e.SELER_MAX_MEGAPIXELS * 1_000_000),
      maxSizes: e.SELER_MAX_SIZES,
      maxDimension: e.SELER_MAX_DIMENSION,
    },
    uploads: {
      ...parseUploadRate(e.SELER_UPLOAD_RATE),
      ...(e.SELER_UPLOAD_BUDGET_MB > 0 ? { bytesPerHour: Math.round(e.SELER_UPLOAD_BUDGET_MB * 1024 * 1024) } : {}),
      idleTimeoutMs: Math.round(e.SELER_UPLOAD_IDLE_TIMEOUT * 1000),
    },
    retention: {
      successSeconds: e.SELER_RESULT_TTL,
      failureSeconds: e.SELER_FAILURE_TTL ?? e.SELER_RESULT_TTL,
      mediaSeconds: e.SELER_MEDIA_TTL,
    },
    eventsMaxLen: e.SELER_EVENTS_MAXLEN,
    concurrency: e.SELER_CONCURRENCY,
    decodeMemoryBytes: Math.round(e.SELER_DECODE_MEMORY_MB * 1024 * 1024),
    shutdownTimeoutMs: e.SELER_SHUTDOWN_TIMEOUT * 1000,
    lockDurationMs: e.SELER_LOCK_DURATION * 1000,
    cookieSecure: e.SELER_COOKIE_SECURE === 'true' || e.SELER_COOKIE_SECURE === '1',
    metrics: { auth: metricsAuth, ...(e.SELER_METRICS_TOKEN ? { token: e.SELER_METRICS_TOKEN } : {}) },
    trustProxy: parseTrustProxy(e.SELER_TRUST_PROXY),
    eventStreams: { maxPerClient: e.SELER_SSE_MAX_PER_CLIENT, maxTotal: e.SELER_SSE_MAX_TOTAL, maxBufferedBytes: e.SELER_SSE_MAX_BUFFER_KB * 1024 },
    taskModules: fileConfig.tasks.map((t) => path.resolve(configDir, t)),
    beatSchedule: fileConfig.beatSchedule,
  };
}

const PERIOD_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseUploadRate(value: string): { rate?: { count: number; periodMs: number } } {
  const m = /^\s*(\d+)\s*\/\s*([smhd])\s*$/i.exec(value);
  if (!m || Number(m[1]) === 0) return {};
  return { rate: { count: Number(m[1]), periodMs: PERIOD_MS[m[2]!.toLowerCase()]! } };
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}
