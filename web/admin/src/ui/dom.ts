// The Thumbnailer's element helpers, shared with the admin console.
export { h, append, icon, plural, listJoin, formatBytes } from '../../../src/dom.js';

/** Removes every child of an element. */
export function clear(el: Element): void {
  el.replaceChildren();
}
