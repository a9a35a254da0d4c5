// Form building blocks with Django-admin behaviour: a label, the control, help text, and the
// server's error for that field shown right next to it.
import type { ApiError } from '../api.js';
import { h } from './dom.js';

export interface FieldOptions {
  /** The API field path this control edits ("schedule.crontab.minute"): errors for it land here. */
  name: string;
  label: string;
  control: HTMLElement;
  help?: string | Node;
  required?: boolean;
}

let nextId = 0;

/** A labelled field row; errors for `name` (or paths below it) are shown in its error slot. */
export function field(o: FieldOptions): HTMLElement {
  const id = o.control.id || `f-${o.name.replace(/[^\w-]/g, '-')}-${++nextId}`;
  o.control.id = id;
  const errorId = `${id}-error`;
  const helpId = `${id}-help`;
  o.control.setAttribute('aria-describedby', `${errorId}${o.help ? ` ${helpId}` : ''}`);
  return h(
    'div',
    { class: 'field', 'data-field': o.name },
    h('label', { for: id }, o.label, o.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    h('div', { class: 'control' }, o.control, o.help ? h('div', { class: 'help', id: helpId }, o.help) : null, h('div', { class: 'field-error', id: errorId, role: 'alert', hidden: true })),
  );
}

type Attrs = Record<string, string | number | boolean | null | undefined>;

export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { type: 'text', name, ...attrs });
}

export function textarea(name: string, value = '', attrs: Attrs = {}): HTMLTextAreaElement {
  const el = h('textarea', { name, rows: 3, ...attrs });
  el.value = value;
  return el;
}

export function select(name: string, options: { value: string; label: string }[], value = '', attrs: Attrs = {}): HTMLSelectElement {
  const el = h('select', { name, ...attrs }, ...options.map((o) => h('option', { value: o.value }, o.label)));
  el.value = value;
  return el;
}

export function checkbox(name: string, checked: boolean, label: string): HTMLLabelElement {
  const box = h('input', { type: 'checkbox', name });
  box.checked = checked;
  return h('label', { class: 'checkbox' }, box, ` ${label}`);
}

/** Clears the errors shown by showErrors. */
export function clearErrors(form: HTMLElement): void {
  form.querySelector('.form-errors')?.remove();
  for (const slot of form.querySelectorAll<HTMLElement>('.field-error')) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const f of form.querySelectorAll('.field.has-error')) f.classList.remove('has-error');
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

/**
 * Shows an API error: each `fields` entry next to the field whose name is the path or its nearest
 * parent ("schedule.crontab.minute" → "schedule.crontab" → "schedule"); the rest in a list on top.
 * `quiet` shows only the errors that have a field, without the summary, scrolling or moving the focus.
 */
export function showErrors(form: HTMLElement, error: ApiError | Error, options: { quiet?: boolean } = {}): void {
  clearErrors(form);
  const fields = (error as ApiError).fields ?? {};
  const unplaced: string[] = [];
  let first: HTMLElement | undefined;
  for (const [path, message] of Object.entries(fields)) {
    const parts = path.split('.');
    let target: HTMLElement | null = null;
    while (parts.length && !target) {
      target = form.querySelector<HTMLElement>(`.field[data-field="${CSS.escape(parts.join('.'))}"]`);
      parts.pop();
    }
    if (!target) {
      unplaced.push(path && path !== '_' ? `${path}: ${message}` : message);
      continue;
    }
    target.classList.add('has-error');
    const slot = target.querySelector<HTMLElement>('.field-error')!;
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    slot.hidden = false;
    target.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
    first ??= target;
  }
  // Quiet: live feedback while typing (a preview, say) – next to the fields only, no summary, focus stays.
  if (options.quiet) return;
  if (!Object.keys(fields).length) unplaced.push(error.message);
  if (unplaced.length) {
    const box = h('div', { class: 'form-errors', role: 'alert' }, h('p', {}, Object.keys(fields).length ? 'Please correct the errors below.' : 'This could not be saved.'), h('ul', {}, ...unplaced.map((m) => h('li', {}, m))));
    form.prepend(box);
    first ??= box;
  } else {
    form.prepend(h('div', { class: 'form-errors', role: 'alert' }, h('p', {}, 'Please correct the errors below.')));
  }
  first?.scrollIntoView({ block: 'center' });
  first?.querySelector<HTMLElement>('input, select, textarea')?.focus();
}

/** Disables a form's submit buttons while `work` runs. */
export async function busy<T>(form: HTMLElement, work: () => Promise<T>): Promise<T> {
  const buttons = [...form.querySelectorAll<HTMLButtonElement>('button')];
  for (const b of buttons) b.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    for (const b of buttons) b.disabled = false;
    form.removeAttribute('aria-busy');
  }
}
