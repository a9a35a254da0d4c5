// Times, durations and numbers as the console shows them.
import { h } from './dom.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

/** "3 minutes ago", "in 2 hours". */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = (new Date(iso).getTime() - now) / 1000;
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity]];
  let value = diff;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return relative.format(Math.round(value), 'year');
}

/** A <time> with the local date and time, the relative time as a tooltip. */
export function timeCell(iso: string | null | undefined): HTMLElement {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: `${relativeTime(iso)} · ${iso}` }, formatDateTime(iso));
}

/** 0.4 → "0.4 ms", 1530 → "1.53 s", 95000 → "1 min 35 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const integer = new Intl.NumberFormat();
export const formatNumber = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : integer.format(n));

/** A coloured Celery state badge: SUCCESS, FAILURE, … */
export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state.toLowerCase()}` }, state);
}

export function yesNo(value: boolean, labels: [string, string] = ['Yes', 'No']): HTMLElement {
  return h('span', { class: `flag ${value ? 'flag-yes' : 'flag-no'}`, title: value ? labels[0] : labels[1] }, value ? labels[0] : labels[1]);
}

/** A task id short enough for a column: a periodic run keeps its `beat-<task>-` part (`beat-2-3a6020…`). */
export function shortTaskId(id: string): string {
  const beat = /^(beat-\d+-)([0-9a-f]{7,})$/.exec(id);
  if (beat) return `${beat[1]}${beat[2]!.slice(0, 6)}…`;
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}
