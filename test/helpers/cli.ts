// Runs the real `seler` command (from source, through tsx) as a child process. Nothing it starts outlives
// the test file: each command runs in a process group of its own, stopped (SIGTERM, then SIGKILL) when the
// test that started it ends (passed, failed or timed out), when the file ends, when this process exits,
// and, should this process be killed outright, by the command itself (test/helpers/exit-with-parent.mjs).
// A private redis-server the command started stops with it (its own guard, src/platform/private-redis.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, onTestFinished } from 'vitest';
import { isAlive } from './redis-processes.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
const entry = path.join(repoRoot, 'src', 'main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const moduleTrace = pathToFileURL(path.join(repoRoot, 'test', 'helpers', 'module-trace.mjs')).href;
const exitWithParent = pathToFileURL(path.join(repoRoot, 'test', 'helpers', 'exit-with-parent.mjs')).href;
// By URL, not by name: a command run in another folder (cwd) must still find the repository's tsx.
const tsx = import.meta.resolve('tsx');

/** The environment variable telling exit-with-parent.mjs which process it belongs to. */
export const PARENT_PID_VARIABLE = 'SELER_TEST_PARENT_PID';
/** How long a stopped command may take to shut down cleanly before its group is killed. */
const STOP_GRACE_MS = 5_000;

// First, so the module trace (which the light-command tests read) does not see it.
export function cliArgs(args: string[]): string[] {
  return ['--import', exitWithParent, '--import', tsx, '--import', moduleTrace, entry, ...args];
}

/** Runs `seler …` to completion. `env` replaces seler's own variables; PATH and HOME are kept unless given. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      signalGroup(child, 'SIGKILL');
      reject(new Error(`seler ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `seler …` in a process group of its own; see the top of this file for how it is stopped. */
export function spawnCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildProcess {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env, [PARENT_PID_VARIABLE]: String(process.pid) };
  const child = spawn(process.execPath, cliArgs(args), { cwd: options.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) return child; // did not start: 'error' follows
  started.add(child);
  child.once('exit', () => {
    // Its group may outlive it (a process it started); forget it only once the group is empty.
    if (!groupAlive(child)) started.delete(child);
  });
  try {
    onTestFinished(() => stopCli(child));
  } catch {
    // Not inside a test (beforeAll, or outside Vitest): the end of the file stops it.
  }
  return child;
}

/** Commands started and not yet seen to be gone with their whole group. */
const started = new Set<ChildProcess>();

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  killQuietly(-child.pid!, signal);
}

/** Whether any process of the command's group is still alive. */
export function groupAlive(child: ChildProcess | number): boolean {
  try {
    process.kill(-(typeof child === 'number' ? child : child.pid!), 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid` (Linux; none elsewhere), whatever group or session it made for itself. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const thread of readOr(() => readdirSync(`/proc/${parent}/task`), [])) {
      const children = readOr(() => readFileSync(`/proc/${parent}/task/${thread}/children`, 'utf8'), '');
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** A /proc read, or `fallback` once the process is gone. */
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

async function gone(alive: () => boolean, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (alive()) {
    if (Date.now() >= until) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops a command and every process of its group: SIGTERM (a clean shutdown), then SIGKILL after `graceMs`.
 * What it started in a group of its own (the allocator's relaunched worker, a private redis-server) follows
 * it by itself; whatever of it is still there after another `graceMs` is killed too.
 */
export async function stopCli(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.pid === undefined) return;
  const below = descendants(child.pid);
  if (groupAlive(child)) {
    signalGroup(child, 'SIGTERM');
    if (!(await gone(() => groupAlive(child), graceMs))) {
      signalGroup(child, 'SIGKILL');
      await gone(() => groupAlive(child), 5_000);
    }
  }
  if (!(await gone(() => below.some(isAlive), graceMs))) for (const pid of below) killQuietly(pid, 'SIGKILL');
  started.delete(child);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

/** Stops every command this process started that is still running. */
export async function stopAllCli(graceMs = STOP_GRACE_MS): Promise<void> {
  await Promise.all([...started].map((child) => stopCli(child, graceMs)));
}

try {
  afterAll(() => stopAllCli(), 30_000);
} catch {
  // Imported outside a Vitest test file.
}
// Last resort, synchronous: whatever is left dies with this process.
process.once('exit', () => {
  for (const child of started) {
    const below = descendants(child.pid!);
    signalGroup(child, 'SIGKILL');
    for (const pid of below) killQuietly(pid, 'SIGKILL');
  }
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
