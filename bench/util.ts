// Small helpers the benches share.
import { loadavg } from 'node:os';

/** The p-th percentile of an ascending list (nearest rank); NaN when the list is empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The 1, 5 and 15 minute load averages, for a report's header. */
export const loadAverage = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** A whole number with thousands separators. */
export const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
