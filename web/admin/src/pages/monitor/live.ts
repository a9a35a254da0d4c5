// Live updates for the monitor pages: one EventSource per page, reopened with backoff when the browser
// gives up on it, closed when the route's signal fires (the user left the page). A small status
// indicator says whether the page is live. Pages refresh what they show on events, throttled, and
// once more after a reconnect (events may have been missed while the stream was down).
import { h } from '../../ui/dom.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveOptions {
  signal: AbortSignal;
  /** Named SSE events to listen to ("task", "stats", …); unnamed `message` events are always delivered as "message". */
  events: string[];
  onEvent(type: string, data: unknown, lastEventId: string): void;
  /** Called on every change of connection state; after a reconnect, `resumed` is true (refresh what you show). */
  onState?(state: LiveState, resumed: boolean): void;
  /** When we reopen the stream ourselves, the last event id seen goes in this query parameter (the browser's own reconnects send Last-Event-ID). */
  resumeParam?: string;
}

export interface Live {
  readonly state: LiveState;
  close(): void;
}

const MAX_DELAY_MS = 30_000;

export function openLive(url: string, o: LiveOptions): Live {
  let source: EventSource | null = null;
  let state: LiveState = 'connecting';
  let closed = false;
  let attempts = 0;
  let timer: number | undefined;
  let wasDown = false;
  let lastId = '';

  const setState = (next: LiveState) => {
    if (next === state && next !== 'live') return;
    const resumed = next === 'live' && wasDown;
    if (next === 'live') wasDown = false;
    if (next === 'reconnecting' || next === 'offline') wasDown = true;
    const changed = next !== state;
    state = next;
    if (changed || resumed) o.onState?.(state, resumed);
  };

  const deliver = (type: string) => (e: MessageEvent<string>) => {
    if (closed) return;
    attempts = 0;
    setState('live');
    let data: unknown = e.data;
    try {
      data = JSON.parse(e.data);
    } catch {
      /* plain text data */
    }
    if (e.lastEventId) lastId = e.lastEventId;
    o.onEvent(type, data, e.lastEventId);
  };

  const open = () => {
    if (closed) return;
    let target = url;
    if (lastId && o.resumeParam) {
      const u = new URL(url, location.href);
      u.searchParams.set(o.resumeParam, lastId);
      target = u.pathname + u.search;
    }
    source = new EventSource(target, { withCredentials: true });
    source.onopen = () => {
      attempts = 0;
      setState('live');
    };
    source.onmessage = deliver('message');
    for (const type of o.events) source.addEventListener(type, deliver(type) as EventListener);
    source.onerror = () => {
      if (closed || !source) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error, say): reopen ourselves, with backoff.
        source.close();
        source = null;
        setState(navigator.onLine === false ? 'offline' : 'reconnecting');
        const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempts);
        attempts += 1;
        timer = window.setTimeout(open, delay);
      } else {
        // EventSource reconnects by itself (sending Last-Event-ID).
        setState('reconnecting');
      }
    };
  };

  const close = () => {
    if (closed) return;
    closed = true;
    window.clearTimeout(timer);
    source?.close();
    source = null;
    o.signal.removeEventListener('abort', close);
  };
  if (o.signal.aborted) closed = true;
  else {
    o.signal.addEventListener('abort', close);
    open();
  }
  return {
    get state() {
      return state;
    },
    close,
  };
}

/** A small "● Live" / "Reconnecting…" indicator for a page heading. */
export function liveIndicator(): { element: HTMLElement; set(state: LiveState): void } {
  const element = h('span', { class: 'live-indicator live-connecting', role: 'status', 'aria-live': 'polite', 'data-testid': 'live-indicator' }, 'Connecting…');
  const labels: Record<LiveState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
  return {
    element,
    set(state) {
      element.className = `live-indicator live-${state}`;
      element.textContent = labels[state];
      element.dataset.state = state;
    },
  };
}

/**
 * Runs `fn` at most once per `ms`: the first call runs at once, calls during the pause collapse into
 * one trailing run. Never two runs at the same time (a slow fetch delays the next one). Stops on `signal`.
 */
export function throttled(fn: () => Promise<unknown> | unknown, ms: number, signal: AbortSignal): () => void {
  let last = 0;
  let timer: number | undefined;
  let running = false;
  let again = false;
  const run = async () => {
    timer = undefined;
    if (signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    last = Date.now();
    try {
      await fn();
    } catch {
      /* the page shows its own errors; the next event tries again */
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      schedule();
    }
  };
  const schedule = () => {
    if (signal.aborted || timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = window.setTimeout(() => void run(), wait);
  };
  signal.addEventListener('abort', () => window.clearTimeout(timer));
  return schedule;
}
