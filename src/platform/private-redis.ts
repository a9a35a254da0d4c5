// The embedded default: a redis-server of our own on a unix socket inside the data directory, with
// append-only persistence. It lives in its own process group (a Ctrl-C in the terminal reaches seler,
// which stops it last and cleanly), it is restarted when it dies on its own, and it still stops when
// seler is SIGKILLed. Several seler processes on one data directory share it; a lock makes exactly
// one of them its supervisor.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { connectRedis } from './redis.js';
import { assertNotOwnedElsewhere, claimOwnership, releaseOwnership } from './private-redis-owner.js';

export const REDIS_MISSING_HELP = [
  'No Redis is configured and no redis-server program was found on the PATH.',
  'seler needs Redis 6.2 or newer. Either install one (Debian/Ubuntu: "sudo apt-get install redis-server";',
  'macOS: "brew install redis"; Windows: Memurai or Redis under WSL) and run seler again, so that it can',
  'start a private Redis inside its data directory, or point seler at a Redis you already run with',
  'REDIS_URL, for example REDIS_URL=redis://127.0.0.1:6379/0.',
].join('\n');

/**
 * running: this process supervises a live server; restarting: it died and is being started again;
 * failed: it died too often, nobody restarts it; shared: another seler process supervises it;
 * stopped: stop() was called.
 */
export type PrivateRedisState = 'running' | 'restarting' | 'failed' | 'shared' | 'stopped';

export interface PrivateRedis {
  url: string;
  /** True while this process supervises the server (it started it, or took over from a process that is gone). */
  readonly owned: boolean;
  readonly state: PrivateRedisState;
  /**
   * Stops supervising; when this process owns the server, shuts it down cleanly (AOF fsynced, socket
   * removed), killing it after `timeoutMs` (default: stopTimeoutMs) if it does not go.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

export interface PrivateRedisOptions {
  startTimeoutMs?: number;
  /** Restarts, take-overs and give-ups are logged here. */
  logger?: Logger;
  /** At most this many restarts within restartWindowMs; one more crash and the supervisor gives up (default 5 a minute). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** How long a clean shutdown may take before the server is killed (default 2 s). */
  stopTimeoutMs?: number;
  /** How often a process sharing the server checks whether its supervisor is gone (default 1 s). */
  takeoverCheckMs?: number;
}

export function findOnPath(program: string, envPath = process.env.PATH ?? ''): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, program + ext);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Unix socket paths are limited to about 104 bytes; long data directories get a socket in the temp dir. */
function socketPathFor(redisDir: string): string {
  const inside = path.join(redisDir, 'redis.sock');
  if (Buffer.byteLength(inside) <= 100) return inside;
  const hash = createHash('sha256').update(redisDir).digest('hex').slice(0, 16);
  return path.join(tmpdir(), `seler-${hash}.sock`);
}

async function answers(url: string, timeoutMs = 500): Promise<boolean> {
  try {
    const probe = await connectRedis(url, { connectTimeoutMs: timeoutMs });
    probe.disconnect();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The supervisor lock: held for the life of the supervising process, released by the kernel when
// it dies (an abstract unix socket on Linux, a named pipe on Windows), so there is no stale lock to
// judge. Elsewhere a pid file, taken over when its process is gone.

export interface SupervisorLock {
  release(): void;
}

export async function tryLockSupervisor(redisDir: string, kind: 'auto' | 'pidfile' = 'auto'): Promise<SupervisorLock | undefined> {
  const hash = createHash('sha256').update(realpathSync(redisDir)).digest('hex').slice(0, 24);
  if (kind === 'auto' && (process.platform === 'linux' || process.platform === 'win32')) {
    const name = process.platform === 'linux' ? `\0seler-redis-${hash}` : `\\\\?\\pipe\\seler-redis-${hash}`;
    const server: Server = createServer();
    const held = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
      server.listen({ path: name }, () => resolve(true));
    });
    if (!held) return undefined;
    server.unref();
    return { release: () => void server.close() };
  }
  const file = path.join(redisDir, 'supervisor.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return {
        release: () => {
          if (readPid(file) === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      if (pid !== undefined && pid !== process.pid && alive(pid)) return undefined;
      if (pid === process.pid) return undefined; // another PrivateRedis of this process holds it
      rmSync(file, { force: true }); // its process is gone
    }
  }
  return undefined;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * A small shell between us and redis-server, in a session of its own (so no terminal signal reaches
 * either). It exits when redis-server exits (with its status: 137 is a SIGKILL), which is how we see
 * a crash; a guard blocked on our pipe stops redis-server when this process dies, even by SIGKILL.
 */
const GUARD_SCRIPT = [
  'bin="$1"; shift',
  'exec 3<&0',
  '"$bin" "$@" </dev/null >/dev/null 2>&1 &',
  'pid=$!',
  '( read _unused <&3; kill -TERM "$pid" 2>/dev/null ) >/dev/null 2>&1 &',
  'guard=$!',
  'exec 3<&-',
  'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT HUP',
  'while :; do wait "$pid"; status=$?; kill -0 "$pid" 2>/dev/null || break; done',
  'kill "$guard" 2>/dev/null',
  'exit "$status"',
].join('\n');

class Supervisor implements PrivateRedis {
  state: PrivateRedisState = 'shared';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lock: SupervisorLock | undefined;
  private restarts: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly logger: Logger;
  private readonly killOnExit = () => this.killGroup('SIGTERM');

  constructor(
    readonly url: string,
    private readonly redisDir: string,
    private readonly socket: string | undefined,
    private readonly binary: string | undefined,
    private readonly options: PrivateRedisOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  get owned(): boolean {
    return this.lock !== undefined;
  }

  /** Becomes the supervisor (the lock is held) and starts the server; throws when it does not come up. */
  async startOwned(lock: SupervisorLock): Promise<void> {
    this.lock = lock;
    process.on('exit', this.killOnExit);
    try {
      await this.spawnAndWait();
      claimOwnership(this.redisDir);
      this.state = 'running';
    } catch (err) {
      this.releaseLock();
      throw err;
    }
  }

  /** Another process supervises: look now and then whether it is gone, and take over if so. */
  watchForTakeover(): void {
    this.state = 'shared';
    this.watchTimer = setInterval(() => void this.checkTakeover(), this.options.takeoverCheckMs ?? 1000);
    this.watchTimer.unref();
  }

  private async checkTakeover(): Promise<void> {
    if (this.busy || this.state !== 'shared') return;
    this.busy = true;
    try {
      const lock = await tryLockSupervisor(this.redisDir).catch(() => undefined);
      if (!lock) return;
      if ((this.state as PrivateRedisState) !== 'shared' || (await answers(this.url))) {
        lock.release(); // stopped meanwhile, or a server runs without a supervisor we know of: leave it
        return;
      }
      clearInterval(this.watchTimer);
      this.logger.warn({ pid: process.pid }, 'the seler process that ran the private redis-server is gone: this one starts it again with its append-only file');
      try {
        await this.startOwned(lock);
        this.logger.info('private redis-server started again');
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'could not start the private redis-server again');
        this.watchForTakeover();
      }
    } finally {
      this.busy = false;
    }
  }

  private async spawnAndWait(): Promise<void> {
    if (!this.binary) throw new ConfigError(REDIS_MISSING_HELP);
    const windows = process.platform === 'win32';
    if (this.socket) rmSync(this.socket, { force: true }); // left by a server that was killed
    const args = [
      '--port', windows ? '6380' : '0',
      ...(windows ? ['--bind', '127.0.0.1'] : ['--unixsocket', this.socket!, '--unixsocketperm', '700']),
      '--dir', this.redisDir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--logfile', path.join(this.redisDir, 'redis.log'),
      '--daemonize', 'no',
    ];
    const child = windows
      ? spawn(this.binary, args, { stdio: 'ignore', windowsHide: true, detached: true })
      : spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'seler-redis', this.binary, ...args], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child = child;
    let hasExited = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        hasExited = true;
        child.stdin?.destroy();
        resolve();
        if (this.child === child) this.onUnexpectedExit(code, signal);
      }),
    );
    // An error (spawn failure) is followed by 'exit' or nothing; never let it throw.
    child.on('error', () => {});

    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (hasExited) throw new ConfigError(`The private redis-server stopped at start-up. ${logTail(this.redisDir)}`);
      if ((windows || existsSync(this.socket!)) && (await answers(this.url))) return;
      if (Date.now() > deadline) {
        this.child = undefined;
        this.killGroup('SIGKILL', child);
        throw new ConfigError(`The private redis-server did not answer within ${timeoutMs} ms. ${logTail(this.redisDir)}`);
      }
      await sleep(25);
    }
  }

  private onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = undefined;
    if (this.state === 'stopped' || !this.lock) return;
    const how = describeExit(code, signal);
    const now = Date.now();
    const windowMs = this.options.restartWindowMs ?? 60_000;
    const max = this.options.maxRestarts ?? 5;
    this.restarts = this.restarts.filter((t) => now - t < windowMs);
    if (this.state === 'restarting') return; // a failed start-up attempt: restartSoon() handles it
    if (this.restarts.length >= max) return this.giveUp(how);
    this.state = 'restarting';
    this.logger.warn({ exit: how, restart: this.restarts.length + 1, maxRestarts: max }, `the private redis-server stopped unexpectedly (${how}): restarting it with its append-only file`);
    this.restartSoon();
  }

  private giveUp(reason: string): void {
    const max = this.options.maxRestarts ?? 5;
    const windowMs = this.options.restartWindowMs ?? 60_000;
    this.state = 'failed';
    this.logger.error(
      { reason, restarts: this.restarts.length },
      `the private redis-server stopped (${reason}) after ${max} restarts within ${Math.round(windowMs / 1000)} s: not restarting it again. ` +
        `Everything that needs Redis answers 503 until seler is restarted. ${logTail(this.redisDir)}`,
    );
  }

  private restartSoon(): void {
    const n = this.restarts.length;
    const delay = Math.min(250 * 2 ** n, 5000);
    this.restarts.push(Date.now() + delay);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.state !== 'restarting') return;
    const started = Date.now();
    try {
      await this.spawnAndWait();
    } catch (err) {
      if ((this.state as PrivateRedisState) !== 'restarting') return;
      const max = this.options.maxRestarts ?? 5;
      const windowMs = this.options.restartWindowMs ?? 60_000;
      this.restarts = this.restarts.filter((t) => Date.now() - t < windowMs);
      if (this.restarts.length >= max) return this.giveUp((err as Error).message);
      this.logger.error({ err: (err as Error).message }, 'restarting the private redis-server failed; trying again');
      this.restartSoon();
      return;
    }
    if ((this.state as PrivateRedisState) !== 'restarting') return; // stop() came meanwhile and shuts it down
    this.state = 'running';
    this.logger.info({ ms: Date.now() - started }, 'private redis-server restarted (its append-only file is loaded)');
  }

  private killGroup(signal: NodeJS.Signals, child = this.child): void {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (process.platform === 'win32') child.kill(signal);
      else if (signal === 'SIGKILL') process.kill(-child.pid, signal); // the shell, redis-server and the guard
      else child.kill(signal); // the shell forwards it to redis-server, which shuts down cleanly
    } catch {
      /* already gone */
    }
  }

  private releaseLock(): void {
    process.off('exit', this.killOnExit);
    this.lock?.release();
    this.lock = undefined;
  }

  async stop(stopOptions: { timeoutMs?: number } = {}): Promise<void> {
    const wasOwned = this.owned;
    this.state = 'stopped';
    clearInterval(this.watchTimer);
    clearTimeout(this.restartTimer);
    if (!wasOwned) return;
    const child = this.child;
    if (child) {
      // SIGTERM is Redis's SHUTDOWN: the append-only file is fsynced and the socket removed.
      this.killGroup('SIGTERM', child);
      const done = await Promise.race([this.exited.then(() => true), sleep(stopOptions.timeoutMs ?? this.options.stopTimeoutMs ?? 2000).then(() => false)]);
      if (!done) {
        this.logger.warn('the private redis-server did not shut down in time: killing it');
        this.killGroup('SIGKILL', child);
        await Promise.race([this.exited, sleep(1000)]);
      }
    }
    this.child = undefined;
    if (this.socket) rmSync(this.socket, { force: true });
    releaseOwnership(this.redisDir);
    this.releaseLock();
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  if (code !== null && code > 128) {
    const names: Record<number, string> = { 129: 'SIGHUP', 130: 'SIGINT', 134: 'SIGABRT', 135: 'SIGBUS', 137: 'SIGKILL', 139: 'SIGSEGV', 143: 'SIGTERM' };
    return `killed by ${names[code] ?? `signal ${code - 128}`}`;
  }
  return `exit code ${code}`;
}

export async function ensurePrivateRedis(dataDir: string, options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const redisDir = path.join(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  // A data directory on a shared volume: its server belongs to the host that started it.
  assertNotOwnedElsewhere(redisDir, dataDir);
  const windows = process.platform === 'win32';
  const socket = windows ? undefined : socketPathFor(redisDir);
  const url = windows ? 'redis://127.0.0.1:6380/0' : `unix://${socket}`;
  const binary = findOnPath('redis-server');
  const supervisor = new Supervisor(url, redisDir, socket, binary, options);
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);

  for (;;) {
    // Another seler process on this data directory already runs it: share it.
    if ((windows || existsSync(socket!)) && (await answers(url))) {
      supervisor.watchForTakeover();
      return supervisor;
    }
    const lock = await tryLockSupervisor(redisDir);
    if (lock) {
      if (await answers(url)) {
        // Up between our two looks (its supervisor released the lock meanwhile): share it.
        lock.release();
        continue;
      }
      if (!binary) {
        lock.release();
        throw new ConfigError(REDIS_MISSING_HELP);
      }
      await supervisor.startOwned(lock);
      return supervisor;
    }
    // Another process holds the lock and is starting (or restarting) it: wait for it.
    if (Date.now() > deadline)
      throw new ConfigError(`Another seler process supervises the private redis-server of ${dataDir}, but it did not answer within ${options.startTimeoutMs ?? 15_000} ms. ${logTail(redisDir)}`);
    await sleep(50);
  }
}

function logTail(redisDir: string): string {
  const log = path.join(redisDir, 'redis.log');
  if (!existsSync(log)) return '';
  const lines = readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
  return `Its log (${log}) ends with: ${lines}`;
}
