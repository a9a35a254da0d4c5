// A host of the scale bed: a network namespace with one veth link to the bed's bridge, an address in
// the bed's private /24 (which exists only inside the bed's namespaces: the root namespace has no
// route to it, so nothing here can reach, or be reached from, a real network), and a data directory
// of its own (namespaces share the filesystem). Processes started here are remembered by pid and
// killed by pid when the bed is torn down.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip, run, type RunResult } from './sh.js';

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Pipe stdin/stdout (for an agent spoken to over stdio); otherwise output goes to the process's log file. */
  pipe?: boolean;
}

/** A process started in a host's namespace. Its output is in `logFile` (unless piped). */
export class HostProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly host: Host,
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Sends a signal (SIGKILL: a crash) and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      /* already gone */
    }
    const ended = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!ended) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await this.exited;
    }
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** Waits until the log has a line matching `pattern` (fails early when the process exits). */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log().split('\n').find((l) => pattern.test(l));
      if (line) return line;
      if (!this.alive) throw new Error(`${this.host.name}/${this.name} exited (${JSON.stringify(this.exit)}) before logging ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.host.name}/${this.name} did not log ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(200);
    }
  }

  tail(lines = 20): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }
}

export class Host {
  readonly processes: HostProcess[] = [];
  private dropped = new Set<string>();
  private linkUp = true;

  constructor(
    /** A short name (web-a, worker-1, redis, …). */
    readonly name: string,
    /** The network namespace. */
    readonly ns: string,
    /** Its address in the bed's /24. */
    readonly address: string,
    /** Its own data directory. */
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Runs a command in this host's namespace to completion. */
  exec(argv: string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.ns, ...argv], options);
  }

  /** Like exec, but fails (with its output) unless it exits 0. */
  async sh(argv: string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.exec(argv, options);
    if (r.code !== 0) throw new Error(`${this.name}: ${argv.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Starts a long-running process in this namespace. */
  spawn(name: string, argv: string[], options: SpawnOptions = {}): HostProcess {
    const logFile = path.join(this.dir, `${name}.log`);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env };
    let child: ChildProcess;
    if (options.pipe) {
      child = spawn('ip', ['netns', 'exec', this.ns, ...argv], { env, cwd: options.cwd ?? this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    } else {
      const fd = openSync(logFile, 'a');
      try {
        child = spawn('ip', ['netns', 'exec', this.ns, ...argv], { env, cwd: options.cwd ?? this.dir, stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
    }
    const proc = new HostProcess(this, name, child, logFile);
    this.processes.push(proc);
    return proc;
  }

  /** Pulls the host's cable: every connection to and from it stalls (no reset, no error), as on a real network. */
  async cut(): Promise<void> {
    await ip(['-n', this.ns, 'link', 'set', 'eth0', 'down']);
    this.linkUp = false;
  }

  /** Plugs the cable back in (the address and its route come back with the link). */
  async restore(): Promise<void> {
    await ip(['-n', this.ns, 'link', 'set', 'eth0', 'up']);
    this.linkUp = true;
  }

  get isCut(): boolean {
    return !this.linkUp;
  }

  /** Drops every packet between this host and `peer`, both ways (nftables in this namespace). */
  async dropTraffic(peer: Host): Promise<void> {
    this.dropped.add(peer.address);
    await this.writeRules();
  }

  async allowTraffic(peer: Host): Promise<void> {
    this.dropped.delete(peer.address);
    await this.writeRules();
  }

  private async writeRules(): Promise<void> {
    const peers = [...this.dropped];
    const set = peers.length ? `{ ${peers.join(', ')} }` : undefined;
    // One nft transaction: make sure the table exists, empty it by deleting it, write it again.
    const rules = [
      'table inet scalebed',
      'delete table inet scalebed',
      'table inet scalebed {',
      '  chain input { type filter hook input priority 0; policy accept;',
      ...(set ? [`    ip saddr ${set} drop`] : []),
      '  }',
      '  chain output { type filter hook output priority 0; policy accept;',
      ...(set ? [`    ip daddr ${set} drop`] : []),
      '  }',
      '}',
    ].join('\n');
    await this.sh(['nft', '-f', '-'], { input: `${rules}\n` });
  }

  /** Kills every process this host started (by pid), and anything else still in its namespace. */
  async killAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    const left = await ip(['netns', 'pids', this.ns]).catch(() => '');
    for (const pid of left.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  toString(): string {
    return `${this.name} (${this.address})`;
  }
}
