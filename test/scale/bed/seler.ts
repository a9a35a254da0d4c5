// seler's roles as real processes on bed hosts: `node bin/seler.js web|worker|beat` (the built
// dist, as deployed), with the host's own data directory and the bed's Redis and PostgreSQL.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host, HostProcess } from './host.js';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin', 'seler.js');
export const scaleConfig = path.join(repoRoot, 'test', 'scale', 'fixtures', 'scale.config.json');

/** `start` is the one-host embedded default (web + worker + beat in one process). */
export type Role = 'web' | 'worker' | 'beat' | 'start';

export interface SelerOptions {
  /** REDIS_URL, DATABASE_URL, SELER_LOCK_DURATION, … (the host's data dir, name and address are set here). */
  env: Record<string, string>;
  args?: string[];
  /** The process's name on the host (default: the role). */
  name?: string;
}

export interface SelerProcess extends HostProcess {
  role: Role;
  /** http://<host address>:8000 for a web (or start) role. */
  url?: string;
}

const READY: Record<'worker' | 'beat', RegExp> = { worker: /"msg":"worker ready"/, beat: /"msg":"beat started"/ };

export async function startSeler(host: Host, role: Role, options: SelerOptions): Promise<SelerProcess> {
  const env = {
    SELER_DATA_DIR: host.dir,
    SELER_HOSTNAME: host.name,
    SELER_CONFIG: scaleConfig,
    HOST: host.address,
    PORT: '8000',
    SELER_LOG_LEVEL: 'info',
    ...options.env,
  };
  const proc = host.spawn(options.name ?? role, [process.execPath, bin, role, ...(options.args ?? [])], { env }) as SelerProcess;
  proc.role = role;
  if (role === 'web' || role === 'start') {
    proc.url = `http://${host.address}:8000`;
    await waitReady(host, proc);
  } else {
    await proc.waitForLog(READY[role], 90_000);
  }
  return proc;
}

/** A web host is up when its /readyz answers 200 (asked from inside its own namespace). */
async function waitReady(host: Host, proc: SelerProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await host.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `${proc.url}/readyz`]).catch(() => undefined);
    if (r?.stdout === '200') return;
    if (!proc.alive) throw new Error(`web on ${host} exited:\n${proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`web on ${host} not ready within 90 s:\n${proc.tail()}`);
    await sleep(300);
  }
}
