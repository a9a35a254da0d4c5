// glibc gives every thread that allocates its own heap arena (up to 8 per core), and libvips' worker
// threads leave each one holding freed memory: a thumbnail worker grew to 400-700 MB that way.
// MALLOC_ARENA_MAX is read by glibc when a process starts, so a worker that wants it relaunches
// itself once with it set; its pool children inherit it. The parent stays as a thin wrapper that
// passes signals on and exits with the child's code.
// Fewer arenas are not enough: glibc raises its mmap threshold each time a large block is freed (up
// to 32 MB), after which a progressive JPEG's coefficient buffers (up to ~90 MB for a 15-megapixel
// photo) come from the arenas and stay in the process once freed, so a worker's RSS climbed from 75 MB
// to 250 MB over a run of the photo corpus one image at a time. A fixed threshold (which also turns the
// dynamic one off) and trim threshold send every block of 64 KiB or more back to the system when it is
// freed: the same run stays at 75 MB between images, with no CPU cost measured (docs/performance.md).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const ARENA_MAX = '2';
/** What the relaunched worker gets; the thresholds only where the user has not set them. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: ARENA_MAX,
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '65536',
};
const RELAUNCHED = 'SELER_RELAUNCHED';

/** glibc's version, or undefined on musl, macOS and Windows. */
export function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

/** Whether this command runs a worker that should be relaunched with MALLOC_ARENA_MAX (the user's own setting wins). */
export function wantsAllocatorRelaunch(argv: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const command = argv[2];
  if (command !== 'worker' && command !== 'start') return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  if (env.MALLOC_ARENA_MAX !== undefined || env[RELAUNCHED] !== undefined) return false;
  return glibcVersion() !== undefined;
}

/** The relaunched worker's environment: ALLOCATOR_ENV under the user's own settings. */
export function allocatorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...ALLOCATOR_ENV, ...env, [RELAUNCHED]: '1' };
}

/** Runs this same command again with MALLOC_ARENA_MAX (and the thresholds) set; resolves with the exit code to end with. */
export function relaunchWithArenaMax(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    env: allocatorEnv(process.env),
    // A process group of its own: a terminal's Ctrl-C reaches the wrapper only, which passes it on once.
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  let listening = false;
  child.on('message', (message: unknown) => {
    if ((message as { seler?: string } | null)?.seler === 'signals') listening = true;
  });
  // Passed on over the IPC channel once the child listens there, so it can tell a copy of a signal it
  // also got directly (systemd signals every process of a unit) from a second one; a real signal before.
  const forward = (signal: NodeJS.Signals) => {
    if (listening && child.connected) child.send({ seler: 'signal', signal });
    else child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`seler: could not start the worker process: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

export type SignalSource = 'direct' | 'wrapper';

/**
 * In the relaunched child: signals the wrapper passes on arrive through `onSignal` with source
 * 'wrapper'. The wrapper gone while this process runs means it was killed (SIGKILL) or crashed, so
 * this process goes the same way at once; its tasks are recovered as after any crash.
 */
export function followWrapper(onSignal: (signal: NodeJS.Signals, source: SignalSource) => void): void {
  if (process.env[RELAUNCHED] === undefined || !process.connected) return;
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.on('message', (message: unknown) => {
    const m = message as { seler?: string; signal?: NodeJS.Signals } | null;
    if (m?.seler === 'signal' && m.signal) onSignal(m.signal, 'wrapper');
  });
  process.send?.({ seler: 'signals' });
  // The channel must not keep the process alive by itself.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Drops the second copy of one signal: the same signal from the other source within a second
 * (systemd's stop signals the wrapper and this process). Two from the same source are two requests.
 */
export function signalDeduper(handle: (signal: NodeJS.Signals) => void): (signal: NodeJS.Signals, source: SignalSource) => void {
  const unmatched: { signal: NodeJS.Signals; source: SignalSource; at: number }[] = [];
  return (signal, source) => {
    const now = Date.now();
    const twin = unmatched.findIndex((d) => d.signal === signal && d.source !== source && now - d.at < 1000);
    if (twin >= 0) {
      unmatched.splice(twin, 1);
      return;
    }
    unmatched.push({ signal, source, at: now });
    handle(signal);
  };
}
