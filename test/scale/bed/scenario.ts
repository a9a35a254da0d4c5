// A fault under load: enqueue from the client host for a while, inject the fault part-way, wait for
// every acknowledged task to end, then count (lost, executions per task, stalls) and print the figures.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from './agent-client.js';
import type { Host } from './host.js';
import type { LoadResult, SettleResult } from './agent.js';
import { report, tally, waitForEnds, type Tally } from './tally.js';

export interface FaultRun {
  load: LoadResult;
  settled: SettleResult;
  tally: Tally;
  fault: Record<string, unknown>;
}

export async function faultUnderLoad(options: {
  label: string;
  agent: Agent;
  workers: Host[];
  idPrefix: string;
  durationMs: number;
  faultAfterMs: number;
  fault: () => Promise<Record<string, unknown> | void>;
  taskMs?: number;
  producers?: number;
  /** Enqueues a second (default 300: about what the two worker hosts finish, so the backlog stays short). */
  ratePerSecond?: number;
  settleTimeoutMs?: number;
}): Promise<FaultRun> {
  const loading = options.agent.load({ task: 'scale.record', args: [options.taskMs ?? 20], idPrefix: options.idPrefix, durationMs: options.durationMs, concurrency: options.producers ?? 8, ratePerSecond: options.ratePerSecond ?? 300 });
  await sleep(options.faultAfterMs);
  const faultStarted = Date.now();
  const fault = { ...((await options.fault()) ?? {}), faultTookMs: Date.now() - faultStarted };
  const load = await loading;
  const executions = await waitForEnds(load.acked, options.workers, options.settleTimeoutMs ?? 60_000);
  const settled = await options.agent.settle(load.acked, 30_000);
  const t = tally(load.acked, executions);
  // When the tasks that ran twice first ran, relative to the fault (a failover's lost worker writes show here).
  const starts = new Map<string, number[]>();
  const acked = new Set(load.acked);
  for (const e of executions) if (e.event === 'start' && acked.has(e.id)) starts.set(e.id, [...(starts.get(e.id) ?? []), e.at]);
  const firstOfTwice = [...starts.values()].filter((s) => s.length > 1).map((s) => s[0]! - faultStarted);
  report(options.label, {
    acknowledged: t.acknowledged,
    refused: load.refused,
    lost: t.lost,
    missingInRedis: settled.missing.length,
    redisStates: settled.states,
    ...(Object.keys(settled.failures).length ? { failures: settled.failures } : {}),
    duplicatedTasks: t.duplicatedTasks,
    extraExecutions: t.extraExecutions,
    ...(firstOfTwice.length ? { twiceFirstRanMsFromFault: [Math.min(...firstOfTwice), Math.max(...firstOfTwice)] } : {}),
    longestEnqueueGapMs: load.longestAckGapMs,
    longestStallMs: t.longestStallMs,
    perHost: t.perHost,
    ...fault,
    ...(Object.keys(load.errors).length ? { refusals: load.errors } : {}),
  });
  return { load, settled, tally: t, fault };
}
