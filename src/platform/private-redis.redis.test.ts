// The private redis-server under supervision, with real processes: SIGKILLed servers come back with
// their data, a crash loop is given up, one supervisor per data directory, and no terminal signal reaches it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/app.js';
import { isAlive, processGroup, redisServerPids } from '../../test/helpers/redis-processes.js';
import { ensurePrivateRedis, tryLockSupervisor, type PrivateRedis } from './private-redis.js';
import { connectRedis } from './redis.js';
import { hostIdentity, setHostname } from './host-identity.js';
import { loadConfig } from '../config.js';
import { resolveRedisTarget } from '../app.js';

const dirs: string[] = [];
const servers: PrivateRedis[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-sup-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A logger whose lines the test can read. */
function memoryLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines, messages: () => lines.map((l) => l.msg) };
}

async function start(dataDir: string, options: Parameters<typeof ensurePrivateRedis>[1] = {}): Promise<PrivateRedis> {
  const server = await ensurePrivateRedis(dataDir, options);
  servers.push(server);
  return server;
}

async function onlyServer(dataDir: string): Promise<number> {
  return waitFor(async () => {
    const pids = redisServerPids(dataDir);
    return pids.length === 1 ? pids[0] : undefined;
  }, 15_000, 20);
}

describe('the private redis-server', () => {
  it('lives in a process group of its own, so a Ctrl-C in the terminal does not reach it', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir);
    const pid = await onlyServer(dataDir);
    expect(processGroup(pid)).not.toBe(processGroup(process.pid));
    expect(server.owned).toBe(true);
    expect(server.state).toBe('running');
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'redis', 'redis.sock'))).toBe(false);
  });

  it('is restarted on the same socket with its append-only file after a SIGKILL, with one line per restart', async () => {
    const dataDir = tempDir();
    const log = memoryLogger();
    const server = await start(dataDir, { logger: log.logger });
    const redis = await connectRedis(server.url);
    try {
      await redis.set('kept', 'yes');
      const first = await onlyServer(dataDir);
      process.kill(first, 'SIGKILL');
      const second = await waitFor(async () => {
        const pids = redisServerPids(dataDir);
        return pids.length === 1 && pids[0] !== first ? pids[0] : undefined;
      }, 10_000, 20);
      expect(second).not.toBe(first);
      await waitFor(async () => server.state === 'running', 10_000, 20);
      // The same client reconnects by itself and finds the data written before the kill.
      expect(await waitFor(async () => (await redis.get('kept').catch(() => undefined)) ?? undefined, 10_000, 50)).toBe('yes');
      expect(log.messages().filter((m) => m.includes('stopped unexpectedly (killed by SIGKILL)'))).toHaveLength(1);
      expect(log.messages().filter((m) => m.includes('private redis-server restarted'))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
    await server.stop();
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 30_000);

  it('gives up after too many crashes within the window, says so once, and stays down', async () => {
    const dataDir = tempDir();
    const log = memoryLogger();
    const server = await start(dataDir, { logger: log.logger, maxRestarts: 2, restartWindowMs: 60_000 });
    let last = 0;
    for (let kill = 0; kill < 3; kill++) {
      const pid = await waitFor(async () => {
        const pids = redisServerPids(dataDir);
        return pids.length === 1 && pids[0] !== last && server.state === 'running' ? pids[0] : undefined;
      }, 10_000, 20);
      process.kill(pid, 'SIGKILL');
      last = pid;
    }
    await waitFor(async () => server.state === 'failed', 10_000, 20);
    await new Promise((r) => setTimeout(r, 1500));
    expect(redisServerPids(dataDir)).toEqual([]);
    expect(log.messages().filter((m) => m.includes('not restarting it again'))).toHaveLength(1);
    expect(log.messages().filter((m) => m.includes('stopped unexpectedly'))).toHaveLength(2);
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);

  it('stop() during a restart ends at once and leaves nothing running', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir);
    process.kill(await onlyServer(dataDir), 'SIGKILL');
    await waitFor(async () => server.state === 'restarting', 5000, 5);
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 800)); // past the restart's backoff
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 20_000);

  it('a hung server (SIGSTOP) is killed by stop() after its stop timeout', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir, { stopTimeoutMs: 500 });
    const pid = await onlyServer(dataDir);
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor(async () => !isAlive(pid), 3000, 20);
  }, 20_000);
});

describe('one supervisor per data directory', () => {
  it('a second user shares the server and does not restart it while its supervisor lives; it takes over when the supervisor is gone', async () => {
    const dataDir = tempDir();
    const ownerLog = memoryLogger();
    const sharerLog = memoryLogger();
    const owner = await start(dataDir, { logger: ownerLog.logger });
    const sharer = await start(dataDir, { logger: sharerLog.logger, takeoverCheckMs: 100 });
    expect(owner.owned).toBe(true);
    expect(sharer.owned).toBe(false);
    expect(sharer.url).toBe(owner.url);

    const first = await onlyServer(dataDir);
    process.kill(first, 'SIGKILL');
    await waitFor(async () => owner.state === 'running' && redisServerPids(dataDir)[0] !== first, 10_000, 20);
    // Watch for a while: never two servers on one append-only file.
    for (let i = 0; i < 20; i++) {
      expect(redisServerPids(dataDir).length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(redisServerPids(dataDir)).toHaveLength(1);
    expect(sharer.owned).toBe(false);
    expect(sharerLog.messages().join('\n')).not.toContain('starts it again');

    const redis = await connectRedis(owner.url);
    await redis.set('survives-the-handover', '1');
    redis.disconnect();
    await owner.stop(); // clean shutdown, lock released: the sharer takes over
    await waitFor(async () => sharer.owned && sharer.state === 'running', 10_000, 20);
    expect(redisServerPids(dataDir)).toHaveLength(1);
    expect(sharerLog.messages().filter((m) => m.includes('starts it again'))).toHaveLength(1);
    const again = await connectRedis(sharer.url);
    expect(await again.get('survives-the-handover')).toBe('1');
    again.disconnect();
    await sharer.stop();
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 30_000);

  it('processes starting at once on a fresh data directory start exactly one server', async () => {
    const dataDir = tempDir();
    const all = await Promise.all(Array.from({ length: 5 }, () => start(dataDir)));
    expect(all.filter((s) => s.owned)).toHaveLength(1);
    expect(new Set(all.map((s) => s.url)).size).toBe(1);
    expect(redisServerPids(dataDir)).toHaveLength(1);
    for (const s of all.filter((x) => !x.owned)) await s.stop();
    expect(redisServerPids(dataDir)).toHaveLength(1); // only the supervisor stops it
    await all.find((s) => s.owned)!.stop();
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 30_000);

  it('the pid-file lock (systems without abstract sockets) is exclusive and taken over from a dead process', async () => {
    const redisDir = tempDir();
    const lock = await tryLockSupervisor(redisDir, 'pidfile');
    expect(lock).toBeDefined();
    expect(await tryLockSupervisor(redisDir, 'pidfile')).toBeUndefined();
    lock!.release();
    // A pid file left by a process that is gone.
    let dead = 999_999;
    while (isAlive(dead)) dead--;
    writeFileSync(path.join(redisDir, 'supervisor.pid'), String(dead));
    const taken = await tryLockSupervisor(redisDir, 'pidfile');
    expect(taken).toBeDefined();
    taken!.release();
    expect(existsSync(path.join(redisDir, 'supervisor.pid'))).toBe(false);
  });
});

describe('the owner file: the private Redis belongs to one host', () => {
  const ownerFile = (dataDir: string) => path.join(dataDir, 'redis', 'owner.json');

  it('refuses with one sentence to start a second server on a directory another host owns', async () => {
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'redis'), { recursive: true });
    writeFileSync(ownerFile(dataDir), JSON.stringify({ hostname: 'web-b.example', bootId: 'c0ffee00-0000-4000-8000-000000000000', pid: 4242, since: '2026-12-01T08:00:00.000Z' }));
    await expect(ensurePrivateRedis(dataDir, { startTimeoutMs: 3000 })).rejects.toThrow(
      `The private Redis of ${dataDir} belongs to seler on host "web-b.example" (pid 4242, since 2026-12-01T08:00:00.000Z), so this host ("${hostIdentity().hostname}") will not start a second redis-server on the same files: point this host at that Redis with REDIS_URL (or give it its own SELER_DATA_DIR); if "web-b.example" is gone for good, delete ${ownerFile(dataDir)}.`,
    );
    expect(redisServerPids(dataDir)).toEqual([]);
    // The other host's claim is left as it was.
    expect(JSON.parse(readFileSync(ownerFile(dataDir), 'utf8'))).toMatchObject({ hostname: 'web-b.example', pid: 4242 });
  });

  it('takes over its own host\'s claim from an earlier boot, writes its own, and removes it on a clean stop', async () => {
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'redis'), { recursive: true });
    writeFileSync(ownerFile(dataDir), JSON.stringify({ hostname: hostIdentity().hostname, bootId: 'an-earlier-boot', pid: 999_999, since: '2026-01-01T00:00:00.000Z' }));
    const server = await start(dataDir);
    expect(server.owned).toBe(true);
    expect(JSON.parse(readFileSync(ownerFile(dataDir), 'utf8'))).toMatchObject({ hostname: hostIdentity().hostname, bootId: hostIdentity().bootId, pid: process.pid });
    expect(hostIdentity().bootId).toMatch(/^[0-9a-f-]{36}$/);
    await server.stop();
    expect(existsSync(ownerFile(dataDir))).toBe(false);
  });

  it('SELER_HOSTNAME names this host in the claim', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ SELER_DATA_DIR: dataDir, SELER_HOSTNAME: 'worker-7' }, dataDir);
    const { server } = await resolveRedisTarget(config);
    servers.push(server!);
    try {
      expect(JSON.parse(readFileSync(ownerFile(dataDir), 'utf8'))).toMatchObject({ hostname: 'worker-7' });
      setHostname('worker-8');
      await expect(ensurePrivateRedis(dataDir)).rejects.toThrow(/belongs to seler on host "worker-7" .* so this host \("worker-8"\) will not start/);
    } finally {
      setHostname(undefined);
      await server!.stop();
    }
    expect(() => loadConfig({ SELER_HOSTNAME: 'a b' }, dataDir)).toThrow(/^SELER_HOSTNAME may contain/);
  });
});
