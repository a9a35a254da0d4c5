// Where Redis is: REDIS_URL parsed once into a plain description (JSON-safe, so a parent hands it to
// its pool children as is). Every malformed URL is refused here with a sentence naming the variable.
import { ConfigError } from './errors.js';

export interface RedisNode {
  host: string;
  port: number;
}

interface Auth {
  username?: string;
  password?: string;
}

/** One server: TCP (`redis://`, `rediss://`) or a unix socket (`unix://`). */
export interface SingleTarget extends Auth {
  kind: 'single';
  host?: string;
  port?: number;
  path?: string;
  tls: boolean;
  db: number;
  /** The URL with its password masked, for logs and messages. */
  display: string;
  /** The URL as given (with its password), for tools that take a URL (redis-cli hints of the lab). */
  url: string;
}

/** A master found through Sentinel (`redis+sentinel://h1:26379,h2:26379/mymaster`). */
export interface SentinelTarget extends Auth {
  kind: 'sentinel';
  sentinels: RedisNode[];
  /** The master group's name, as in `sentinel monitor <name> …`. */
  name: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /**
   * How many replicas must hold a new task before enqueue answers (Redis WAIT); 0: as soon as the
   * master has it. Replication is asynchronous, so only this makes a failover lose nothing acknowledged.
   */
  waitReplicas: number;
  tls: boolean;
  db: number;
  display: string;
  url: string;
}

/** A Redis Cluster reached through any of its nodes (`redis+cluster://h1:6379,h2:6379`); always database 0. */
export interface ClusterTarget extends Auth {
  kind: 'cluster';
  nodes: RedisNode[];
  /** As for Sentinel: replicas of the slot's master that must hold a new task before enqueue answers. */
  waitReplicas: number;
  tls: boolean;
  db: 0;
  display: string;
  url: string;
}

export type RedisTarget = SingleTarget | SentinelTarget | ClusterTarget;

const SCHEMES = 'redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://';
const DEFAULT_PORT = { single: 6379, sentinel: 26379, cluster: 6379 } as const;
/** Redis refuses SELECT above its `databases` setting (16 unless changed); the server is asked at connect. */

const MAX_DB = 1_000_000;

/**
 * Parses a Redis URL. `variable` names where it came from, so the error says what to fix:
 *   redis://[user:pass@]host[:port][/db]      rediss://… (TLS)
 *   unix:///path/redis.sock[?db=N]            (also redis+unix://)
 *   redis+sentinel://[user:pass@]h1:26379,h2:26379/mymaster[?db=N&waitReplicas=N&sentinelPassword=…&sentinelUsername=…]
 *   redis+cluster://[user:pass@]h1:6379,h2:6379[?waitReplicas=N]   (rediss+sentinel:// and rediss+cluster:// for TLS)
 */
export function parseRedisUrl(url: string, variable = 'REDIS_URL'): RedisTarget {
  const fail = (why: string): never => {
    throw new ConfigError(`${variable} ${why}.`);
  };
  url = url.trim();
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (!match) return fail(`is not a Redis URL (expected ${SCHEMES}, for example redis://127.0.0.1:6379/0)`);
  const [, rawScheme, userinfo, hostPart = '', pathPart = '', queryPart] = match;
  const scheme = rawScheme!.toLowerCase();
  const shown = displayUrl(url, userinfo);
  const query = new URLSearchParams(queryPart ?? '');
  const auth = parseUserinfo(userinfo, fail);
  const tls = scheme.startsWith('rediss');

  const allowed = scheme.includes('sentinel') ? ['db', 'waitReplicas', 'sentinelPassword', 'sentinelUsername'] : scheme.includes('cluster') ? ['db', 'waitReplicas'] : ['db'];
  for (const key of query.keys()) if (!allowed.includes(key)) fail(`has an unknown parameter "${key}" (${shown}); allowed here: ${allowed.join(', ')}`);

  switch (scheme) {
    case 'redis':
    case 'rediss': {
      const nodes = parseHosts(hostPart, DEFAULT_PORT.single, fail, { allowEmpty: true });
      if (nodes.length > 1) fail(`lists several hosts (${shown}): use redis+sentinel:// or redis+cluster:// for more than one server`);
      const db = parseDb(pathPart.length > 1 ? pathPart.slice(1) : undefined, query.get('db'), fail);
      const node = nodes[0] ?? { host: '127.0.0.1', port: DEFAULT_PORT.single };
      return { kind: 'single', ...auth, host: node.host, port: node.port, tls, db, display: shown, url };
    }
    case 'unix':
    case 'redis+unix': {
      if (hostPart && hostPart !== 'localhost') fail(`names a host in a unix socket URL (${shown}): write unix:///path/to/redis.sock`);
      if (pathPart.length < 2) fail(`has no socket path (${shown}): write unix:///path/to/redis.sock`);
      return { kind: 'single', ...auth, path: decodeURIComponent(pathPart), tls: false, db: parseDb(undefined, query.get('db'), fail), display: shown, url };
    }
    case 'redis+sentinel':
    case 'rediss+sentinel': {
      const sentinels = parseHosts(hostPart, DEFAULT_PORT.sentinel, fail);
      const segments = pathPart.split('/').filter(Boolean);
      if (segments.length !== 1) fail(`must name the master group after the sentinels (${shown}), as in redis+sentinel://h1:26379,h2:26379/mymaster`);
      const sentinelUsername = query.get('sentinelUsername') ?? undefined;
      const sentinelPassword = query.get('sentinelPassword') ?? undefined;
      const waitReplicas = parseWaitReplicas(query.get('waitReplicas'), fail);
      return {
        kind: 'sentinel',
        ...auth,
        sentinels,
        name: decodeURIComponent(segments[0]!),
        ...(sentinelUsername ? { sentinelUsername } : {}),
        ...(sentinelPassword ? { sentinelPassword } : {}),
        waitReplicas,
        tls,
        db: parseDb(undefined, query.get('db'), fail),
        display: shown,
        url,
      };
    }
    case 'redis+cluster':
    case 'rediss+cluster': {
      const nodes = parseHosts(hostPart, DEFAULT_PORT.cluster, fail);
      if ((pathPart && pathPart !== '/') || query.has('db'))
        fail(`names a database (${shown}), but Redis Cluster has only database 0: remove "${pathPart.length > 1 ? pathPart : `?db=${query.get('db')}`}"`);
      return { kind: 'cluster', ...auth, nodes, waitReplicas: parseWaitReplicas(query.get('waitReplicas'), fail), tls, db: 0, display: shown, url };
    }
    default:
      return fail(`has the unsupported scheme "${scheme}://" (use ${SCHEMES})`);
  }
}

/** The URL with its password (and a sentinelPassword) masked. */
export function describeRedisTarget(target: RedisTarget | string): string {
  if (typeof target !== 'string') return target.display;
  try {
    return parseRedisUrl(target).display;
  } catch {
    return target.replace(/:[^:@/]*@/, ':***@');
  }
}

function displayUrl(url: string, userinfo: string | undefined): string {
  let shown = url;
  if (userinfo?.includes(':')) shown = shown.replace(`${userinfo}@`, `${userinfo.slice(0, userinfo.indexOf(':'))}:***@`);
  return shown.replace(/([?&]sentinelPassword=)[^&#]*/, '$1***');
}

function parseUserinfo(userinfo: string | undefined, fail: (why: string) => never): Auth {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return fail('has a badly escaped user name or password (escape "%" as %25)');
    }
  };
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1));
  // redis://secret@host is how many tools write a password alone (Redis before ACLs had no users).
  if (colon < 0) return username ? { password: username } : {};
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseHosts(part: string, defaultPort: number, fail: (why: string) => never, options: { allowEmpty?: boolean } = {}): RedisNode[] {
  if (!part) return options.allowEmpty ? [] : fail('names no host');
  return part.split(',').map((entry) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d*))?$/.exec(entry.trim());
    if (!m) return fail(`has a malformed host "${entry}"`);
    const port = m[3] ? Number(m[3]) : defaultPort;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`has the port "${m[3]}" for ${m[1] ?? m[2]}, which is not 1-65535`);
    return { host: (m[1] ?? m[2])!, port };
  });
}

function parseWaitReplicas(raw: string | null, fail: (why: string) => never): number {
  if (raw === null) return 0;
  if (!/^\d{1,2}$/.test(raw)) fail(`has waitReplicas "${raw}", which is not a number of replicas (0-99)`);
  return Number(raw);
}

function parseDb(fromPath: string | undefined, fromQuery: string | null, fail: (why: string) => never): number {
  if (fromPath !== undefined && fromQuery !== null) fail(`names the database twice ("/${fromPath}" and "?db=${fromQuery}"): keep one`);
  const raw = fromPath ?? fromQuery;
  if (raw === undefined || raw === null) return 0;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_DB) return fail(`names the database "${raw}", which is not a database number (0, 1, 2 …)`);
  return Number(raw);
}
