// The admin's signing secret (signs cookies, keys CSRF tokens), shared by every web process through
// the database, so a log-in or a CSRF token from web A is good on web B without copying a file.
// SELER_SECRET overrides it. A rotation adds a generation: the new secret signs once every process has
// read it; the previous one still verifies for a grace period, so nobody is logged out by it.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../platform/db/index.js';
import { ConfigError } from '../platform/errors.js';

/** The file earlier versions generated into the data directory; imported once as the first generation. */
export const SECRET_FILE = 'secret';
const MIN_LENGTH = 32;
/** How often a web process reads the secrets again (a rotation elsewhere reaches it within this). */
export const SECRET_REFRESH_MS = 30_000;
/** A new secret signs only this long after it is written: every process has read it by then. */
export const SECRET_ACTIVATION_DELAY_MS = 2 * SECRET_REFRESH_MS;

/** What signs now and everything that still verifies (the signing one first). Read live: it changes on rotation. */
export interface SecretRing {
  readonly signing: string;
  readonly verifying: readonly string[];
  readonly source: 'environment' | 'database';
  /** Stops the periodic refresh. */
  close(): void;
}

/** A ring that never changes (SELER_SECRET, tests). */
export function fixedSecret(secret: string): SecretRing {
  return { signing: secret, verifying: [secret], source: 'environment', close() {} };
}

interface Row {
  generation: number;
  secret: string;
  activates: number;
  retires: number | null;
}

async function readRows(db: Db): Promise<Row[]> {
  const rows = await db.db.selectFrom('seler_secret').selectAll().orderBy('generation', 'desc').execute();
  return rows.map((r) => ({ generation: Number(r.generation), secret: r.secret, activates: Number(r.activates), retires: r.retires === null ? null : Number(r.retires) }));
}

/** The signing secret is the newest active generation; older ones verify until they retire. */
function ringFrom(rows: Row[], now: number): { signing: string; verifying: string[] } {
  const active = rows.filter((r) => r.activates <= now);
  const signing = (active[0] ?? rows.at(-1)!).secret;
  const verifying = [signing, ...rows.filter((r) => r.secret !== signing && (r.retires === null || r.retires > now)).map((r) => r.secret)];
  return { signing, verifying };
}

/**
 * SELER_SECRET when set; otherwise the database's secrets, creating the first generation when there
 * is none (from the data directory's old secret file when there is one, so sessions survive the upgrade).
 */
export async function loadSecrets(options: { secret?: string; db: Db; dataDir: string; now?: () => number; refreshMs?: number }): Promise<SecretRing> {
  if (options.secret) return fixedSecret(options.secret);
  const now = options.now ?? Date.now;
  let rows = await readRows(options.db);
  if (!rows.length) {
    // Two processes starting at once both try generation 1; the database keeps one, both read it.
    await options.db.db
      .insertInto('seler_secret')
      .values({ generation: 1, secret: legacyFileSecret(options.dataDir) ?? newSecret(), activates: 0, retires: null })
      .onConflict((oc) => oc.column('generation').doNothing())
      .execute();
    rows = await readRows(options.db);
  }
  let current = ringFrom(rows, now());
  const timer = setInterval(() => {
    readRows(options.db).then(
      (fresh) => fresh.length && (current = ringFrom(fresh, now())),
      () => {}, // a database blip keeps the secrets it had
    );
  }, options.refreshMs ?? SECRET_REFRESH_MS);
  timer.unref();
  return {
    get signing() {
      return current.signing;
    },
    get verifying() {
      return current.verifying;
    },
    source: 'database',
    close: () => clearInterval(timer),
  };
}

/**
 * Adds a new generation: it signs from `now + activationDelayMs`; the one signing until then keeps
 * verifying for `graceMs` after that (cookies and CSRF tokens it signed stay good).
 */
export async function rotateSecret(db: Db, options: { graceMs: number; activationDelayMs?: number; now?: number }): Promise<{ generation: number; activates: Date; previousRetires: Date }> {
  const now = options.now ?? Date.now();
  const activates = now + (options.activationDelayMs ?? SECRET_ACTIVATION_DELAY_MS);
  const retires = activates + options.graceMs;
  return db.db.transaction().execute(async (trx) => {
    const newest = await trx.selectFrom('seler_secret').select('generation').orderBy('generation', 'desc').limit(1).executeTakeFirst();
    const generation = Number(newest?.generation ?? 0) + 1;
    // Every generation still without an end retires with the grace period (a second rotation in a row keeps none for ever).
    await trx.updateTable('seler_secret').set({ retires }).where('retires', 'is', null).execute();
    await trx.insertInto('seler_secret').values({ generation, secret: newSecret(), activates, retires: null }).execute();
    // Generations whose grace ended verify nothing: remove them.
    await trx.deleteFrom('seler_secret').where('retires', '<', now).execute();
    return { generation, activates: new Date(activates), previousRetires: new Date(retires) };
  });
}

function newSecret(): string {
  return randomBytes(48).toString('base64url');
}

function legacyFileSecret(dataDir: string): string | undefined {
  const file = path.join(dataDir, SECRET_FILE);
  if (!existsSync(file)) return undefined;
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_LENGTH)
    throw new ConfigError(`${file} holds a secret shorter than ${MIN_LENGTH} characters: delete it to generate a new one, or set SELER_SECRET.`);
  return secret;
}

/** A key for one purpose, so the cookie signature and the CSRF tokens never share a key. */
export function deriveKey(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(`seler.${purpose}`).digest('base64url');
}
