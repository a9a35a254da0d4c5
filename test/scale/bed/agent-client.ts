// Speaks to an agent (agent.ts) running in a host's namespace.
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Host, HostProcess } from './host.js';
import { repoRoot } from './seler.js';
import type { HttpResult, LoadRequest, LoadResult, SettleResult } from './agent.js';

const agentFile = path.join(import.meta.dirname, 'agent.ts');

export class Agent {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';

  private constructor(
    readonly host: Host,
    readonly process: HostProcess,
    private readonly ready: Promise<void>,
  ) {}

  /** Starts an agent on `host` and connects it to Redis with these seler variables (REDIS_URL, …). */
  static async start(host: Host, env: Record<string, string>): Promise<Agent> {
    const proc = host.spawn('agent', [process.execPath, '--import', 'tsx', agentFile], { pipe: true, env: { SELER_DATA_DIR: host.dir }, cwd: repoRoot });
    let markReady!: () => void;
    const agent = new Agent(host, proc, new Promise<void>((r) => (markReady = r)));
    proc.child.stderr!.on('data', (d) => (agent.stderr = (agent.stderr + d).slice(-4000)));
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      let msg: { id: number; ok: boolean; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.id === 0) return markReady();
      const w = agent.waiting.get(msg.id);
      agent.waiting.delete(msg.id);
      if (msg.ok) w?.resolve(msg.result);
      else w?.reject(new Error(`agent on ${host.name}: ${msg.error}`));
    });
    void proc.exited.then((exit) => {
      for (const w of agent.waiting.values()) w.reject(new Error(`the agent on ${host.name} exited (${JSON.stringify(exit)}): ${agent.stderr}`));
      agent.waiting.clear();
    });
    await Promise.race([agent.ready, proc.exited.then(() => Promise.reject(new Error(`the agent on ${host.name} did not start: ${agent.stderr}`)))]);
    await agent.call('open', { env: { SELER_DATA_DIR: host.dir, SELER_LOG_LEVEL: 'silent', ...env } });
    return agent;
  }

  call<T>(op: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.child.stdin!.write(`${JSON.stringify({ id, op, params })}\n`);
    });
  }

  load(req: LoadRequest): Promise<LoadResult> {
    return this.call('load', req);
  }

  settle(ids: string[], timeoutMs = 60_000): Promise<SettleResult> {
    return this.call('settle', { ids, timeoutMs });
  }

  http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResult> {
    return this.call('http', { url, ...init });
  }

  redis<T = unknown>(...args: (string | number)[]): Promise<T> {
    return this.call('redis', { args });
  }

  async close(): Promise<void> {
    if (!this.process.alive) return;
    await this.call('close').catch(() => {});
    this.process.child.stdin!.end();
    await this.process.kill('SIGTERM', 5000);
  }
}
