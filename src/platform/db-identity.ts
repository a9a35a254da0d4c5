// Several hosts on SQLite is a mistake (each has its own file: users, schedules and sessions differ by
// host). Every process that uses the database announces which one in Redis (host, kind, identity);
// any disagreement among the live announcements is logged loudly and shown in /readyz.
import type { Db } from './db/index.js';
import { errorMessage } from './errors.js';
import { hostIdentity } from './host-identity.js';
import type { Logger } from './logger.js';
import type { Keyspace, Redis } from './redis.js';

export interface DatabaseAnnouncement {
  host: string;
  pid: number;
  kind: Db['dialect'];
  /** SQLite: host and file (a file is one host's); PostgreSQL: the server and database, without credentials. */
  identity: string;
  at: number;
}

export const ANNOUNCE_EVERY_MS = 30_000;
/** An announcement not renewed for this long is from a process that is gone. */
const STALE_AFTER_MS = 3 * ANNOUNCE_EVERY_MS;

export function databaseIdentity(db: Db, host: string): string {
  if (db.dialect === 'sqlite') return `sqlite:${host}:${db.description}`;
  const url = new URL(db.description);
  return `postgres://${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/** One sentence per disagreement among live announcements (empty when all agree). */
export function databaseConflicts(announcements: DatabaseAnnouncement[]): string[] {
  const identities = new Map<string, DatabaseAnnouncement[]>();
  for (const a of announcements) identities.set(a.identity, [...(identities.get(a.identity) ?? []), a]);
  if (identities.size <= 1) return [];
  const hosts = (list: DatabaseAnnouncement[]) => [...new Set(list.map((a) => a.host))].join(', ');
  const byHost = [...identities.values()].sort((x, y) => x[0]!.host.localeCompare(y[0]!.host));
  const describe = byHost.map((list) => {
    const first = list[0]!;
    return first.kind === 'sqlite' ? `${hosts(list)} on the SQLite file ${first.identity.slice(`sqlite:${first.host}:`.length)} of ${first.host}` : `${hosts(list)} on ${first.identity}`;
  });
  const sqlite = announcements.some((a) => a.kind === 'sqlite');
  return [
    `The processes sharing this Redis use ${identities.size} different databases (${describe.join('; ')}), so users, schedules and sessions differ between them` +
      (sqlite ? ': a SQLite file belongs to one host; for several hosts, point every one at one PostgreSQL with DATABASE_URL.' : ': give every host the same DATABASE_URL.'),
  ];
}

export interface DatabaseAnnouncer {
  /** Reads the live announcements now and says what disagrees. */
  conflicts(): Promise<string[]>;
  close(): Promise<void>;
}

export async function announceDatabase(options: { redis: Redis; keys: Keyspace; db: Db; logger: Logger; hostname?: string; everyMs?: number }): Promise<DatabaseAnnouncer> {
  const { redis, logger } = options;
  const key = options.keys.key('databases');
  const host = hostIdentity(options.hostname).hostname;
  const field = `${host}/${process.pid}`;
  const mine = (): DatabaseAnnouncement => ({ host, pid: process.pid, kind: options.db.dialect, identity: databaseIdentity(options.db, host), at: Date.now() });
  let reported = '';

  const read = async (): Promise<DatabaseAnnouncement[]> => {
    const all = await redis.hgetall(key);
    const live: DatabaseAnnouncement[] = [];
    const stale: string[] = [];
    for (const [f, json] of Object.entries(all)) {
      try {
        const a = JSON.parse(json) as DatabaseAnnouncement;
        if (Date.now() - a.at > STALE_AFTER_MS) stale.push(f);
        else live.push(a);
      } catch {
        stale.push(f);
      }
    }
    if (stale.length) await redis.hdel(key, ...stale);
    return live;
  };
  const conflicts = async () => databaseConflicts(await read());
  const announce = async () => {
    await redis.hset(key, field, JSON.stringify(mine()));
    const found = await conflicts();
    const text = found.join(' ');
    if (text && text !== reported) logger.error({ databases: found }, text);
    if (!text && reported) logger.info('every process sharing this Redis now uses the same database');
    reported = text;
  };

  await announce().catch((err) => logger.warn({ err: errorMessage(err) }, 'could not announce the database in Redis'));
  const timer = setInterval(() => void announce().catch(() => {}), options.everyMs ?? ANNOUNCE_EVERY_MS);
  timer.unref();
  return {
    conflicts,
    async close() {
      clearInterval(timer);
      await redis.hdel(key, field).catch(() => {});
    },
  };
}
