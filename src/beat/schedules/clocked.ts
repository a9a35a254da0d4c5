import type { ClockedSpec } from './types.js';

/** A clocked schedule fires once, at `at`; null once that is not after `after`. */
export function nextClocked(clocked: ClockedSpec, after: Date): Date | null {
  const at = Date.parse(clocked.at);
  return Number.isNaN(at) || at <= after.getTime() ? null : new Date(at);
}
