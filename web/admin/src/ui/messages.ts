// Django's messages: a note shown at the top of the next page rendered ("The periodic task … was added.").
import { h } from './dom.js';

type Kind = 'success' | 'error' | 'info' | 'warning';
let pending: { kind: Kind; text: string | Node }[] = [];
let area: HTMLElement | undefined;

export function setMessageArea(el: HTMLElement): void {
  area = el;
}

/** Queues a message for the next page (use before navigate()). */
export function flash(kind: Kind, text: string | Node): void {
  pending.push({ kind, text });
}

/** Shows a message on the current page now (text, or a node with links). */
export function notify(kind: Kind, text: string | Node): void {
  if (!area) return;
  const item = h('li', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  const close = h('button', { type: 'button', class: 'message-close', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => item.remove());
  item.append(close);
  area.append(item);
}

/** Called by the layout on every navigation: clears old messages and shows queued ones. */
export function showPendingMessages(): void {
  area?.replaceChildren();
  for (const m of pending) notify(m.kind, m.text);
  pending = [];
}
