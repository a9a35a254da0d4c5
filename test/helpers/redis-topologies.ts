// Real multi-server Redis topologies for tests and the scale bed: a Sentinel group (a master, its
// replicas and three sentinels) and a Redis Cluster (masters, optionally one replica each). Every
// server is a redis-server process on a free port of `host` with its own directory under `dir`,
// stopped by pid. Nothing here is seler code: only redis-server and redis-cli, optionally run under a
// command line such as `ip netns exec <ns>` (the scale bed puts a topology in a namespace of its own).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);

export interface RedisProcess {
  host: string;
  port: number;
  dir: string;
  /** The command line it runs under (e.g. ['ip', 'netns', 'exec', 'ns1']); redis-cli runs under it too. */
  wrap: string[];
  process: ChildProcess;
  /** SIGKILL (a crashed host) or SIGTERM. */
  kill(signal?: NodeJS.Signals): void;
}

export interface TopologyOptions {
  /** The address every server binds to and announces (another namespace's address on the scale bed). */
  host?: string;
  /** Parent directory; a fresh one under the system's tmp by default (removed on stop). */
  dir?: string;
  /** Extra redis.conf lines for every data server (not the sentinels). */
  serverConfig?: string[];
  /** A command line to run every server (and redis-cli) under, e.g. ['ip', 'netns', 'exec', 'ns1'] on the scale bed. */
  wrap?: string[];
  /** Ports from this one up, one per server (in a fresh network namespace every port is free); default: free ones of `host`. */
  portFrom?: number;
}

function portPicker(options: TopologyOptions, host: string): () => Promise<number> {
  let next = options.portFrom;
  return async () => (next === undefined ? freePort(host) : next++);
}

/** A port nobody listens on right now (the kernel's pick for port 0). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts one redis-server from a config file it writes in `dir`, and waits until it answers PING. */
export async function startRedisProcess(dir: string, host: string, lines: string[], options: { sentinel?: boolean; wrap?: string[]; port?: number } = {}): Promise<RedisProcess> {
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort(host));
  const wrap = options.wrap ?? [];
  const conf = path.join(dir, options.sentinel ? 'sentinel.conf' : 'redis.conf');
  writeFileSync(
    conf,
    [`port ${port}`, `bind ${host}`, `dir ${dir}`, 'save ""', 'appendonly no', 'protected-mode no', `logfile ${path.join(dir, 'redis.log')}`, ...lines]
      .filter((l) => !(options.sentinel && /^(save|appendonly) /.test(l)))
      .join('\n') + '\n',
  );
  const argv = [...wrap, 'redis-server', ...(options.sentinel ? [conf, '--sentinel'] : [conf])];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const proc: RedisProcess = {
    host,
    port,
    dir,
    wrap,
    process: child,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  await until(async () => (await redisCli(proc, 'PING').catch(() => '')) === 'PONG', 10_000, `redis-server on ${host}:${port} did not start`);
  return proc;
}

export async function redisCli(node: { host: string; port: number; wrap?: string[] }, ...args: string[]): Promise<string> {
  const argv = [...(node.wrap ?? []), 'redis-cli', '-h', node.host, '-p', String(node.port), ...args];
  const { stdout } = await run(argv[0]!, argv.slice(1), { timeout: 10_000 });
  return stdout.trim();
}

async function until(check: () => Promise<boolean>, timeoutMs: number, message: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${message} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

async function stopAll(processes: RedisProcess[], dir: string, removeDir: boolean): Promise<void> {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => (p.process.exitCode === null && p.process.signalCode === null ? new Promise((r) => p.process.once('exit', r)) : undefined)));
  if (removeDir) rmSync(dir, { recursive: true, force: true });
}

export interface SentinelGroup {
  /** REDIS_URL for seler: redis+sentinel://…/<name>. */
  url: string;
  name: string;
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** The master the sentinels name now. */
  master(): Promise<{ host: string; port: number; wrap: string[] }>;
  /** SENTINEL FAILOVER, then waits until every sentinel names a new master and it takes writes. */
  failover(timeoutMs?: number): Promise<{ host: string; port: number; wrap: string[] }>;
  /** CONFIG SET on every data server (e.g. min-replicas-to-write). */
  configSetAll(parameter: string, value: string): Promise<void>;
  /** Waits until the master sees every replica online and the sentinels know them all. */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** 1 master + `replicas` replicas + `sentinels` sentinels (quorum 2), fast failure detection. */
export async function startSentinelGroup(options: TopologyOptions & { replicas?: number; sentinels?: number; name?: string } = {}): Promise<SentinelGroup> {
  const host = options.host ?? '127.0.0.1';
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'seler-sentinel-'));
  const name = options.name ?? 'seler';
  const wrap = options.wrap ?? [];
  const port = portPicker(options, host);
  const all: RedisProcess[] = [];
  try {
    const serverLines = [`replica-announce-ip ${host}`, ...(options.serverConfig ?? [])];
    const master = await startRedisProcess(path.join(dir, 'server-0'), host, serverLines, { wrap, port: await port() });
    all.push(master);
    const servers = [master];
    for (let i = 1; i <= (options.replicas ?? 2); i++) {
      const replica = await startRedisProcess(path.join(dir, `server-${i}`), host, [...serverLines, `replicaof ${host} ${master.port}`], { wrap, port: await port() });
      all.push(replica);
      servers.push(replica);
    }
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < (options.sentinels ?? 3); i++) {
      const sentinel = await startRedisProcess(
        path.join(dir, `sentinel-${i}`),
        host,
        [
          `sentinel announce-ip ${host}`,
          `sentinel monitor ${name} ${host} ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
        ],
        { sentinel: true, wrap, port: await port() },
      );
      all.push(sentinel);
      sentinels.push(sentinel);
    }
    const askMaster = async () => {
      const reply = (await redisCli(sentinels[0]!, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n');
      return { host: reply[0]!, port: Number(reply[1]), wrap };
    };
    const group: SentinelGroup = {
      url: `redis+sentinel://${sentinels.map((s) => `${host}:${s.port}`).join(',')}/${name}`,
      name,
      servers,
      sentinels,
      master: askMaster,
      async settled(timeoutMs = 20_000) {
        const replicas = servers.length - 1;
        await until(
          async () => {
            const current = await askMaster();
            const info = await redisCli(current, 'INFO', 'replication');
            const online = (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
            if (online < replicas) return false;
            for (const s of sentinels) {
              // Flags exactly "slave": known, connected and not down (a replica the sentinels can promote).
              const known = await redisCli(s, 'SENTINEL', 'REPLICAS', name);
              if ((known.match(/^slave$/gm) ?? []).length < replicas) return false;
              const sentinelsSeen = await redisCli(s, 'SENTINEL', 'SENTINELS', name);
              if ((sentinelsSeen.match(/^sentinel$/gm) ?? []).length < sentinels.length - 1) return false;
            }
            return true;
          },
          timeoutMs,
          'the Sentinel group did not settle',
          200,
        );
      },
      async failover(timeoutMs = 30_000) {
        const before = await askMaster();
        await until(async () => (await redisCli(sentinels[0]!, 'SENTINEL', 'FAILOVER', name).catch((e: Error) => e.message)) === 'OK', timeoutMs, 'SENTINEL FAILOVER was refused', 500);
        let after = before;
        await until(
          async () => {
            const named = await Promise.all(sentinels.map((s) => redisCli(s, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => '')));
            if (new Set(named).size !== 1) return false;
            after = await askMaster();
            if (after.port === before.port) return false;
            return /role:master/.test(await redisCli(after, 'INFO', 'replication'));
          },
          timeoutMs,
          'the failover did not finish',
        );
        return after;
      },
      async configSetAll(parameter, value) {
        await Promise.all(servers.map((s) => redisCli(s, 'CONFIG', 'SET', parameter, value)));
      },
      stop: () => stopAll(all, dir, ownDir),
    };
    await group.settled();
    return group;
  } catch (err) {
    await stopAll(all, dir, ownDir);
    throw err;
  }
}

export interface RedisClusterBed {
  /** REDIS_URL for seler: redis+cluster://<every master>. */
  url: string;
  masters: RedisProcess[];
  replicas: RedisProcess[];
  /** The master that owns the hash slot of `key` (CLUSTER KEYSLOT, CLUSTER SLOTS). */
  ownerOf(key: string): Promise<RedisProcess>;
  /** A master that does not own the slot of `key`. */
  notOwnerOf(key: string): Promise<RedisProcess>;
  /** The replica of a master (when the cluster has replicas). */
  replicaOf(master: RedisProcess): Promise<RedisProcess | undefined>;
  /** Waits until every node reports cluster_state:ok. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `masters` masters (at least 3) and `replicasPerMaster` replicas each, built with redis-cli --cluster create. */
export async function startRedisCluster(options: TopologyOptions & { masters?: number; replicasPerMaster?: 0 | 1 } = {}): Promise<RedisClusterBed> {
  const host = options.host ?? '127.0.0.1';
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'seler-cluster-'));
  const masterCount = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const wrap = options.wrap ?? [];
  const port = portPicker(options, host);
  const all: RedisProcess[] = [];
  try {
    const lines = ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 2000', `cluster-announce-ip ${host}`, ...(options.serverConfig ?? [])];
    for (let i = 0; i < masterCount * (1 + replicasPerMaster); i++) all.push(await startRedisProcess(path.join(dir, `node-${i}`), host, lines, { wrap, port: await port() }));
    const create = [...wrap, 'redis-cli'];
    await run(create[0]!, [...create.slice(1), '--cluster', 'create', ...all.map((n) => `${host}:${n.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], { timeout: 60_000 });
    const byPort = new Map(all.map((n) => [n.port, n]));
    const alive = () => all.find((n) => n.process.exitCode === null && n.process.signalCode === null)!;
    const slots = async () =>
      JSON.parse(await redisCli(alive(), '--json', 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string], ...[string, number, string][]][];
    const bed: RedisClusterBed = {
      url: '',
      masters: [],
      replicas: [],
      async healthy(timeoutMs = 30_000) {
        await until(
          async () => (await Promise.all(all.filter((n) => n.process.exitCode === null && n.process.signalCode === null).map((n) => redisCli(n, 'CLUSTER', 'INFO').catch(() => '')))).every((i) => i.includes('cluster_state:ok')),
          timeoutMs,
          'the cluster did not become healthy',
          200,
        );
      },
      async ownerOf(key) {
        const slot = Number(await redisCli(alive(), 'CLUSTER', 'KEYSLOT', key));
        const range = (await slots()).find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`no node owns slot ${slot}`);
        return byPort.get(Number(range[2][1]))!;
      },
      async notOwnerOf(key) {
        const owner = await bed.ownerOf(key);
        const masterPorts = new Set((await slots()).map((r) => Number(r[2][1])));
        return all.find((n) => n !== owner && masterPorts.has(n.port))!;
      },
      async replicaOf(master) {
        const range = (await slots()).find((r) => Number(r[2][1]) === master.port);
        const replica = range?.slice(3)[0] as [string, number] | undefined;
        return replica ? byPort.get(Number(replica[1])) : undefined;
      },
      stop: () => stopAll(all, dir, ownDir),
    };
    await bed.healthy();
    const masterPorts = new Set((await slots()).map((r) => Number(r[2][1])));
    bed.masters = all.filter((n) => masterPorts.has(n.port));
    bed.replicas = all.filter((n) => !masterPorts.has(n.port));
    bed.url = `redis+cluster://${bed.masters.map((n) => `${host}:${n.port}`).join(',')}`;
    // Replicas report their link only after a first sync: wait for it, so a failover test has a replica to promote.
    await until(
      async () => (await Promise.all(bed.replicas.map((r) => redisCli(r, 'INFO', 'replication')))).every((i) => i.includes('master_link_status:up')),
      30_000,
      'the cluster replicas did not sync',
      200,
    );
    return bed;
  } catch (err) {
    await stopAll(all, dir, ownDir);
    throw err;
  }
}
