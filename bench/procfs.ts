// What /proc says about a process tree (Linux): CPU seconds, peak RSS, which program each process runs.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux build Node supports

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU seconds of the process itself (not its waited-for children). */
  cpuSeconds: number;
}

function readStat(pid: number, file = `/proc/${pid}/stat`): ProcInfo | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    return { pid, ppid: Number(fields[1]), comm, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined; // gone
  }
}

/** `root` and every live descendant. */
export function processTree(root: number): ProcInfo[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((p): p is ProcInfo => !!p);
  const tree: ProcInfo[] = [];
  const wanted = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if ((wanted.has(p.ppid) || p.pid === root) && !tree.includes(p)) {
        tree.push(p);
        wanted.add(p.pid);
        grew = true;
      }
    }
  }
  return tree;
}

/**
 * CPU seconds of a process's threads, summed by kind: `main` (the JavaScript thread), and the others by
 * their name (`libuv-worker`: fs, DNS, sharp's calls; `V8 DefaultWorke`: V8's compiler and GC helpers;
 * libvips's own threads are `vips-*` or `sharp-*` per libvips version).
 */
export function threadCpu(pid: number): Map<string, number> {
  const byKind = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byKind; // gone
  }
  for (const tid of tids) {
    const thread = readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (!thread) continue;
    const kind = thread.pid === pid ? 'main' : thread.comm.replace(/[-_]?\d+$/, '');
    byKind.set(kind, (byKind.get(kind) ?? 0) + thread.cpuSeconds);
  }
  return byKind;
}

/** VmHWM (peak resident set) in MiB; 0 for a process that is gone. */
export function peakRssMiB(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Starts VmHWM again from the current RSS (clear_refs 5; needs the right to write the process's files). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export const isRedis = (p: ProcInfo) => p.comm.startsWith('redis-server');
export const isNode = (p: ProcInfo) => p.comm === 'node' || p.comm.startsWith('seler');
