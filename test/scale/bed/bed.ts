// The scale bed: hosts made of network namespaces on one bridge. The bridge lives in a namespace of
// its own (the hub), so the bed's /24 exists only inside the bed: the root namespace (and with it this
// machine's real network) has no address or route in it, and no namespace has a default route.
//
// Names carry the pid of the process that made the bed (`sb<pid>-<host>`), so a bed left behind by a
// run that died (SIGKILL, a crashed runner) is found and removed by the next one.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Host } from './host.js';
import { ip, run } from './sh.js';

export const SUBNET = '10.77.0';
const NAME = /^sb(\d+)-([a-z0-9-]+)/;

export class Bed {
  readonly hosts = new Map<string, Host>();
  private next = 2;
  private torn = false;
  private readonly onExit = () => this.teardownSync();

  private constructor(
    readonly id: string,
    readonly hub: string,
    /** Every host's data directory is under here (kept when SELER_SCALE_KEEP is set). */
    readonly dir: string,
  ) {
    process.once('exit', this.onExit);
  }

  /** Makes the hub (a namespace with the bridge). Removes beds of dead runs first. Needs root, ip and nft. */
  static async create(label = 'bed'): Promise<Bed> {
    await checkTools();
    await reapStaleBeds();
    const id = `sb${process.pid}`;
    const hub = `${id}-hub`;
    const dir = mkdtempSync(path.join(tmpdir(), `seler-scale-${label}-`));
    // Servers that drop root (PostgreSQL) must reach their host's directory.
    chmodSync(dir, 0o755);
    const bed = new Bed(id, hub, dir);
    await ip(['netns', 'add', hub]);
    await ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    return bed;
  }

  /** A new host: namespace, veth to the bridge, the next address of the /24, loopback up, its own dir. */
  async addHost(name: string): Promise<Host> {
    if (!/^[a-z0-9-]{1,20}$/.test(name)) throw new Error(`host name "${name}": lower-case letters, digits and "-"`);
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const index = this.next++;
    if (index > 254) throw new Error('the bed has no address left');
    const ns = `${this.id}-${name}`;
    const address = `${SUBNET}.${index}`;
    const host = new Host(name, ns, address, path.join(this.dir, name));
    this.hosts.set(name, host);
    await ip(['netns', 'add', ns]);
    const port = `v${index}`;
    await ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.hub]);
    await ip(['-n', this.hub, 'link', 'set', port, 'master', 'br0']);
    await ip(['-n', this.hub, 'link', 'set', port, 'up']);
    await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in the bed`);
    return h;
  }

  /** Kills every process by pid, deletes every namespace, removes the data (unless SELER_SCALE_KEEP=1). */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    process.removeListener('exit', this.onExit);
    for (const host of this.hosts.values()) await host.killAll().catch(() => {});
    for (const ns of [...[...this.hosts.values()].map((h) => h.ns), this.hub]) await ip(['netns', 'del', ns]).catch(() => {});
    if (process.env.SELER_SCALE_KEEP) process.stdout.write(`scale bed files kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort when the runner exits without teardown: synchronous, by pid, then the namespaces. */
  private teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const host of this.hosts.values()) {
      for (const p of host.processes) if (p.alive) safeKill(p.pid);
      const pids = spawnSync('ip', ['netns', 'pids', host.ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean)) safeKill(Number(pid));
      spawnSync('ip', ['netns', 'del', host.ns]);
    }
    spawnSync('ip', ['netns', 'del', this.hub]);
  }
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

async function checkTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the scale bed needs root (network namespaces)');
  for (const tool of ['ip', 'nft']) {
    const r = await run(['sh', '-c', `command -v ${tool}`]).catch(() => undefined);
    if (!r || r.code !== 0) throw new Error(`the scale bed needs "${tool}" (Debian: apt-get install iproute2 nftables)`);
  }
}

/** Namespaces named by a pid that no longer runs are a dead run's bed: kill what is inside, delete them. */
export async function reapStaleBeds(): Promise<string[]> {
  const listed = (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  const stale = listed.filter((ns) => {
    const m = NAME.exec(ns);
    return m && !pidAlive(Number(m[1]));
  });
  for (const ns of stale) {
    const pids = await ip(['netns', 'pids', ns]).catch(() => '');
    for (const pid of pids.split(/\s+/).filter(Boolean)) safeKill(Number(pid));
  }
  for (const ns of stale) await ip(['netns', 'del', ns]).catch(() => {});
  return stale;
}

function pidAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  // A recycled pid of some other program is not our runner.
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmd.includes('node');
}
