// A real S3 server for tests: OpenStack Swift (Debian's packages) with its s3api middleware and a
// tempauth user, on free ports, its data in a temp dir. Not a mock: it checks every signature, so a
// wrong secret is refused, and it stores what it is sent (aws-chunked framing included, which is why
// clients must use requestChecksumCalculation: 'WHEN_REQUIRED').
//
// memcached and the four Swift servers (proxy, account, container, object; each one process,
// workers = 0) run under one small shell in a process group of its own. The shell kills the group
// when the process it watches (by default this one) is gone, even after a SIGKILL, and stop() kills
// the group by its id. Stale directories of dead runs are reaped at the next start.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const SWIFT_PACKAGES = 'swift-proxy swift-object swift-container swift-account python3-swift memcached';
const DIR_PREFIX = 'seler-swift-';
/** Swift's own Python (a pyenv python3 on the PATH does not have its modules). */
const DEBIAN_PYTHON = '/usr/bin/python3';

export interface SwiftOptions {
  /** Where its config, rings, data and logs go (default: a new temp dir, removed by stop()). */
  dir?: string;
  /** The address every server binds (default 127.0.0.1). */
  host?: string;
  /** Proxy (the S3 endpoint), account, container, object and memcached ports (default: free ones). */
  ports?: { proxy: number; account: number; container: number; object: number; memcached: number };
  /** A command line to run the servers under, e.g. ['ip', 'netns', 'exec', 'ns1'] (default: none). */
  wrap?: string[];
  /** The servers stop when this process is gone (default: this process). */
  watchPid?: number;
  startTimeoutMs?: number;
}

export interface SwiftInfo {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  /** The process group of the servers and their watcher. */
  pgid: number;
}

export interface Swift extends SwiftInfo {
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Process-group file in each Swift dir, so a later run can reap what a dead one left. */
const GROUP_FILE = 'group.json';
/** The pids of the servers, written by their shell. */
const PIDS_FILE = 'pids';

export async function startSwift(options: SwiftOptions = {}): Promise<Swift> {
  assertInstalled();
  reapStaleSwifts();
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
  const host = options.host ?? '127.0.0.1';
  const watchPid = options.watchPid ?? process.pid;
  const wrap = options.wrap ?? [];
  let pgid: number | undefined;
  const stop = async () => {
    if (pgid !== undefined) await killSwift(dir, pgid);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = options.ports ?? {
      proxy: await freePort(),
      account: await freePort(),
      container: await freePort(),
      object: await freePort(),
      memcached: await freePort(),
    };
    const etc = path.join(dir, 'etc');
    const devices = path.join(dir, 'srv');
    const logs = path.join(dir, 'log');
    for (const d of [etc, path.join(devices, 'd1'), logs]) mkdirSync(d, { recursive: true });
    assertXattrs(devices);

    const region = 'us-east-1';
    const accessKeyId = 'seler:tester';
    const secretAccessKey = randomBytes(18).toString('base64url');
    writeConfigs(etc, devices, host, ports, region, secretAccessKey);
    buildRings(etc, host, ports);

    const servers: [string, string[]][] = [
      ['memcached', ['memcached', '-l', host, '-p', String(ports.memcached), '-U', '0', '-m', '32', ...(process.getuid?.() === 0 ? ['-u', 'root'] : [])]],
      ['account', ['swift-account-server', path.join(etc, 'account-server.conf'), '-v']],
      ['container', ['swift-container-server', path.join(etc, 'container-server.conf'), '-v']],
      ['object', ['swift-object-server', path.join(etc, 'object-server.conf'), '-v']],
      ['proxy', ['swift-proxy-server', path.join(etc, 'proxy-server.conf'), '-v']],
    ];
    // Swift's servers call setsid() (they leave our process group), so the shell keeps their pids.
    const script = [
      'watch="$1"; pids=""',
      ...servers.map(
        ([name, argv]) => `${argv.map(shellQuote).join(' ')} </dev/null >>${shellQuote(path.join(logs, name + '.log'))} 2>&1 & pids="$pids $!"`,
      ),
      `echo "$pids" > ${shellQuote(path.join(dir, PIDS_FILE))}`,
      'finish() { kill -TERM $pids 2>/dev/null; exit 0; }',
      'trap finish TERM INT HUP',
      'while kill -0 "$watch" 2>/dev/null; do sleep 1; done',
      'finish',
    ].join('\n');
    const argv = [...wrap, '/bin/sh', '-c', script, 'seler-swift', String(watchPid)];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
    pgid = child.pid!;
    child.unref();
    writeFileSync(path.join(dir, GROUP_FILE), JSON.stringify({ pgid, watchPid }));

    const info: SwiftInfo = { endpoint: `http://${host}:${ports.proxy}`, region, accessKeyId, secretAccessKey, dir, pgid };
    try {
      await waitUntilReady(info, [ports.account, ports.container, ports.object], host, wrap, options.startTimeoutMs ?? 60_000);
    } catch (err) {
      const tails = servers.map(([name]) => `${name}: ${tail(path.join(logs, name + '.log'))}`).join('\n');
      throw new Error(`Swift did not start: ${(err as Error).message}\n${tails}`, { cause: err });
    }
    return { ...info, createBucket: (name) => createBucket(info, name), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The S3 client settings Swift needs (path-style, no aws-chunked bodies, no default checksums). */
export function s3ClientConfig(info: SwiftInfo) {
  return {
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
}

export async function createBucket(info: SwiftInfo, name: string): Promise<void> {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client(s3ClientConfig(info));
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// A Swift shared by the test files of one run, started by the first file that asks for it (so a
// run that needs none pays nothing). The run's global setup provides a directory and stops the
// server at teardown; the server also stops when the vitest main process is gone.

const SHARED_FILE = 'swift.json';

/** For the global setup: a fresh directory for this run's shared Swift. */
export function createSharedSwiftDir(): string {
  return mkdtempSync(path.join(tmpdir(), `${DIR_PREFIX}run-`));
}

/** For the global teardown: stops the shared Swift if a test started it, and removes the directory. */
export async function stopSharedSwift(runDir: string): Promise<void> {
  const swiftDir = path.join(runDir, 'swift');
  const groupFile = path.join(swiftDir, GROUP_FILE);
  if (existsSync(groupFile)) await killSwift(swiftDir, JSON.parse(readFileSync(groupFile, 'utf8')).pgid);
  rmSync(runDir, { recursive: true, force: true });
}

/**
 * The run's shared Swift: the first caller (across every test worker) starts it, the others wait
 * for it. Its stop() does nothing; the global teardown stops it. Buckets are per test: give each a
 * unique name.
 */
export async function sharedSwift(runDir: string, timeoutMs = 60_000): Promise<Swift> {
  const infoFile = path.join(runDir, SHARED_FILE);
  const errorFile = path.join(runDir, 'error.txt');
  let starter = false;
  try {
    mkdirSync(path.join(runDir, 'swift'));
    starter = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (starter) {
    try {
      const swift = await startSwift({ dir: path.join(runDir, 'swift'), watchPid: process.ppid });
      const { createBucket: _c, stop: _s, ...info } = swift;
      writeFileSync(`${infoFile}.tmp`, JSON.stringify(info));
      renameSync(`${infoFile}.tmp`, infoFile);
    } catch (err) {
      writeFileSync(errorFile, (err as Error).message);
      throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(infoFile)) {
    if (existsSync(errorFile)) throw new Error(`the shared Swift did not start: ${readFileSync(errorFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`the shared Swift did not start within ${timeoutMs} ms`);
    await sleep(200);
  }
  const info: SwiftInfo = JSON.parse(readFileSync(infoFile, 'utf8'));
  return { ...info, createBucket: (name) => createBucket(info, name), stop: async () => {} };
}

// ---------------------------------------------------------------------------------------------

function assertInstalled(): void {
  const missing = ['swift-proxy-server', 'swift-object-server', 'swift-container-server', 'swift-account-server', 'swift-ring-builder', 'memcached'].filter(
    (program) => spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0,
  );
  if (missing.length)
    throw new Error(`Swift is not installed (missing ${missing.join(', ')}): apt-get install -y --no-install-recommends ${SWIFT_PACKAGES}`);
  if (!existsSync('/etc/swift/swift.conf')) throw new Error('/etc/swift/swift.conf is missing (it comes with the swift package)');
}

/** The object server keeps its metadata in extended attributes: fail clearly where they are missing. */
function assertXattrs(dir: string): void {
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import os,sys,tempfile\nf=tempfile.NamedTemporaryFile(dir=sys.argv[1])\nos.setxattr(f.name,"user.seler",b"1")', dir]);
  if (probe.status !== 0)
    throw new Error(
      `${dir} has no user extended attributes, which Swift's object server needs: use a temp dir on ext4/xfs, or tmpfs mounted with user_xattr (TMPDIR=…)`,
    );
}

type Ports = NonNullable<SwiftOptions['ports']>;

function writeConfigs(etc: string, devices: string, host: string, ports: Ports, region: string, secret: string): void {
  const user = userInfo().username;
  const common = (port: number) =>
    ['[DEFAULT]', `bind_ip = ${host}`, `bind_port = ${port}`, 'workers = 0', `user = ${user}`, `swift_dir = ${etc}`, `devices = ${devices}`, 'mount_check = false', 'log_level = WARNING', ''].join('\n');
  for (const kind of ['account', 'container', 'object'] as const) {
    writeFileSync(
      path.join(etc, `${kind}-server.conf`),
      [common(ports[kind]), '[pipeline:main]', `pipeline = ${kind}-server`, '', `[app:${kind}-server]`, `use = egg:swift#${kind}`, ''].join('\n'),
    );
  }
  writeFileSync(
    path.join(etc, 'proxy-server.conf'),
    [
      common(ports.proxy),
      '[pipeline:main]',
      'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server',
      '',
      '[app:proxy-server]',
      'use = egg:swift#proxy',
      'account_autocreate = true',
      'allow_account_management = true',
      '',
      '[filter:s3api]',
      'use = egg:swift#s3api',
      `location = ${region}`,
      '',
      '[filter:tempauth]',
      'use = egg:swift#tempauth',
      `user_seler_tester = ${secret} .admin`,
      '',
      '[filter:cache]',
      'use = egg:swift#memcache',
      `memcache_servers = ${host}:${ports.memcached}`,
      '',
      ...['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'listing_formats', 'bulk', 'copy', 'slo', 'dlo'].flatMap((name) => [
        `[filter:${name}]`,
        `use = egg:swift#${name.replace('-', '_')}`,
        '',
      ]),
    ].join('\n'),
  );
}

/** Three rings of one device and one replica, built in one Python process (three ring-builder runs take seconds). */
function buildRings(etc: string, host: string, ports: Ports): void {
  const script = [
    'import sys',
    'from swift.common.ring import RingBuilder',
    'etc, host = sys.argv[1], sys.argv[2]',
    'for kind, port in zip(("account", "container", "object"), sys.argv[3:6]):',
    '    b = RingBuilder(6, 1, 0)',
    "    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': host, 'port': int(port), 'device': 'd1', 'weight': 1.0})",
    '    b.rebalance()',
    "    b.get_ring().save(f'{etc}/{kind}.ring.gz')",
    "    b.save(f'{etc}/{kind}.builder')",
  ].join('\n');
  const run = spawnSync(DEBIAN_PYTHON, ['-c', script, etc, host, String(ports.account), String(ports.container), String(ports.object)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`building Swift's rings failed: ${run.stderr}`);
}

async function waitUntilReady(info: SwiftInfo, backendPorts: number[], host: string, wrap: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!groupAlive(info.pgid)) throw new Error('its processes exited');
    const ok = wrap.length ? probeWrapped(wrap, info.endpoint, host, backendPorts) : await probe(info.endpoint, host, backendPorts);
    if (ok === true) return;
    last = ok;
    await sleep(250);
  }
  throw new Error(`not ready within ${timeoutMs} ms (${last})`);
}

async function probe(endpoint: string, host: string, backendPorts: number[]): Promise<true | string> {
  try {
    const res = await fetch(`${endpoint}/healthcheck`, { signal: AbortSignal.timeout(1000) });
    if (res.status !== 200) return `healthcheck ${res.status}`;
  } catch (err) {
    return (err as Error).message;
  }
  for (const port of backendPorts) if (!(await connects(host, port))) return `port ${port} closed`;
  return true;
}

/** From inside a network namespace: curl the health check and the backend ports. */
function probeWrapped(wrap: string[], endpoint: string, host: string, backendPorts: number[]): true | string {
  const checks = [`curl -fsS -m 1 ${endpoint}/healthcheck >/dev/null`, ...backendPorts.map((p) => `curl -sS -m 1 -o /dev/null http://${host}:${p}/`)];
  const run = spawnSync(wrap[0]!, [...wrap.slice(1), 'sh', '-c', checks.join(' && ')], { encoding: 'utf8' });
  return run.status === 0 ? true : run.stderr.trim() || `exit ${run.status}`;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(port, host);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function groupAlive(pgid: number): boolean {
  return pidAlive(-pgid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function serverPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, PIDS_FILE), 'utf8').trim().split(/\s+/).map(Number).filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** SIGTERM to the watcher's group and to each server, SIGKILL after graceMs; resolves when all are gone. */
export async function killSwift(dir: string, pgid: number, graceMs = 5000): Promise<void> {
  const pids = serverPids(dir);
  signal(-pgid, 'SIGTERM');
  for (const pid of pids) signal(pid, 'SIGTERM');
  const alive = () => groupAlive(pgid) || pids.some((pid) => pidAlive(pid) && !isZombie(pid));
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (!alive()) return;
  signal(-pgid, 'SIGKILL');
  for (const pid of pids) signal(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (alive() && Date.now() < hardDeadline) await sleep(100);
}

/** A process that has exited but was not reaped (orphans here may be reparented to a pid 1 that never reaps). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Removes the Swift dirs in the temp dir whose watched process is gone, killing what they left. */
function reapStaleSwifts(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const top = path.join(tmpdir(), name);
    const dir = [top, path.join(top, 'swift')].find((d) => existsSync(path.join(d, GROUP_FILE)));
    if (!dir) continue; // being set up, or a run dir whose Swift was never started
    try {
      const { pgid, watchPid } = JSON.parse(readFileSync(path.join(dir, GROUP_FILE), 'utf8')) as { pgid: number; watchPid: number };
      if (pidAlive(watchPid)) continue;
      signal(-pgid, 'SIGKILL');
      for (const pid of serverPids(dir)) signal(pid, 'SIGKILL');
      rmSync(top, { recursive: true, force: true });
    } catch {
      /* another run reaps it */
    }
  }
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
