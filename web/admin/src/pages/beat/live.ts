// Re-runs `fn` every `ms` while the page is open and visible (one call at a time, never overlapping);
// stops when the route's signal aborts.
export function every(signal: AbortSignal, ms: number, fn: () => Promise<unknown>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (signal.aborted) return;
    if (!document.hidden) {
      try {
        await fn();
      } catch {
        /* the next tick tries again; the page shows its own errors */
      }
    }
    if (!signal.aborted) timer = setTimeout(() => void tick(), ms);
  };
  timer = setTimeout(() => void tick(), ms);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}
