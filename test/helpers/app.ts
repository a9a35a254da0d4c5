// A whole seler (web + worker) in the test process, on the run's Redis under a unique prefix,
// with its own data directory and SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openRuntime, startWeb, startWorkerRole, type Runtime, type WebRole, type WorkerRoleOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { RunningWorker } from '../../src/tasks/index.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from './redis.js';

export interface TestApp {
  config: Config;
  runtime: Runtime;
  web?: WebRole;
  worker?: RunningWorker;
  baseUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestApp(
  options: { env?: Record<string, string>; web?: boolean; worker?: boolean | WorkerRoleOptions } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-app-'));
  const prefix = uniquePrefix('app');
  const config = loadConfig({ SELER_DATA_DIR: dataDir, REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: prefix, PORT: '0', ...options.env }, dataDir);
  const runtime = await openRuntime(config, silentLogger, { database: options.web !== false });
  const web = options.web === false ? undefined : await startWeb(runtime, { port: 0, host: '127.0.0.1' });
  const workerOptions = typeof options.worker === 'object' ? options.worker : {};
  // A `shutdown` control command closes this worker, not the test process.
  let worker: RunningWorker | undefined;
  if (options.worker !== false) worker = await startWorkerRole(runtime, { concurrency: 2, onShutdownRequested: () => void worker?.close(), ...workerOptions });
  return {
    config,
    runtime,
    web,
    worker,
    baseUrl: web?.url ?? '',
    dataDir,
    async close() {
      await web?.close();
      await worker?.close();
      await deleteKeys(runtime.redis, `{${prefix}}*`);
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the predicate holds (for tests only; the product waits on events). */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A JSON API caller that logs in with a bearer token per user name (`null`: anonymous). `base` is
 * prepended to every path; the body is parsed when there is one.
 */
export function bearerApi(app: () => TestApp, tokens: Record<string, string>, base = '') {
  return async (who: string | null, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (who) headers.authorization = `Bearer ${tokens[who]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${app().baseUrl}${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
  };
}
