// The embedded default: a redis-server of our own on a unix socket inside the data directory,
// with append-only persistence, stopped when we stop (also when we crash or are SIGKILLed).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from './errors.js';
import { connectRedis } from './redis.js';

export const REDIS_MISSING_HELP = [
  'No Redis is configured and no redis-server program was found on the PATH.',
  'seler needs Redis 6.2 or newer. Either install one (Debian/Ubuntu: "sudo apt-get install redis-server";',
  'macOS: "brew install redis"; Windows: Memurai or Redis under WSL) and run seler again, so that it can',
  'start a private Redis inside its data directory, or point seler at a Redis you already run with',
  'REDIS_URL, for example REDIS_URL=redis://127.0.0.1:6379/0.',
].join('\n');

export interface PrivateRedis {
  url: string;
  /** True when this process started the server (and will stop it). */
  owned: boolean;
  stop(): Promise<void>;
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

export async function ensurePrivateRedis(dataDir: string, options: { startTimeoutMs?: number } = {}): Promise<PrivateRedis> {
  const redisDir = path.join(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const windows = process.platform === 'win32';
  const socket = socketPathFor(redisDir);
  const url = windows ? 'redis://127.0.0.1:6380/0' : `unix://${socket}`;

  // Another seler process on this data directory already runs it: share it.
  if (windows || existsSync(socket)) {
    try {
      const probe = await connectRedis(url, { connectTimeoutMs: 500 });
      probe.disconnect();
      return { url, owned: false, stop: async () => {} };
    } catch {
      if (!windows) rmSync(socket, { force: true });
    }
  }

  const binary = findOnPath('redis-server');
  if (!binary) throw new ConfigError(REDIS_MISSING_HELP);

  const args = [
    '--port', windows ? '6380' : '0',
    ...(windows ? ['--bind', '127.0.0.1'] : ['--unixsocket', socket, '--unixsocketperm', '700']),
    '--dir', redisDir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--logfile', path.join(redisDir, 'redis.log'),
    '--daemonize', 'no',
  ];

  let child: ChildProcess;
  if (windows) {
    child = spawn(binary, args, { stdio: 'ignore', windowsHide: true });
  } else {
    // A tiny shell keeps its stdin open to us: when this process dies for any reason (even SIGKILL)
    // the pipe closes, `read` returns and the shell stops redis-server. No orphan is left behind.
    const script = 'bin="$1"; shift; "$bin" "$@" </dev/null >/dev/null 2>&1 & pid=$!; ' +
      'trap \'kill -TERM $pid 2>/dev/null; wait $pid; exit 0\' TERM INT; read _unused; kill -TERM $pid 2>/dev/null; wait $pid';
    child = spawn('/bin/sh', ['-c', script, 'seler-redis', binary, ...args], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (hasExited) throw new ConfigError(`The private redis-server stopped at start-up. ${logTail(redisDir)}`);
    if (windows || existsSync(socket)) {
      try {
        const probe = await connectRedis(url, { connectTimeoutMs: 500 });
        probe.disconnect();
        break;
      } catch {
        /* not ready yet (for example still loading the append-only file) */
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new ConfigError(`The private redis-server did not answer within ${options.startTimeoutMs ?? 15_000} ms. ${logTail(redisDir)}`);
    }
    await sleep(25);
  }

  return {
    url,
    owned: true,
    stop: async () => {
      process.off('exit', killOnExit);
      if (hasExited) return;
      child.stdin?.end();
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (!hasExited) child.kill('SIGKILL');
    },
  };
}

function logTail(redisDir: string): string {
  const log = path.join(redisDir, 'redis.log');
  if (!existsSync(log)) return '';
  const lines = readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
  return `Its log (${log}) ends with: ${lines}`;
}
