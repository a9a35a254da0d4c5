// The bed's client, run inside a host's namespace (`node --import tsx agent.ts`): the test process
// cannot reach the bed's addresses, so it asks this process, one JSON line per request on stdin and
// one per reply on stdout ({id, ok, result | error}). It enqueues with seler's own TaskClient (so every
// REDIS_URL form behaves as in the product), reads tasks back, and makes HTTP requests to web hosts.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRuntime, type Runtime } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/platform/logger.js';

export interface LoadRequest {
  task: string;
  args?: unknown[];
  /** Task ids are `<idPrefix>-<n>`. */
  idPrefix: string;
  /** Stop after this many acknowledged enqueues … */
  count?: number;
  /** … or after this long. */
  durationMs?: number;
  /** Enqueue loops running side by side. */
  concurrency?: number;
  /** At most this many enqueues a second (all loops together); default: as fast as they go. */
  ratePerSecond?: number;
}

export interface LoadResult {
  acked: string[];
  /** Enqueues that failed (not acknowledged: the caller was told, so none of them counts as lost). */
  refused: number;
  errors: Record<string, number>;
  /** The longest time without an acknowledged enqueue, while the load ran. */
  longestAckGapMs: number;
  elapsedMs: number;
}

export interface SettleResult {
  states: Record<string, number>;
  /** Acknowledged ids Redis does not know (lost). */
  missing: string[];
  /** Ids still not finished at the deadline. */
  unfinished: string[];
  /** Why the tasks that ended FAILURE failed (message → count). */
  failures: Record<string, number>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  setCookie: string[];
  body: string;
}

let runtime: Runtime | undefined;

const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

async function load(req: LoadRequest): Promise<LoadResult> {
  const client = need().client;
  const acked: string[] = [];
  const errors: Record<string, number> = {};
  let refused = 0;
  let seq = 0;
  const started = Date.now();
  let lastAck = started;
  let longestAckGapMs = 0;
  const done = () => (req.count !== undefined && seq >= req.count) || (req.durationMs !== undefined && Date.now() - started >= req.durationMs);
  const loop = async () => {
    while (!done()) {
      const n = seq++;
      const id = `${req.idPrefix}-${n}`;
      if (req.ratePerSecond) {
        const wait = started + (n / req.ratePerSecond) * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
      }
      try {
        await client.enqueue(req.task, { args: req.args ?? [], taskId: id });
        const now = Date.now();
        longestAckGapMs = Math.max(longestAckGapMs, now - lastAck);
        lastAck = now;
        acked.push(id);
      } catch (err) {
        refused++;
        const key = ((err as Error).message ?? String(err)).slice(0, 120);
        errors[key] = (errors[key] ?? 0) + 1;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency ?? 8 }, loop));
  return { acked, refused, errors, longestAckGapMs: Math.max(longestAckGapMs, Date.now() - lastAck), elapsedMs: Date.now() - started };
}

async function settle(req: { ids: string[]; timeoutMs: number }): Promise<SettleResult> {
  const client = need().client;
  const final = new Map<string, string>();
  const missing = new Set<string>();
  const failures: Record<string, number> = {};
  const deadline = Date.now() + req.timeoutMs;
  for (;;) {
    const pending = req.ids.filter((id) => !final.has(id));
    missing.clear();
    for (let i = 0; i < pending.length; i += 200) {
      const batch = pending.slice(i, i + 200);
      const views = await Promise.all(batch.map((id) => client.getTask(id).catch(() => undefined)));
      views.forEach((view, j) => {
        if (view === null) missing.add(batch[j]!);
        else if (view && FINAL.has(view.status)) {
          final.set(batch[j]!, view.status);
          if (view.status === 'FAILURE') {
            const reason = (view.error?.message ?? 'no error recorded').slice(0, 160);
            failures[reason] = (failures[reason] ?? 0) + 1;
          }
        }
      });
    }
    const left = req.ids.filter((id) => !final.has(id));
    // An unknown id stays unknown: it is lost, not late.
    if (left.every((id) => missing.has(id)) || Date.now() > deadline) {
      const states: Record<string, number> = {};
      for (const s of final.values()) states[s] = (states[s] ?? 0) + 1;
      return { states, missing: [...missing], unfinished: left.filter((id) => !missing.has(id)), failures };
    }
    await sleep(500);
  }
}

async function http(req: { url: string; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }): Promise<HttpResult> {
  const res = await fetch(req.url, { method: req.method ?? 'GET', headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(req.timeoutMs ?? 15_000) });
  return { status: res.status, headers: Object.fromEntries(res.headers), setCookie: res.headers.getSetCookie(), body: await res.text() };
}

function need(): Runtime {
  if (!runtime) throw new Error('open first');
  return runtime;
}

const handlers: Record<string, (params: never) => Promise<unknown>> = {
  async open(params: { env: Record<string, string> }) {
    runtime = await openRuntime(loadConfig(params.env, process.cwd()), silentLogger);
    return { ok: true };
  },
  load,
  settle,
  http,
  async redis(params: { args: [string, ...(string | number)[]] }) {
    return need().redis.call(...params.args);
  },
  /** The shared connection's state and the role of the server it is on (for following a failover). */
  async status() {
    const redis = need().redis;
    const role = await Promise.race([redis.call('ROLE').then((r) => String((r as unknown[])[0]), (e: Error) => `error: ${e.message}`), sleep(2000).then(() => 'no answer in 2 s')]);
    return { status: redis.status, role, port: (redis as unknown as { stream?: { remotePort?: number } }).stream?.remotePort };
  },
  async upload(params: never) {
    return (await import('./agent-media.js')).upload(params);
  },
  async download(params: never) {
    return (await import('./agent-media.js')).download(params);
  },
  async makeBucket(params: never) {
    return (await import('./agent-media.js')).makeBucket(params);
  },
  async listObjects(params: never) {
    return (await import('./agent-media.js')).listObjects(params);
  },
  async close() {
    await runtime?.close();
    runtime = undefined;
    return { ok: true };
  },
};

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, op, params } = JSON.parse(line) as { id: number; op: string; params: unknown };
  const handler = handlers[op];
  const reply = (body: object) => process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
  if (!handler) return reply({ ok: false, error: `unknown op ${op}` });
  handler(params as never).then(
    (result) => reply({ ok: true, result }),
    (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
lines.on('close', () => {
  void runtime?.close().finally(() => process.exit(0));
  if (!runtime) process.exit(0);
});
process.stdout.write(`${JSON.stringify({ id: 0, ok: true, result: 'ready' })}\n`);
