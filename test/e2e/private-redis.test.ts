// The built `seler` on the embedded defaults, attacked the way a terminal and an operator would:
// Ctrl-C to the whole process group mid-task, kill -9 of the private redis-server (once, in a loop,
// with two seler processes on one data directory), a hung Redis, and SIGTERM while Redis is down.
// Runs dist/ (npm run build first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/thumbnails/test-images.js';
import { waitFor } from '../helpers/app.js';
import { freePort, repoRoot } from '../helpers/cli.js';
import { isAlive, processGroup, redisServerPids } from '../helpers/redis-processes.js';

const bin = path.join(repoRoot, 'bin', 'seler.js');
const MARGIN_MS = 5000; // SHUTDOWN_MARGIN_MS in src/cli.ts

const dirs: string[] = [];
const running: ChildProcess[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-pr-'));
  dirs.push(dir);
  return dir;
}
let jpeg: Buffer;
beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist', 'main.js'))) throw new Error('run "npm run build" first: these tests run the built seler');
  jpeg = await makeJpeg({ width: 64, height: 48 });
});
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Seler {
  child: ChildProcess;
  exited: Promise<{ code: number | null; at: number }>;
  logs(): string;
  lines(): { msg: string; time: string; level: string; [k: string]: unknown }[];
}

/** `node bin/seler.js …` in a process group of its own, as a shell runs a command in a terminal. */
function seler(args: string[], env: Record<string, string>): Seler {
  return inOwnGroup([bin, ...args], env);
}

/** `node <argv>` in a process group of its own, its output collected. */
function inOwnGroup(argv: string[], env: Record<string, string>): Seler {
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SELER_LOG_LEVEL: 'info', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  return {
    child,
    exited,
    logs: () => out,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; time: string; level: string }),
  };
}

/** A short-lived `seler` command (call, result) sharing the data directory's private Redis. */
function run(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`seler ${args.join(' ')} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function call(env: Record<string, string>, task: string, args: unknown[], extra: string[] = []): Promise<string> {
  const res = await run(['call', task, '--args', JSON.stringify(args), ...extra], env);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim();
}

async function result(env: Record<string, string>, id: string, waitSeconds = 40): Promise<{ status: string; result?: unknown }> {
  const res = await run(['result', id, '--wait', String(waitSeconds)], env, (waitSeconds + 20) * 1000);
  return JSON.parse(res.stdout) as { status: string; result?: unknown };
}

async function timed(url: string, init: RequestInit = {}): Promise<{ status: number; ms: number; body: { error?: { code: string } } & Record<string, unknown>; retryAfter: string | null }> {
  const started = Date.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { status: res.status, ms: Date.now() - started, body, retryAfter: res.headers.get('retry-after') };
}

function upload(base: string) {
  const form = new FormData();
  form.append('images', new Blob([jpeg], { type: 'image/jpeg' }), 'photo.jpg');
  return timed(`${base}/api/v1/thumbnails`, { method: 'POST', body: form });
}

async function ready(base: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok, timeoutMs, 100);
}

async function startSeler(env: Record<string, string>, args: string[] = ['start']) {
  const port = await freePort();
  const s = seler([...args, '--port', String(port)], { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await ready(base);
  return { ...s, base };
}

const onlyServer = (dataDir: string, not?: number) =>
  waitFor(async () => {
    const pids = redisServerPids(dataDir);
    return pids.length === 1 && pids[0] !== not ? pids[0] : undefined;
  }, 20_000, 20);

/** Lines that talk about a failing Redis connection: a bounded few, never one per retry. */
const connectionNoise = (s: Seler) => s.lines().filter((l) => l.level !== 'debug' && /ECONNREFUSED|ENOENT|connection|Connection|not answering/.test(JSON.stringify(l)));

describe('Ctrl-C', () => {
  it('during a running task: the roles stop first, the private Redis last and cleanly, within the timeout; accepted work survives a restart', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '2' };
    const first = await startSeler(env);
    const redisPid = await onlyServer(dataDir);
    expect(processGroup(redisPid)).not.toBe(first.child.pid); // not in the group the terminal signals

    const later = await call(env, 'demo.add', [2, 3], ['--countdown', '8']);
    const sleeper = await call(env, 'demo.sleep', [6]);
    await waitFor(async () => first.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);

    // Note when redis-server goes away, to compare with when the roles were down.
    let redisGoneAt = 0;
    const watch = setInterval(() => {
      if (!redisGoneAt && !isAlive(redisPid)) redisGoneAt = Date.now();
    }, 5);
    const interruptedAt = Date.now();
    process.kill(-first.child.pid!, 'SIGINT'); // what a terminal does on Ctrl-C
    const { code, at } = await first.exited;
    await waitFor(async () => redisGoneAt > 0, 5000, 10);
    clearInterval(watch);

    expect(code).toBe(0);
    expect(at - interruptedAt).toBeLessThan(2000 + MARGIN_MS);
    const workerStopped = first.lines().find((l) => l.msg === 'worker stopped');
    expect(workerStopped, first.logs()).toBeDefined();
    expect(redisGoneAt).toBeGreaterThanOrEqual(Date.parse(workerStopped!.time));
    expect(first.lines().some((l) => l.msg === 'stopped')).toBe(true); // every role and connection closed, Redis last
    // One signal, handled as SHUTDOWN: the AOF fsynced, the socket removed; redis-server never saw the SIGINT.
    const redisLog = readFileSync(path.join(dataDir, 'redis', 'redis.log'), 'utf8');
    expect(redisLog).toContain('Received SIGTERM scheduling shutdown');
    expect(redisLog).toContain('Calling fsync() on the AOF file');
    expect(redisLog).toContain('Removing the unix socket file');
    expect(redisLog).toContain('ready to exit, bye bye');
    expect(redisLog).not.toContain('SIGINT');
    expect(redisLog).not.toContain('You insist');
    expect(existsSync(path.join(dataDir, 'redis', 'redis.sock'))).toBe(false);
    expect(redisServerPids(dataDir)).toEqual([]);
    expect(first.logs()).not.toContain('ECONNREFUSED');

    // After a restart the append-only file is loaded: the handed-back task and the delayed one both run.
    const second = await startSeler(env);
    expect((await result(env, sleeper)).status).toBe('SUCCESS');
    expect(await result(env, later)).toMatchObject({ status: 'SUCCESS', result: 5 });
    process.kill(-second.child.pid!, 'SIGINT');
    expect((await second.exited).code).toBe(0);
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 120_000);

  it('a second Ctrl-C stops at once, and the private Redis still stops (cleanly) behind it', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '30' };
    const s = await startSeler(env);
    const redisPid = await onlyServer(dataDir);
    const sleeper = await call(env, 'demo.sleep', [20]);
    await waitFor(async () => s.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);
    const started = Date.now();
    process.kill(-s.child.pid!, 'SIGINT');
    await waitFor(async () => s.logs().includes('shutting down'), 5000, 10);
    process.kill(-s.child.pid!, 'SIGINT');
    const { code, at } = await s.exited;
    expect(code).toBe(1);
    expect(at - started).toBeLessThan(3000);
    await waitFor(async () => !isAlive(redisPid), 10_000, 20);
    expect(readFileSync(path.join(dataDir, 'redis', 'redis.log'), 'utf8')).toContain('ready to exit, bye bye');
  }, 60_000);
});

describe('seler killed with SIGKILL', () => {
  it('takes its private redis-server with it (cleanly, through the guard), and the next start finds the data', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir };
    const s = await startSeler(env);
    const redisPid = await onlyServer(dataDir);
    const later = await call(env, 'demo.add', [1, 2], ['--countdown', '4']);
    process.kill(-s.child.pid!, 'SIGKILL');
    await waitFor(async () => !isAlive(redisPid), 10_000, 20);
    expect(readFileSync(path.join(dataDir, 'redis', 'redis.log'), 'utf8')).toContain('ready to exit, bye bye');
    expect(existsSync(path.join(dataDir, 'redis', 'redis.sock'))).toBe(false);
    // No stale lock: the next seler becomes the supervisor at once.
    const again = await startSeler(env);
    expect(again.logs()).toContain('started a private redis-server');
    expect(await result(env, later)).toMatchObject({ status: 'SUCCESS', result: 3 });
    process.kill(-again.child.pid!, 'SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 90_000);
});

describe('a private redis-server killed with SIGKILL', () => {
  it('is restarted with its AOF; the worker and the event hub reconnect; work accepted before the kill completes', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '5' };
    const s = await startSeler(env);
    const sleeper = await call(env, 'demo.sleep', [3]);
    await waitFor(async () => s.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);
    const accepted = await upload(s.base);
    expect(accepted.status).toBe(202);

    const first = await onlyServer(dataDir);
    process.kill(first, 'SIGKILL');
    // Right after the kill: readiness answers at once (503 while down, 200 once back), never hangs.
    const readiness = await timed(`${s.base}/readyz`);
    expect([200, 503], JSON.stringify(readiness)).toContain(readiness.status);
    expect(readiness.ms, JSON.stringify(readiness)).toBeLessThan(2000); // a 750 ms PING, on a busy machine
    // An upload during the outage either waits for the restart (202) or gets a clear 503, quickly.
    const during = await upload(s.base);
    expect(during.ms, JSON.stringify(during)).toBeLessThan(6000);
    if (during.status !== 202) {
      expect(during.status).toBe(503);
      expect(during.body.error?.code).toBe('redis_unavailable');
      expect(Number(during.retryAfter)).toBeGreaterThan(0);
    }

    const second = await onlyServer(dataDir, first);
    expect(second).not.toBe(first);
    await ready(s.base, 10_000);
    expect(s.lines().filter((l) => l.msg.includes('stopped unexpectedly (killed by SIGKILL)'))).toHaveLength(1);
    // Said once the supervisor's own probe gets an answer, which may come after the app's connection is back.
    await waitFor(async () => s.lines().some((l) => l.msg.includes('private redis-server restarted')), 15_000, 50);
    expect(s.lines().filter((l) => l.msg.includes('private redis-server restarted'))).toHaveLength(1);

    expect((await result(env, sleeper)).status).toBe('SUCCESS');
    expect((await result(env, accepted.body.id as string)).status).toBe('SUCCESS');
    if (during.status === 202) expect((await result(env, during.body.id as string)).status).toBe('SUCCESS');
    const after = await upload(s.base);
    expect(after.status).toBe(202);
    expect((await result(env, after.body.id as string)).status).toBe('SUCCESS');
    expect(connectionNoise(s).length).toBeLessThanOrEqual(6);

    process.kill(-s.child.pid!, 'SIGTERM');
    expect((await s.exited).code).toBe(0);
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 120_000);

  it('killed again and again: seler gives up with one clear line; while down /readyz and Redis-backed requests answer 503 quickly; SIGTERM still stops within the timeout', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '3' };
    const s = await startSeler(env);
    const before = await upload(s.base);
    expect(before.status).toBe(202);
    const sleeper = await call(env, 'demo.sleep', [60]);
    await waitFor(async () => s.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);

    let last = 0;
    for (let kill = 0; kill < 6; kill++) {
      last = await onlyServer(dataDir, last);
      process.kill(last, 'SIGKILL');
    }
    await waitFor(async () => s.logs().includes('not restarting it again'), 30_000, 50);
    expect(s.lines().filter((l) => l.msg.includes('not restarting it again'))).toHaveLength(1);
    expect(redisServerPids(dataDir)).toEqual([]);

    const readiness = await timed(`${s.base}/readyz`);
    expect(readiness.status).toBe(503);
    expect(readiness.ms).toBeLessThan(1000);
    const uploadsDir = path.join(dataDir, 'media', 'uploads');
    const storedBefore = readdirSync(uploadsDir).length;
    const uploads = await Promise.all([upload(s.base), upload(s.base), upload(s.base)]);
    for (const u of uploads) {
      expect(u.status).toBe(503);
      expect(u.body.error?.code).toBe('redis_unavailable');
      expect(u.retryAfter).toMatch(/^\d+$/);
      expect(u.ms).toBeLessThan(4000);
    }
    expect(readdirSync(uploadsDir)).toHaveLength(storedBefore); // refused uploads leave no file
    const read = await timed(`${s.base}/api/v1/tasks/${before.body.id as string}`);
    expect(read.status).toBe(503);
    expect(read.body.error?.code).toBe('redis_unavailable');
    expect(read.ms).toBeLessThan(4000);
    expect(await timed(`${s.base}/healthz`)).toMatchObject({ status: 200 }); // alive, just not ready

    const stopAt = Date.now();
    process.kill(-s.child.pid!, 'SIGTERM');
    const { code, at } = await s.exited;
    expect(at - stopAt, s.logs().split('\n').slice(-12).join('\n')).toBeLessThan(3000 + MARGIN_MS);
    expect(code).toBe(0);
    // Six kills, and still only a handful of lines about the connection.
    expect(connectionNoise(s).length, connectionNoise(s).map((l) => l.msg).join('\n')).toBeLessThanOrEqual(12);
    expect(s.logs()).not.toMatch(/ECONNREFUSED[\s\S]*ECONNREFUSED[\s\S]*ECONNREFUSED/);
  }, 120_000);

  it('kill -9 of redis-server, then SIGTERM of seler at once (mid-restart): it exits within the timeout and leaves nothing behind', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '3' };
    const s = await startSeler(env);
    const sleeper = await call(env, 'demo.sleep', [60]);
    await waitFor(async () => s.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);
    process.kill(await onlyServer(dataDir), 'SIGKILL');
    const stopAt = Date.now();
    process.kill(-s.child.pid!, 'SIGTERM');
    const { code, at } = await s.exited;
    expect(at - stopAt).toBeLessThan(3000 + MARGIN_MS);
    expect(code).toBe(0);
    await waitFor(async () => redisServerPids(dataDir).length === 0, 5000, 20);
  }, 60_000);

  it('a hung redis-server (SIGSTOP): /readyz and uploads answer 503 quickly, SIGTERM stops seler within the timeout', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '3' };
    const s = await startSeler(env);
    const sleeper = await call(env, 'demo.sleep', [60]);
    await waitFor(async () => s.lines().some((l) => l.msg === 'task started' && l.taskId === sleeper), 20_000, 20);
    const pid = await onlyServer(dataDir);
    process.kill(pid, 'SIGSTOP');
    try {
      const readiness = await timed(`${s.base}/readyz`);
      expect(readiness.status).toBe(503);
      expect(readiness.ms).toBeLessThan(2000);
      const u = await upload(s.base);
      expect(u.status).toBe(503);
      expect(u.body.error?.code).toBe('redis_unavailable');
      expect(u.ms).toBeLessThan(5000);
      const stopAt = Date.now();
      process.kill(-s.child.pid!, 'SIGTERM');
      const { at } = await s.exited;
      expect(at - stopAt).toBeLessThan(3000 + MARGIN_MS);
      await waitFor(async () => !isAlive(pid), 10_000, 20);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGCONT');
    }
  }, 60_000);
});

describe('several seler processes on one data directory', () => {
  it('share the private Redis; after a kill -9 exactly one comes back; when its supervisor stops, the other takes over', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '3' };
    const web = await startSeler(env, ['web']);
    const worker = seler(['worker', '-c', '2'], env);
    await waitFor(async () => worker.logs().includes('worker ready'), 30_000, 50);
    expect(worker.logs()).not.toContain('started a private redis-server');
    const first = await onlyServer(dataDir);

    process.kill(first, 'SIGKILL');
    await onlyServer(dataDir, first);
    // Watch a while: never two servers on one append-only file.
    for (let i = 0; i < 40; i++) {
      expect(redisServerPids(dataDir).length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(redisServerPids(dataDir)).toHaveLength(1);
    // Said once the supervisor's own probe gets an answer, which on a busy machine may come after the watch above.
    await waitFor(async () => web.lines().some((l) => l.msg.includes('private redis-server restarted')), 15_000, 50);
    expect(web.lines().filter((l) => l.msg.includes('private redis-server restarted'))).toHaveLength(1);
    expect(worker.logs()).not.toContain('restarted');
    await ready(web.base, 10_000);
    const up = await upload(web.base);
    expect(up.status).toBe(202);
    expect((await result(env, up.body.id as string)).status).toBe('SUCCESS');

    // The web process (its supervisor) stops: the worker starts the server again and goes on working.
    const queued = await call(env, 'demo.add', [20, 22], ['--countdown', '3']);
    process.kill(-web.child.pid!, 'SIGTERM');
    expect((await web.exited).code).toBe(0);
    await waitFor(async () => worker.logs().includes('starts it again'), 15_000, 50);
    await onlyServer(dataDir);
    expect(await result(env, queued)).toMatchObject({ status: 'SUCCESS', result: 42 });
    expect(redisServerPids(dataDir)).toHaveLength(1);

    process.kill(-worker.child.pid!, 'SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(redisServerPids(dataDir)).toEqual([]);
  }, 120_000);

  it('Ctrl-C to `seler web` and `seler worker` in one terminal: the worker finishes its task although the web process (its Redis\'s supervisor) stops first', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const env = { SELER_DATA_DIR: dataDir, SELER_SHUTDOWN_TIMEOUT: '15', PORT: String(port) };
    // One process group holding both, as a shell runs `seler web & seler worker`; the launcher itself ignores SIGINT.
    const launcher = `
      const { spawn } = require('node:child_process');
      process.on('SIGINT', () => {});
      const web = spawn(process.execPath, [${JSON.stringify(bin)}, 'web'], { stdio: ['ignore', 'inherit', 'inherit'] });
      setTimeout(() => {
        const worker = spawn(process.execPath, [${JSON.stringify(bin)}, 'worker', '-c', '1'], { stdio: ['ignore', 'inherit', 'inherit'] });
        let left = 2;
        const done = (name) => (code) => { console.log(JSON.stringify({ msg: 'exited', name, code, time: new Date().toISOString(), level: 'info' })); if (--left === 0) process.exit(0); };
        web.on('exit', done('web'));
        worker.on('exit', done('worker'));
      }, 3000);`;
    const group = inOwnGroup(['-e', launcher], env);
    const { child } = group;
    const exited = group.exited.then((e) => e.code);
    await waitFor(async () => group.logs().includes('worker ready'), 40_000, 50);
    await ready(`http://127.0.0.1:${port}`);
    const sleeper = await call(env, 'demo.sleep', [4]);
    await waitFor(async () => group.logs().includes('"task started"') && group.logs().includes(sleeper), 20_000, 20);

    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(group.logs()).toMatch(/"name":"web","code":0/);
    expect(group.logs()).toMatch(/"name":"worker","code":0/);
    expect(group.logs()).not.toContain('handing back');
    expect(group.logs()).toContain('starts it again'); // the web process's Redis went first; the worker brought it back
    await waitFor(async () => redisServerPids(dataDir).length === 0, 10_000, 50);
    // The task finished in the warm shutdown (the worker took over the server), it was not handed back.
    const res = await run(['result', sleeper], env);
    expect(JSON.parse(res.stdout)).toMatchObject({ status: 'SUCCESS' });
  }, 120_000);

  it('started at the same moment on a fresh data directory, they run exactly one redis-server', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir };
    const workers = [0, 1, 2].map(() => seler(['worker', '-c', '1'], env));
    await waitFor(async () => workers.every((w) => w.logs().includes('worker ready')), 60_000, 50);
    expect(redisServerPids(dataDir)).toHaveLength(1);
    expect(workers.filter((w) => w.logs().includes('started a private redis-server'))).toHaveLength(1);
    for (const w of workers) process.kill(-w.child.pid!, 'SIGTERM');
    for (const w of workers) expect((await w.exited).code).toBe(0);
    await waitFor(async () => redisServerPids(dataDir).length === 0, 15_000, 50);
  }, 120_000);
});
