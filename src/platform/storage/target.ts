// Where objects live, from SELER_STORAGE and the SELER_S3_* variables: plain data (JSON-safe), so a
// worker's pool children get it with the configuration. Every malformed value is refused with one
// sentence naming its variable.
import { ConfigError } from '../errors.js';

export interface LocalTarget {
  kind: 'local';
  dir: string;
}

export interface S3Target {
  kind: 's3';
  bucket: string;
  /** "" or ending in "/". */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); unset: the SDK's default chain (profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type StorageTarget = LocalTarget | S3Target;

export interface StorageEnv {
  SELER_STORAGE?: string;
  SELER_S3_ENDPOINT?: string;
  SELER_S3_REGION?: string;
  SELER_S3_FORCE_PATH_STYLE?: string;
  AWS_REGION?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
}

// S3's bucket rules: 3-63 characters, lower-case letters, digits, "." and "-", starting and ending alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.=-]*$/;
const REGION = /^[a-z0-9-]{2,40}$/;

/** The local directory `defaultDir` unless SELER_STORAGE says s3://bucket/prefix. */
export function parseStorageTarget(env: StorageEnv, defaultDir: string): StorageTarget {
  const value = env.SELER_STORAGE?.trim();
  const s3Vars = (['SELER_S3_ENDPOINT', 'SELER_S3_REGION', 'SELER_S3_FORCE_PATH_STYLE'] as const).filter((v) => env[v] !== undefined);
  if (!value || value === 'local') {
    if (s3Vars.length) throw new ConfigError(`${s3Vars[0]} is set but SELER_STORAGE is not an s3:// URL (set SELER_STORAGE=s3://bucket/prefix to use S3).`);
    return { kind: 'local', dir: defaultDir };
  }
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(value);
  if (!m) throw new ConfigError(`SELER_STORAGE must be s3://bucket or s3://bucket/prefix (or unset for the data directory), not "${value.slice(0, 80)}".`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new ConfigError(`SELER_STORAGE names the bucket "${bucket.slice(0, 80)}", which is not a valid S3 bucket name (3-63 lower-case letters, digits, "." and "-").`);
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  if (!segments.every((s) => PREFIX_SEGMENT.test(s)))
    throw new ConfigError(`SELER_STORAGE has the prefix "${(m[2] ?? '').slice(0, 80)}": use segments of letters, digits, "_", "-", "." and "=" separated by "/".`);
  const prefix = segments.length ? `${segments.join('/')}/` : '';

  let endpoint: string | undefined;
  if (env.SELER_S3_ENDPOINT !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(env.SELER_S3_ENDPOINT);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search)
      throw new ConfigError(`SELER_S3_ENDPOINT must be an http:// or https:// URL of the S3 server without a path or credentials, such as https://s3.example.com:9000, not "${env.SELER_S3_ENDPOINT.slice(0, 80)}".`);
    endpoint = url.origin;
  }
  const region = env.SELER_S3_REGION ?? env.AWS_REGION ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`SELER_S3_REGION must be a region name such as us-east-1, not "${region.slice(0, 80)}".`);
  const pathStyle = env.SELER_S3_FORCE_PATH_STYLE?.toLowerCase();
  if (pathStyle !== undefined && !['true', 'false', '1', '0'].includes(pathStyle))
    throw new ConfigError(`SELER_S3_FORCE_PATH_STYLE must be true or false, not "${env.SELER_S3_FORCE_PATH_STYLE!.slice(0, 40)}".`);
  // Path-style by default with a custom endpoint (MinIO, Swift, Ceph rarely have per-bucket DNS names).
  const forcePathStyle = pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true' || pathStyle === '1';

  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if ((id === undefined) !== (secret === undefined))
    throw new ConfigError(`${id === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is missing: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (to use the SDK's profiles or instance role).`);
  const credentials = id && secret ? { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } : undefined;

  return { kind: 's3', bucket, prefix, ...(endpoint ? { endpoint } : {}), region, forcePathStyle, ...(credentials ? { credentials } : {}) };
}

/** For logs: where objects go, without credentials. */
export function describeStorageTarget(target: StorageTarget): string {
  return target.kind === 'local' ? target.dir : `s3://${target.bucket}/${target.prefix}${target.endpoint ? ` at ${target.endpoint}` : ''}`;
}
