// Pieces shared by the monitor pages: the heading bar with the live indicator, live refresh wiring,
// pretty JSON, and small formatters.
import type { RouteContext } from '../../router.js';
import { h } from '../../ui/dom.js';
import { formatDateTime, relativeTime } from '../../ui/format.js';
import { monitorApi, type LiveTaskEvent } from './api.js';
import { liveIndicator, openLive, throttled } from './live.js';

/** The row under the page heading: live indicator on the left, page actions on the right. */
export function pageBar(...actions: (Node | string)[]): { element: HTMLElement; indicator: ReturnType<typeof liveIndicator> } {
  const indicator = liveIndicator();
  const element = h('div', { class: 'monitor-bar' }, indicator.element, h('span', { class: 'spacer' }), ...actions);
  return { element, indicator };
}

/**
 * Keeps a page live: opens the monitor's event stream and calls `refresh` (throttled to one call per
 * `ms`) on every task event that `wanted` accepts, and once more after the stream reconnects. The
 * stream closes when the user leaves the page.
 */
export function keepLive(
  ctx: RouteContext,
  indicator: ReturnType<typeof liveIndicator>,
  refresh: () => Promise<unknown> | unknown,
  options: {
    ms?: number;
    /** Server-side filter of the stream. */
    filter?: { taskId?: string; name?: string; queue?: string };
    wanted?: (event: LiveTaskEvent) => boolean;
    onEvent?: (event: LiveTaskEvent) => void;
  } = {},
): void {
  const schedule = throttled(refresh, options.ms ?? 1500, ctx.signal);
  openLive(monitorApi.eventsUrl(options.filter), {
    signal: ctx.signal,
    resumeParam: 'lastEventId',
    events: ['task', 'worker', 'queue'],
    onEvent(type, data) {
      if (type === 'task' || type === 'message') {
        const event = data as LiveTaskEvent;
        if (!event || typeof event !== 'object') return;
        options.onEvent?.(event);
        if (options.wanted && !options.wanted(event)) return;
      }
      schedule();
    },
    onState(state, resumed) {
      indicator.set(state);
      if (resumed) schedule();
    },
  });
}

/** Pretty JSON in a <pre>; `undefined` shows as a dash. */
export function jsonBlock(value: unknown, testId?: string): HTMLElement {
  if (value === undefined) return h('p', { class: 'muted' }, '—');
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return h('pre', { class: 'json', 'data-testid': testId }, ...linkified(text));
}

/** Strings that are this site's paths or http(s) URLs (an archive's URL in a result) become links; nothing else does. */
const LINKABLE = /"((?:\/(?![/\\])|https?:\/\/)[^"\\\s]*)"/g;

function linkified(text: string): (string | HTMLElement)[] {
  const out: (string | HTMLElement)[] = [];
  let last = 0;
  for (const match of text.matchAll(LINKABLE)) {
    const start = match.index + 1;
    out.push(text.slice(last, start), h('a', { href: match[1]!, target: '_blank', rel: 'noopener noreferrer' }, match[1]!));
    last = start + match[1]!.length;
  }
  out.push(text.slice(last));
  return out;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayClock = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** A compact <time> for tables: the clock time today, the date and time before; full date and relative time as a tooltip. */
export function shortTime(iso: string | null | undefined): HTMLElement {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { class: 'muted' }, '—');
  const today = d.toDateString() === new Date().toDateString();
  return h('time', { datetime: iso, title: `${formatDateTime(iso)} · ${relativeTime(iso)}` }, today ? clock.format(d) : dayClock.format(d));
}

/** 3 h 12 min, 45 s, 2 d 3 h. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hrs / 24)} d${hrs % 24 ? ` ${hrs % 24} h` : ''}`;
}

/** A stat card; `href` makes the figure a link (to the filtered task list, say). */
export function statCard(label: string, testId: string, href?: string): { element: HTMLElement; set(value: string, sub?: string, tone?: 'good' | 'bad' | 'warn' | ''): void } {
  const value = h('div', { class: 'value', 'data-testid': `${testId}-value` }, '—');
  const sub = h('div', { class: 'sub' });
  const body = [value, h('div', { class: 'label' }, label), sub];
  const element = h('div', { class: 'stat', 'data-testid': testId }, ...(href ? [h('a', { href }, ...body)] : body));
  return {
    element,
    set(v, s = '', tone = '') {
      value.textContent = v;
      sub.textContent = s;
      element.classList.remove('good', 'bad', 'warn');
      if (tone) element.classList.add(tone);
    },
  };
}

/** A titled panel (box) holding a table or text. */
export function panel(title: string, ...children: (Node | string)[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

/** A tiny bar chart of a series (queue throughput), drawn with elements sized through the CSSOM. */
export function sparkline(values: number[], label: string): HTMLElement {
  const max = Math.max(1, ...values);
  const el = h('span', { class: 'spark', role: 'img', 'aria-label': label, title: label });
  for (const v of values) {
    const bar = h('span', {});
    bar.style.height = `${Math.round((v / max) * 100)}%`;
    el.append(bar);
  }
  return el;
}
