// Counting what happened to acknowledged work: executions per task read from every worker host's
// executions.log (written by the scale.record task), lost tasks, duplicates, and the longest stall.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Host } from './host.js';

export interface Execution {
  event: 'start' | 'end';
  id: string;
  at: number;
  host: string;
}

export function readExecutions(hosts: Host[]): Execution[] {
  const all: Execution[] = [];
  for (const host of hosts) {
    const file = path.join(host.dir, 'executions.log');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [event, id, at] = line.split(' ');
      if ((event === 'start' || event === 'end') && id && at) all.push({ event, id, at: Number(at), host: host.name });
    }
  }
  return all.sort((a, b) => a.at - b.at);
}

export interface Tally {
  acknowledged: number;
  /** Acknowledged tasks that never ran to their end anywhere. */
  lost: number;
  lostIds: string[];
  /** Tasks started more than once, and the extra starts. */
  duplicatedTasks: number;
  extraExecutions: number;
  maxExecutionsPerTask: number;
  /** Starts per host. */
  perHost: Record<string, number>;
  /** The longest time in which no task ended anywhere, between the first and the last end. */
  longestStallMs: number;
}

export function tally(acked: string[], executions: Execution[]): Tally {
  const starts = new Map<string, number>();
  const ended = new Set<string>();
  const perHost: Record<string, number> = {};
  const wanted = new Set(acked);
  const ends: number[] = [];
  for (const e of executions) {
    if (!wanted.has(e.id)) continue;
    if (e.event === 'start') {
      starts.set(e.id, (starts.get(e.id) ?? 0) + 1);
      perHost[e.host] = (perHost[e.host] ?? 0) + 1;
    } else {
      ended.add(e.id);
      ends.push(e.at);
    }
  }
  const lostIds = acked.filter((id) => !ended.has(id));
  const counts = [...starts.values()];
  let longestStallMs = 0;
  for (let i = 1; i < ends.length; i++) longestStallMs = Math.max(longestStallMs, ends[i]! - ends[i - 1]!);
  return {
    acknowledged: acked.length,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, 10),
    duplicatedTasks: counts.filter((c) => c > 1).length,
    extraExecutions: counts.reduce((sum, c) => sum + Math.max(0, c - 1), 0),
    maxExecutionsPerTask: counts.length ? Math.max(...counts) : 0,
    perHost,
    longestStallMs,
  };
}

/** The tasks started on `host` before `at` that had not ended there by then (in flight at a fault). */
export function inFlightIds(executions: Execution[], host: string, at: number): Set<string> {
  const open = new Set<string>();
  for (const e of executions) {
    if (e.at > at) break;
    if (e.host !== host) continue;
    if (e.event === 'start') open.add(e.id);
    else open.delete(e.id);
  }
  return open;
}

/** How many tasks were in flight on `host` at `at`. */
export function inFlightAt(executions: Execution[], host: string, at: number): number {
  return inFlightIds(executions, host, at).size;
}

/** One line of figures in the run's output (the README's scaling section quotes these). */
export function report(label: string, figures: Record<string, unknown>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  process.stdout.write(`[scale] ${label}: ${text}\n`);
}

/** Waits until every acknowledged id has an end in some executions.log (or the deadline). */
export async function waitForEnds(acked: string[], hosts: Host[], timeoutMs: number): Promise<Execution[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const executions = readExecutions(hosts);
    const ended = new Set(executions.filter((e) => e.event === 'end').map((e) => e.id));
    if (acked.every((id) => ended.has(id)) || Date.now() > deadline) return executions;
    await new Promise((r) => setTimeout(r, 500));
  }
}
