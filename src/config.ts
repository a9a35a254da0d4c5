// The only reader of process.env. Validates once and fails naming the bad variable.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './platform/errors.js';
import type { UploadLimits } from './thumbnails/contract.js';

const positiveInt = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).positive(`${name} must be greater than 0`);

const positiveNumber = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).positive(`${name} must be greater than 0`);

const envSchema = z.object({
  SELER_DATA_DIR: z.string().min(1).default('./data'),
  SELER_CONFIG: z.string().optional(),
  REDIS_URL: z.string().url('REDIS_URL must be a URL such as redis://127.0.0.1:6379/0').optional(),
  SELER_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'SELER_REDIS_PREFIX may contain letters, digits, "_", "." and "-"').default('seler'),
  DATABASE_URL: z.string().optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number({ error: 'PORT must be a number' }).int().min(0, 'PORT must be 0-65535').max(65535, 'PORT must be 0-65535').default(8000),
  SELER_TIMEZONE: z.string().default('UTC'),
  SELER_SECRET: z.string().min(32, 'SELER_SECRET must be at least 32 characters').optional(),
  SELER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SELER_MAX_UPLOAD_MB: positiveNumber('SELER_MAX_UPLOAD_MB').default(50),
  SELER_MAX_FILES: positiveInt('SELER_MAX_FILES').default(20),
  SELER_MAX_MEGAPIXELS: positiveNumber('SELER_MAX_MEGAPIXELS').default(100),
  SELER_MAX_SIZES: positiveInt('SELER_MAX_SIZES').default(8),
  SELER_MAX_DIMENSION: positiveInt('SELER_MAX_DIMENSION').default(4096),
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
  configFile: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  databaseUrl: string | undefined;
  host: string;
  port: number;
  timezone: string;
  secret: string | undefined;
  logLevel: string;
  limits: Limits;
  retention: { successSeconds: number; failureSeconds: number; mediaSeconds: number };
  eventsMaxLen: number;
  concurrency: number | undefined;
  shutdownTimeoutMs: number;
  /** Mark the admin's cookies Secure (set it when seler is served over HTTPS). */
  cookieSecure: boolean;
  /** Who may read GET /metrics: anyone, a bearer token (SELER_METRICS_TOKEN), or the admin's auth (view_task). */
  metrics: { auth: 'none' | 'token' | 'admin'; token?: string };
  /** A running task whose worker stops renewing its lock this long is handed to another worker. */
  lockDurationMs: number;
  /** Absolute paths of task modules to import (Celery's autodiscovery). */
  taskModules: string[];
  beatSchedule: Record<string, unknown>;
}

function isValidTimeZone(tz: string): boolean {
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

  const configDir = configFile ? path.dirname(configFile) : cwd;
  return {
    dataDir,
    mediaDir: path.join(dataDir, 'media'),
    configFile,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.SELER_REDIS_PREFIX,
    databaseUrl: e.DATABASE_URL,
    host: e.HOST,
    port: e.PORT,
    timezone,
    secret: e.SELER_SECRET,
    logLevel: e.SELER_LOG_LEVEL,
    limits: {
      maxUploadBytes: Math.round(e.SELER_MAX_UPLOAD_MB * 1024 * 1024),
      maxFiles: e.SELER_MAX_FILES,
      maxPixels: Math.round(e.SELER_MAX_MEGAPIXELS * 1_000_000),
      maxSizes: e.SELER_MAX_SIZES,
      maxDimension: e.SELER_MAX_DIMENSION,
    },
    retention: {
      successSeconds: e.SELER_RESULT_TTL,
      failureSeconds: e.SELER_FAILURE_TTL ?? e.SELER_RESULT_TTL,
      mediaSeconds: e.SELER_MEDIA_TTL,
    },
    eventsMaxLen: e.SELER_EVENTS_MAXLEN,
    concurrency: e.SELER_CONCURRENCY,
    shutdownTimeoutMs: e.SELER_SHUTDOWN_TIMEOUT * 1000,
    lockDurationMs: e.SELER_LOCK_DURATION * 1000,
    cookieSecure: e.SELER_COOKIE_SECURE === 'true' || e.SELER_COOKIE_SECURE === '1',
    metrics: { auth: metricsAuth, ...(e.SELER_METRICS_TOKEN ? { token: e.SELER_METRICS_TOKEN } : {}) },
    taskModules: fileConfig.tasks.map((t) => path.resolve(configDir, t)),
    beatSchedule: fileConfig.beatSchedule,
  };
}
