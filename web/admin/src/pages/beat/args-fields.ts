// The arguments of a periodic task. When the chosen task declares a JSON Schema for its positional
// or keyword arguments (GET /registered-tasks), a form is generated from it – one input per positional
// item or property, typed (number, text, yes/no, a choice for an enum) – otherwise, or on request,
// raw JSON text areas. Errors come back on "args" / "kwargs" (server) or "args.0" / "kwargs.x" (here).
import { h } from '../../ui/dom.js';
import { field, textarea } from '../../ui/form.js';
import type { JsonSchema, RegisteredTask } from './types.js';

type Primitive = 'number' | 'integer' | 'string' | 'boolean' | 'enum';

interface Item {
  /** Positional index or keyword name. */
  key: string;
  label: string;
  schema: JsonSchema;
  kind: Primitive;
  required: boolean;
}

interface Plan {
  items: Item[];
}

const firstType = (s: JsonSchema): string | undefined => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

function primitive(s: JsonSchema): Primitive | undefined {
  if (Array.isArray(s.enum) && s.enum.length && s.enum.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return 'enum';
  const t = firstType(s);
  return t === 'number' || t === 'integer' || t === 'string' || t === 'boolean' ? t : undefined;
}

/** Positional items of a tuple schema (also a union of tuples that extend each other: optional trailing items). */
export function positionalPlan(schema: JsonSchema | null): Plan | undefined {
  if (!schema) return undefined;
  let tuples: JsonSchema[] = [schema];
  if (schema.anyOf || schema.oneOf) tuples = (schema.anyOf ?? schema.oneOf)!;
  const isTuple = (t: JsonSchema) => firstType(t) === 'array' && (t.items === false || (t.items === undefined && Array.isArray(t.prefixItems)));
  if (!tuples.length || !tuples.every(isTuple)) return undefined;
  const longest = tuples.reduce((a, b) => ((b.prefixItems?.length ?? 0) > (a.prefixItems?.length ?? 0) ? b : a));
  const items = longest.prefixItems ?? [];
  // Every shorter tuple must be a prefix of the longest (then the trailing items are simply optional).
  for (const t of tuples) if ((t.prefixItems ?? []).some((s, i) => JSON.stringify(s) !== JSON.stringify(items[i]))) return undefined;
  const min = Math.min(...tuples.map((t) => t.minItems ?? t.prefixItems?.length ?? 0));
  const plan: Item[] = [];
  for (const [i, s] of items.entries()) {
    const kind = primitive(s);
    if (!kind) return undefined;
    plan.push({ key: String(i), label: s.title ?? `Argument ${i + 1}`, schema: s, kind, required: i < min });
  }
  return { items: plan };
}

/** Properties of an object schema whose values are all simple. */
export function keywordPlan(schema: JsonSchema | null): Plan | undefined {
  if (!schema || firstType(schema) !== 'object' || !schema.properties) return undefined;
  const required = new Set(schema.required ?? []);
  const plan: Item[] = [];
  for (const [key, s] of Object.entries(schema.properties)) {
    const kind = primitive(s);
    if (!kind) return undefined;
    plan.push({ key, label: s.title ?? key, schema: s, kind, required: required.has(key) });
  }
  return { items: plan };
}

function describe(item: Item): string {
  const s = item.schema;
  const parts: string[] = [];
  if (s.description) parts.push(s.description);
  const range = (lo?: number, hi?: number) => (lo !== undefined && hi !== undefined ? ` from ${lo} to ${hi}` : lo !== undefined ? ` of at least ${lo}` : hi !== undefined ? ` of at most ${hi}` : '');
  if (item.kind === 'number') parts.push(`A number${range(s.minimum, s.maximum)}.`);
  if (item.kind === 'integer') parts.push(`A whole number${range(s.minimum, s.maximum)}.`);
  if (item.kind === 'string' && (s.minLength !== undefined || s.maxLength !== undefined)) parts.push(`Text${range(s.minLength, s.maxLength)} characters long.`);
  if (!item.required) parts.push('Optional.');
  return parts.join(' ');
}

interface Control {
  item: Item;
  el: HTMLInputElement | HTMLSelectElement;
  get(): { value?: unknown; error?: string };
  set(v: unknown): void;
}

function control(item: Item, prefix: string): Control {
  const name = `${prefix}.${item.key}`;
  const s = item.schema;
  const testid = `arg-${prefix}-${item.key}`;
  if (item.kind === 'enum') {
    const options = [...(item.required ? [] : [{ value: '', label: '—' }]), ...s.enum!.map((v, i) => ({ value: String(i), label: String(v) }))];
    const el = h('select', { name, 'data-testid': testid }, ...options.map((o) => h('option', { value: o.value }, o.label)));
    return {
      item,
      el,
      get: () => (el.value === '' ? {} : { value: s.enum![Number(el.value)] }),
      set: (v) => {
        const i = s.enum!.findIndex((e) => e === v);
        el.value = i >= 0 ? String(i) : item.required ? '0' : '';
      },
    };
  }
  if (item.kind === 'boolean') {
    const el = h('input', { type: 'checkbox', name, 'data-testid': testid });
    return { item, el, get: () => ({ value: el.checked }), set: (v) => (el.checked = v === true) };
  }
  const numeric = item.kind === 'number' || item.kind === 'integer';
  const el = h('input', {
    type: numeric ? 'number' : 'text',
    name,
    step: item.kind === 'integer' ? 1 : numeric ? 'any' : undefined,
    min: s.minimum,
    max: s.maximum,
    minlength: s.minLength,
    maxlength: s.maxLength,
    class: numeric ? 'narrow' : undefined,
    'data-testid': testid,
  });
  return {
    item,
    el,
    get: () => {
      const raw = el.value;
      if (raw === '' && el.validity.badInput) return { error: 'Enter a number.' };
      if (raw === '') return item.required && numeric ? { error: 'This field is required.' } : numeric ? {} : { value: raw };
      if (!numeric) return { value: raw };
      const n = Number(raw);
      if (!Number.isFinite(n)) return { error: 'Enter a number.' };
      if (item.kind === 'integer' && !Number.isInteger(n)) return { error: 'Enter a whole number.' };
      if (s.minimum !== undefined && n < s.minimum) return { error: `Ensure this value is greater than or equal to ${s.minimum}.` };
      if (s.maximum !== undefined && n > s.maximum) return { error: `Ensure this value is less than or equal to ${s.maximum}.` };
      return { value: n };
    },
    set: (v) => (el.value = v === undefined || v === null ? '' : String(v)),
  };
}

export interface ArgsFields {
  element: HTMLElement;
  /** The chosen task changed (undefined: a custom task name). */
  setTask(task: RegisteredTask | undefined): void;
  /** The values to send, or the field errors found before sending. */
  read(): { args: unknown; kwargs: unknown; errors: Record<string, string> };
}

const pretty = (v: unknown) => JSON.stringify(v ?? null, null, 0);

export function argsFields(options: { args: unknown[]; kwargs: Record<string, unknown>; readOnly?: boolean }): ArgsFields {
  let args: unknown = options.args;
  let kwargs: unknown = options.kwargs;
  let task: RegisteredTask | undefined;
  let raw = false;
  let controls: { args?: Control[]; kwargs?: Control[] } = {};
  let rawArgs: HTMLTextAreaElement | undefined;
  let rawKwargs: HTMLTextAreaElement | undefined;

  const rawToggle = h('input', { type: 'checkbox', name: 'rawArguments', 'data-testid': 'raw-arguments' });
  const rawLabel = h('label', { class: 'checkbox raw-toggle' }, rawToggle, ' Edit as JSON');
  const body = h('div', { class: 'args-body' });
  const element = h('fieldset', { class: 'arguments' }, h('legend', {}, 'Arguments'), body);

  /** Takes the values out of whatever is shown now (to keep them across a re-render). */
  function capture(): void {
    if (rawArgs) args = parseOr(rawArgs.value);
    if (rawKwargs) kwargs = parseOr(rawKwargs.value);
    if (controls.args) args = collect(controls.args, true).value;
    if (controls.kwargs) kwargs = collect(controls.kwargs, false).value;
  }

  function render(): void {
    const aPlan = raw ? undefined : positionalPlan(task?.argsSchema ?? null);
    const kPlan = raw ? undefined : keywordPlan(task?.kwargsSchema ?? null);
    const declared = !!task && (!!positionalPlan(task.argsSchema) || !!keywordPlan(task.kwargsSchema));
    controls = {};
    rawArgs = rawKwargs = undefined;
    const rows: HTMLElement[] = [];
    const intro = task?.argsSchema || task?.kwargsSchema
      ? declared
        ? `${task.name} declares its arguments: fill them in below${raw ? ' as JSON' : ''}.`
        : `${task.name} declares its arguments in a shape this form cannot show as fields: write them as JSON.`
      : task
        ? `${task.name} declares no argument schema: write the arguments as JSON.`
        : 'Write the arguments as JSON.';
    const toggle = declared && !options.readOnly ? rawLabel : null;
    if (aPlan) rows.push(field({ name: 'args', label: 'Positional arguments', control: h('div', { class: 'args-intro' }, h('span', {}, intro), toggle) }));
    else {
      rawArgs = textarea('args', pretty(Array.isArray(args) ? args : (args ?? [])), { 'data-testid': 'args-json', rows: 2, spellcheck: false });
      rows.push(field({ name: 'args', label: 'Positional arguments (args)', control: rawArgs, help: h('span', { class: 'args-intro' }, h('span', {}, `${intro} A JSON array, e.g. [2, 3].`), toggle) }));
    }
    if (aPlan) {
      controls.args = aPlan.items.map((item) => control(item, 'args'));
      const values = Array.isArray(args) ? args : [];
      controls.args.forEach((c, i) => c.set(values[i]));
      if (!aPlan.items.length) rows.push(h('p', { class: 'muted' }, 'It takes no positional arguments.'));
      for (const c of controls.args) rows.push(field({ name: `args.${c.item.key}`, label: c.item.label, control: c.el, required: c.item.required, help: describe(c.item) || undefined }));
    }
    if (kPlan) {
      controls.kwargs = kPlan.items.map((item) => control(item, 'kwargs'));
      const values = kwargs && typeof kwargs === 'object' && !Array.isArray(kwargs) ? (kwargs as Record<string, unknown>) : {};
      controls.kwargs.forEach((c) => c.set(values[c.item.key]));
      rows.push(field({ name: 'kwargs', label: 'Keyword arguments', control: h('div', { class: 'muted' }, kPlan.items.length ? 'As declared by the task:' : 'It takes no keyword arguments.') }));
      for (const c of controls.kwargs) rows.push(field({ name: `kwargs.${c.item.key}`, label: c.item.label, control: c.el, required: c.item.required, help: describe(c.item) || undefined }));
    } else {
      rows.push(field({ name: 'kwargs', label: 'Keyword arguments (kwargs)', control: (rawKwargs = textarea('kwargs', pretty(kwargs && typeof kwargs === 'object' ? kwargs : kwargs ?? {}), { 'data-testid': 'kwargs-json', rows: 2, spellcheck: false })), help: 'A JSON object, e.g. {"size": 128}.' }));
    }
    body.replaceChildren(...rows);
    if (options.readOnly) for (const c of body.querySelectorAll<HTMLInputElement>('input, select, textarea')) c.disabled = true;
  }

  rawToggle.addEventListener('change', () => {
    capture();
    raw = rawToggle.checked;
    render();
  });

  function collect(list: Control[], positional: boolean): { value: unknown; errors: Record<string, string> } {
    const errors: Record<string, string> = {};
    const prefix = positional ? 'args' : 'kwargs';
    const values: [string, unknown][] = [];
    for (const c of list) {
      const r = c.get();
      if (r.error) errors[`${prefix}.${c.item.key}`] = r.error;
      else if (r.value !== undefined) values.push([c.item.key, r.value]);
      else if (c.item.required) errors[`${prefix}.${c.item.key}`] = 'This field is required.';
    }
    if (!positional) return { value: Object.fromEntries(values), errors };
    // Optional trailing items: a gap before a filled one is an error.
    const out: unknown[] = [];
    for (const [i, c] of list.entries()) {
      const v = values.find(([k]) => k === c.item.key);
      if (v) {
        if (out.length !== i && !errors[`args.${c.item.key}`]) errors[`args.${list[out.length]!.item.key}`] = 'Fill this in before the arguments after it.';
        out.push(v[1]);
      }
    }
    return { value: out, errors };
  }

  function parseOr(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return text; // the server explains what is wrong with it
    }
  }

  render();

  return {
    element,
    setTask(next) {
      if (next?.name === task?.name) return;
      capture();
      task = next;
      raw = false;
      rawToggle.checked = false;
      render();
    },
    read() {
      const errors: Record<string, string> = {};
      let a: unknown;
      let k: unknown;
      if (controls.args) {
        const r = collect(controls.args, true);
        Object.assign(errors, r.errors);
        a = r.value;
      } else a = parseOr(rawArgs?.value.trim() || '[]');
      if (controls.kwargs) {
        const r = collect(controls.kwargs, false);
        Object.assign(errors, r.errors);
        k = r.value;
      } else k = parseOr(rawKwargs?.value.trim() || '{}');
      return { args: a, kwargs: k, errors };
    },
  };
}
