// The per-client budget of anonymous uploads: requests per window and file bytes per hour, counted in
// Redis so every web process shares it. Requests are counted when one starts, before its body is
// read; bytes are reserved in slices while the files stream in, so parallel uploads of one client
// can never store more than the budget together (a slice is only granted when it fits). Bytes a
// client sent count even when its upload was then refused (else failing on purpose would be free).
import { isIPv6 } from 'node:net';
import type { Logger } from '../platform/logger.js';
import { isRedisUnavailableError, type Keyspace, type Redis } from '../platform/redis.js';
import { thumbnailError } from './errors.js';
import { luaScript } from '../platform/lua.js';
import type { Meter } from './storage.js';

export interface UploadBudgetSettings {
  /** Uploads (requests) per window; undefined: unlimited. */
  requests?: { count: number; periodMs: number };
  /** File bytes per window; undefined: unlimited. */
  bytes?: { count: number; periodMs: number };
}

const ADMIT = luaScript(import.meta.url, './lua/admit-upload-2.lua');
const RESERVE = luaScript(import.meta.url, './lua/reserve-upload-bytes-1.lua');
const REFUND = luaScript(import.meta.url, './lua/refund-upload-bytes-1.lua');

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
      return thumbnailError.upload_rate_limited(r.count, minutes(r.periodMs), ms / 1000);
    }
    const b = this.settings.bytes!;
    return thumbnailError.upload_budget_exceeded(Math.round(b.count / 1024 / 1024), minutes(b.periodMs), ms / 1000);
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
      result = await ADMIT.run<[number, number]>(
        this.redis,
        [this.requestKey(client), this.bytesKey(client)],
        [requests?.count ?? 0, requests?.periodMs ?? 0, bytes?.count ?? 0, bytes?.periodMs ?? 0, bytes ? Math.max(0, Math.floor(announcedBytes)) : 0],
      );
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
        result = await RESERVE.run<[number, number]>(this.redis, [key], [need, SLICE, bytes.count, bytes.periodMs]);
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
        if (unused > 0) await REFUND.run(this.redis, [key], [unused]).catch((err) => {
            if (!isRedisUnavailableError(err)) this.failOpen(err);
          });
      },
    };
  }
}
