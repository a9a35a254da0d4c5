// The per-client budget of anonymous uploads: requests per window and file bytes per hour, counted in
// Redis so every web process shares it. Requests are counted when one starts, before its body is
// read; bytes are reserved in slices while the files stream in, so parallel uploads of one client
// can never store more than the budget together (a slice is only granted when it fits). Bytes a
// client sent count even when its upload was then refused (else failing on purpose would be free).
import { isIPv6 } from 'node:net';
import type { Logger } from '../platform/logger.js';
import { isRedisUnavailableError, type Keyspace, type Redis } from '../platform/redis.js';
import { tooManyRequests } from '../platform/errors.js';
import type { Meter } from './storage.js';

export interface UploadBudgetSettings {
  /** Uploads (requests) per window; undefined: unlimited. */
  requests?: { count: number; periodMs: number };
  /** File bytes per window; undefined: unlimited. */
  bytes?: { count: number; periodMs: number };
}

/**
 * KEYS[1] the client's request counter, KEYS[2] its byte counter.
 * ARGV[1] requests allowed (0: no limit), ARGV[2] request window ms, ARGV[3] bytes allowed (0: no
 * limit), ARGV[4] byte window ms, ARGV[5] bytes the request announces (Content-Length, or 0).
 * Counts the request and reserves the announced bytes, all or nothing. Returns {0, reserved} when
 * admitted, {1, ms} when over the request limit, {2, ms} when the announced bytes do not fit in what
 * is left (or nothing is left); ms is the time until that window ends.
 */
const ADMIT = `
local function left(key, window)
  local t = redis.call('PTTL', key)
  if t < 0 then return tonumber(window) end
  return t
end
if tonumber(ARGV[1]) > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  if n > tonumber(ARGV[1]) then return {1, left(KEYS[1], ARGV[2])} end
end
local announced = tonumber(ARGV[5])
if tonumber(ARGV[3]) > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used + math.max(1, announced) > tonumber(ARGV[3]) then return {2, left(KEYS[2], ARGV[4])} end
  if announced > 0 then
    redis.call('INCRBY', KEYS[2], announced)
    if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
    return {0, announced}
  end
end
return {0, 0}`;

/**
 * KEYS[1] the client's byte counter. ARGV[1] bytes needed now, ARGV[2] the most to reserve ahead (a
 * slice), ARGV[3] bytes allowed, ARGV[4] window ms.
 * When at least the needed bytes fit, grants them plus credit ahead, at most a slice and at most a
 * sixteenth of the room left, so parallel uploads near the end of the budget do not starve each other
 * with unused reservations. Returns {granted, 0}; else {-1, ms until the window ends}.
 */
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local room = tonumber(ARGV[3]) - used
local need = tonumber(ARGV[1])
if room < need then
  local t = redis.call('PTTL', KEYS[1])
  if t < 0 then t = tonumber(ARGV[4]) end
  return {-1, t}
end
local grant = math.max(need, math.min(tonumber(ARGV[2]), math.floor(room / 16)))
redis.call('INCRBY', KEYS[1], grant)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return {grant, 0}`;

/** KEYS[1] the byte counter; ARGV[1] bytes reserved but not used. Gives them back (never below 0, never to an expired window). */
const REFUND = `
local used = tonumber(redis.call('GET', KEYS[1]) or false)
if not used then return 0 end
local back = math.min(used, tonumber(ARGV[1]))
if back > 0 then redis.call('DECRBY', KEYS[1], back) end
return back`;

const SLICE = 1024 * 1024;

/**
 * Who a budget belongs to: the client's address (from X-Forwarded-For only when SELER_TRUST_PROXY
 * says so), IPv4-mapped IPv6 as IPv4, and IPv6 by its /64, since one host holds a whole /64.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const address = ip.split('%')[0]!;
  if (!isIPv6(address)) return address;
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = (tail ? tail.split(':') : []).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

const minutes = (ms: number) => (ms >= 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

export class UploadBudget {
  private warned = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    readonly settings: UploadBudgetSettings,
    private readonly logger?: Logger,
  ) {}

  private requestKey = (client: string) => this.keys.key('upload', 'requests', client);
  private bytesKey = (client: string) => this.keys.key('upload', 'bytes', client);

  /**
   * Redis unreachable: the upload could not be queued anyway, so it is refused (503) before its body
   * is stored. Any other Redis error (a script refused by a managed Redis, say) must not stop uploads:
   * let it through and say so once.
   */
  private failOpen(err: unknown): void {
    if (isRedisUnavailableError(err)) throw err;
    if (this.warned) return;
    this.warned = true;
    this.logger?.warn({ err }, 'the upload budget could not be checked in Redis; uploads are let through meanwhile');
  }

  private refusal(which: 'requests' | 'bytes', ms: number) {
    if (which === 'requests') {
      const r = this.settings.requests!;
      return tooManyRequests('upload_rate_limited', `Too many uploads: at most ${r.count} per ${minutes(r.periodMs)}. Try again in ${Math.ceil(ms / 1000)} s.`, ms / 1000);
    }
    const b = this.settings.bytes!;
    return tooManyRequests(
      'upload_budget_exceeded',
      `Upload budget used up: at most ${Math.round(b.count / 1024 / 1024)} MB of images per ${minutes(b.periodMs)}. Try again in ${Math.ceil(ms / 1000)} s.`,
      ms / 1000,
    );
  }

  /**
   * Counts one upload request of `client` and reserves the bytes it announces (its Content-Length),
   * so parallel requests are served first come, first served instead of all failing half-way; refuses
   * it (429) when over the rate or when they do not fit. Resolves with the bytes reserved, to hand to `meter`.
   */
  async admit(client: string, announcedBytes = 0): Promise<number> {
    const { requests, bytes } = this.settings;
    if (!requests && !bytes) return 0;
    let result: [number, number];
    try {
      result = (await this.redis.eval(
        ADMIT,
        2,
        this.requestKey(client),
        this.bytesKey(client),
        requests?.count ?? 0,
        requests?.periodMs ?? 0,
        bytes?.count ?? 0,
        bytes?.periodMs ?? 0,
        bytes ? Math.max(0, Math.floor(announcedBytes)) : 0,
      )) as [number, number];
    } catch (err) {
      this.failOpen(err);
      return 0;
    }
    if (result[0] === 1) throw this.refusal('requests', result[1]);
    if (result[0] === 2) throw this.refusal('bytes', result[1]);
    return result[1];
  }

  /**
   * A meter for one request's files: each chunk is paid from the credit `admit` reserved, then from
   * credit reserved a slice at a time (a body longer than announced, or chunked without a length);
   * the chunk that does not fit ends the upload with a 429. `settle()` returns the unused credit.
   */
  meter(client: string, reserved = 0): { meter: Meter | undefined; settle(): Promise<void> } {
    const bytes = this.settings.bytes;
    if (!bytes) return { meter: undefined, settle: async () => {} };
    const key = this.bytesKey(client);
    let credit = reserved;
    let open = true;
    const meter: Meter = async (n) => {
      if (n <= credit) {
        credit -= n;
        return;
      }
      const need = n - credit;
      let result: [number, number];
      try {
        result = (await this.redis.eval(RESERVE, 1, key, need, SLICE, bytes.count, bytes.periodMs)) as [number, number];
      } catch (err) {
        this.failOpen(err);
        credit = 0;
        return;
      }
      if (result[0] < 0) throw this.refusal('bytes', result[1]);
      credit = credit + result[0] - n;
    };
    return {
      meter,
      settle: async () => {
        if (!open) return;
        open = false;
        const unused = credit;
        credit = 0;
        if (unused > 0) await this.redis.eval(REFUND, 1, key, unused).catch((err) => {
            if (!isRedisUnavailableError(err)) this.failOpen(err);
          });
      },
    };
  }
}
