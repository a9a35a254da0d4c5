// The fields of the periodic-task form, in django-celery-beat's fieldsets: the task (name, task
// from the registered ones or a custom name, enabled, description), the schedule with its preview,
// the arguments (generated from the task's schema when it declares one), and the execution options.
import { h } from '../../ui/dom.js';
import { checkbox, field, input, select, textarea } from '../../ui/form.js';
import { argsFields } from './args-fields.js';
import { scheduleFields } from './schedule-fields.js';
import { browserZone, fromLocalInput, toLocalInput, type PeriodicTask, type RegisteredTask, type Schedule, type SolarEvent, type TaskFields } from './types.js';

export const CUSTOM = '__custom__';

export interface TaskFormInitial extends Partial<TaskFields> {
  name?: string;
}

export interface TaskForm {
  /** The fieldsets, to put in a form element. */
  fieldsets: HTMLElement[];
  /** The body to send and the field errors found before sending. */
  read(): { body: Record<string, unknown>; errors: Record<string, string> };
}

const MISSED = [
  { value: 'once', label: 'Run once to catch up (default)' },
  { value: 'skip', label: 'Skip the missed runs (logged in the history)' },
  { value: 'all', label: 'Run every missed run (capped)' },
];
const OVERLAP = [
  { value: 'allow', label: 'Allow: start a run even if the previous one has not finished' },
  { value: 'skip', label: 'Skip: no new run while the previous one is queued or running' },
];

function numberValue(el: HTMLInputElement, name: string, errors: Record<string, string>): number | null {
  if (el.validity.badInput) {
    errors[name] = 'Enter a whole number.';
    return null;
  }
  const v = el.value.trim();
  if (v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n)) errors[name] = 'Enter a whole number.';
  return n;
}

export function taskForm(options: { initial: TaskFormInitial; task?: PeriodicTask; registered: RegisteredTask[]; readOnly: boolean }): TaskForm {
  const { initial, registered, readOnly } = options;
  const declared = options.task && options.task.source !== 'admin';

  // The task: a registered one, or a custom name (for a task only some workers load).
  const name = input('name', { value: initial.name ?? '', maxlength: 200, required: true, autocomplete: 'off', 'data-testid': 'name' });
  if (declared) name.readOnly = true;
  const known = registered.some((t) => t.name === initial.task);
  const taskSelect = select(
    'task',
    [{ value: '', label: 'Choose a task…' }, ...registered.map((t) => ({ value: t.name, label: t.name })), { value: CUSTOM, label: 'Custom task name…' }],
    initial.task ? (known ? initial.task : CUSTOM) : '',
    { 'data-testid': 'task-select' },
  );
  const custom = input('customTaskName', { value: known ? '' : (initial.task ?? ''), placeholder: 'e.g. reports.send_summary', class: 'mono', autocomplete: 'off', 'aria-label': 'Custom task name', 'data-testid': 'task-custom' });
  const taskHelp = h('span', {});
  const enabled = checkbox('enabled', initial.enabled ?? true, 'Enabled');
  enabled.querySelector('input')!.setAttribute('data-testid', 'enabled');
  const description = textarea('description', initial.description ?? '', { rows: 2, maxlength: 2000, class: 'prose', 'data-testid': 'description' });

  // Execution options.
  const startTime = input('startTime', { type: 'datetime-local', step: 1, value: toLocalInput(initial.startTime), 'data-testid': 'start-time' });
  const queue = input('queue', { value: initial.queue ?? '', list: 'queue-names', autocomplete: 'off', class: 'mono', 'data-testid': 'queue' });
  const queues = [...new Set(registered.map((t) => t.queue))].sort();
  const priority = input('priority', { type: 'number', min: 0, max: 2097152, step: 1, value: initial.priority ?? '', class: 'narrow', 'data-testid': 'priority' });
  const expires = input('expires', { type: 'datetime-local', step: 1, value: toLocalInput(initial.expires), 'data-testid': 'expires' });
  const expireSeconds = input('expireSeconds', { type: 'number', min: 1, step: 1, value: initial.expireSeconds ?? '', class: 'narrow', 'data-testid': 'expire-seconds' });
  const oneOff = checkbox('oneOff', initial.oneOff ?? false, 'Run once, then disable the task');
  const missed = select('missedRunPolicy', MISSED, initial.missedRunPolicy ?? 'once', { 'data-testid': 'missed-run-policy' });
  const overlap = select('overlapPolicy', OVERLAP, initial.overlapPolicy ?? 'allow', { 'data-testid': 'overlap-policy' });

  const schedule = scheduleFields({ initial: initial.schedule as Schedule | undefined, startTime: () => fromLocalInput(startTime.value), readOnly });
  startTime.addEventListener('change', () => schedule.refreshPreview());
  const args = argsFields({ args: initial.args ?? [], kwargs: initial.kwargs ?? {}, readOnly });

  const chosen = (): RegisteredTask | undefined => registered.find((t) => t.name === taskSelect.value);
  const onTask = () => {
    const isCustom = taskSelect.value === CUSTOM;
    custom.hidden = !isCustom;
    const def = chosen();
    taskHelp.replaceChildren(
      def
        ? h('span', {}, def.description || 'No description.', ' Default queue: ', h('code', {}, def.queue), '.')
        : isCustom
          ? 'A task no module of this web process defines (one only some workers load): it is not checked here.'
          : 'The registered tasks of this installation.',
    );
    queue.placeholder = def ? `the task’s default (${def.queue})` : 'the task’s default queue';
    args.setTask(def);
  };
  taskSelect.addEventListener('change', () => {
    onTask();
    if (taskSelect.value === CUSTOM) custom.focus();
  });
  onTask();

  const fieldsets = [
    h(
      'fieldset',
      { class: 'primary' },
      field({ name: 'name', label: 'Name', required: true, control: name, help: declared ? 'Declared in the configuration: the name cannot change here.' : 'A unique, human-readable name.' }),
      field({ name: 'task', label: 'Task (registered)', required: true, control: h('div', { class: 'task-choice' }, taskSelect, custom), help: taskHelp }),
      field({ name: 'enabled', label: 'Enabled', control: enabled, help: 'Re-enabling never fires the task at once: it runs at its next due time.' }),
      field({ name: 'description', label: 'Description', control: description }),
    ),
    schedule.element,
    args.element,
    h(
      'fieldset',
      { class: 'options' },
      h('legend', {}, 'Execution options'),
      h('datalist', { id: 'queue-names' }, ...queues.map((q) => h('option', { value: q }))),
      field({ name: 'queue', label: 'Queue', control: queue, help: 'Leave empty for the task’s default queue.' }),
      field({ name: 'priority', label: 'Priority', control: priority, help: '1 is the highest priority, 2097152 the lowest; empty for none.' }),
      field({ name: 'expires', label: 'Expires', control: expires, help: `After this moment the task no longer runs (your browser’s time, ${browserZone()}).` }),
      field({ name: 'expireSeconds', label: 'Expire seconds', control: expireSeconds, help: 'A run still waiting this many seconds after it was queued is discarded. Set this or Expires, not both.' }),
      field({ name: 'oneOff', label: 'One-off task', control: oneOff }),
      field({ name: 'startTime', label: 'Start time', control: startTime, help: 'Nothing runs before it; intervals count from it.' }),
      field({ name: 'missedRunPolicy', label: 'Missed runs', control: missed, help: 'What happens when every beat was down at a due time.' }),
      field({ name: 'overlapPolicy', label: 'Overlapping runs', control: overlap }),
    ),
  ];
  if (readOnly) for (const fs of fieldsets) for (const c of fs.querySelectorAll<HTMLInputElement>('input, select, textarea')) c.disabled = true;

  return {
    fieldsets,
    read() {
      const errors: Record<string, string> = {};
      const isCustom = taskSelect.value === CUSTOM;
      const taskName = isCustom ? custom.value.trim() : taskSelect.value;
      if (!taskName) errors.task = isCustom ? 'Enter the custom task name.' : 'Choose a task.';
      const a = args.read();
      Object.assign(errors, a.errors);
      const body: Record<string, unknown> = {
        name: name.value.trim(),
        task: taskName,
        enabled: enabled.querySelector('input')!.checked,
        description: description.value,
        schedule: schedule.value(),
        args: a.args,
        kwargs: a.kwargs,
        queue: queue.value.trim() || null,
        priority: numberValue(priority, 'priority', errors),
        expires: fromLocalInput(expires.value),
        expireSeconds: numberValue(expireSeconds, 'expireSeconds', errors),
        oneOff: oneOff.querySelector('input')!.checked,
        startTime: fromLocalInput(startTime.value),
        missedRunPolicy: missed.value,
        overlapPolicy: overlap.value,
      };
      if (isCustom && taskName !== options.task?.task) body.customTask = true;
      if (declared) delete body.name;
      return { body, errors };
    },
  };
}

/** Initial values of the add form from its query string (the schedule pages link here pre-filled). */
export function initialFromQuery(q: URLSearchParams): TaskFormInitial {
  const initial: TaskFormInitial = {};
  const text = (k: string) => q.get(k) ?? undefined;
  if (q.has('name')) initial.name = text('name');
  if (q.has('task')) initial.task = text('task');
  if (q.has('description')) initial.description = text('description');
  if (q.has('queue')) initial.queue = text('queue') ?? null;
  if (q.has('enabled')) initial.enabled = q.get('enabled') !== 'false';
  const json = (k: string) => {
    try {
      return JSON.parse(q.get(k) ?? '') as unknown;
    } catch {
      return undefined;
    }
  };
  const a = json('args');
  if (Array.isArray(a)) initial.args = a;
  const k = json('kwargs');
  if (k && typeof k === 'object' && !Array.isArray(k)) initial.kwargs = k as Record<string, unknown>;
  const kind = q.get('kind');
  const num = (key: string) => (q.get(key) === null || q.get(key) === '' ? undefined : Number(q.get(key)));
  if (kind === 'interval') initial.schedule = { interval: { every: num('every') ?? 10, period: (q.get('period') ?? 'seconds') as 'seconds' } };
  if (kind === 'crontab')
    initial.schedule = {
      crontab: { minute: q.get('minute') ?? '*', hour: q.get('hour') ?? '*', dayOfWeek: q.get('dayOfWeek') ?? '*', dayOfMonth: q.get('dayOfMonth') ?? '*', monthOfYear: q.get('monthOfYear') ?? '*', timezone: q.get('timezone') ?? '' },
    };
  if (kind === 'solar') initial.schedule = { solar: { event: (q.get('event') ?? 'sunrise') as SolarEvent, latitude: num('latitude') as number, longitude: num('longitude') as number } };
  if (kind === 'clocked') initial.schedule = { clocked: { at: q.get('at') ?? '' } };
  return initial;
}
