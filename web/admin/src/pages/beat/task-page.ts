// The add / change page of a periodic task (Django's change form): the form with its three save
// buttons, errors next to the fields, and on the change page the task's state (live), where each
// field comes from for a declared task (with reset), "Run now", "Delete" and the run history.
import { api, ApiError } from '../../api.js';
import { navigate, type RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { h } from '../../ui/dom.js';
import { busy, clearErrors, showErrors } from '../../ui/form.js';
import { formatNumber, relativeTime, timeCell } from '../../ui/format.js';
import { flash, notify } from '../../ui/messages.js';
import { afterSave, deleteButton, saveButtons, submitterOf } from '../../ui/save.js';
import { every } from './live.js';
import { runHistory, taskPagePath } from './run-history.js';
import { initialFromQuery, taskForm } from './task-form.js';
import {
  BASE, LIST_PATH, addPath, changePath, registeredTasks,
  type DeleteResult, type ManagedField, type PeriodicTask, type RegisteredTask, type Source,
} from './types.js';

const TRAIL = [{ label: 'Periodic tasks', href: LIST_PATH }];
const SOURCE_WORDS: Record<Source, string> = { admin: 'changed here', config: 'from configuration', builtin: 'built in' };

export const loadRegistered = (): Promise<RegisteredTask[]> => registeredTasks(() => api.get<RegisteredTask[]>('/api/v1/admin/registered-tasks'));

export async function renderTaskPage(ctx: RouteContext, id?: number): Promise<void> {
  let task: PeriodicTask | undefined;
  let registered: RegisteredTask[];
  try {
    [task, registered] = await Promise.all([id === undefined ? undefined : api.get<PeriodicTask>(`${BASE}/${id}`), loadRegistered().catch(() => [])]);
  } catch (err) {
    if (ctx.signal.aborted) return;
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle('Periodic task not found', TRAIL);
      ctx.outlet.append(h('p', { class: 'error', role: 'alert' }, `There is no periodic task with id ${id}. Perhaps it was deleted. `, h('a', { href: LIST_PATH }, 'Back to the periodic tasks.')));
      return;
    }
    throw err;
  }
  if (ctx.signal.aborted) return;

  const readOnly = task ? !can('change_periodictask') : !can('add_periodictask');
  ctx.setTitle(task ? (readOnly ? `View periodic task: ${task.name}` : task.name) : 'Add periodic task', TRAIL);

  const form = h('form', { class: 'edit periodic-task', novalidate: true, 'data-testid': 'periodic-task-form' });
  const fields = taskForm({ initial: task ?? initialFromQuery(ctx.query), task, registered, readOnly });
  form.append(...fields.fieldsets);

  if (task) {
    ctx.outlet.append(pageActions(ctx, task, readOnly), details(ctx, task));
    if (task.source !== 'admin') ctx.outlet.append(declaredNotice(task, readOnly));
  }
  ctx.outlet.append(form);
  if (task?.fieldSources) markSources(form, task, readOnly);

  if (!readOnly) form.append(formActions(task));
  else form.append(h('p', { class: 'muted read-only-note' }, 'You can view this periodic task but not change it.'));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(submitterOf(event));
  });

  async function save(how: string): Promise<void> {
    clearErrors(form);
    const { body, errors } = fields.read();
    if (Object.keys(errors).length) return showErrors(form, new ApiError(400, 'invalid', 'Please correct the errors below.', errors));
    try {
      const saved = await busy(form, () => (task ? api.patch<PeriodicTask>(`${BASE}/${task.id}`, body) : api.post<PeriodicTask>(BASE, body)));
      afterSave(how, { noun: 'periodic task', name: saved.name, added: !task, list: LIST_PATH, change: changePath(saved.id), add: addPath(), replace: !!task });
    } catch (err) {
      if (!ctx.signal.aborted) showErrors(form, err as Error);
    }
  }

  if (task) {
    const history = runHistory(task.id, ctx.signal);
    ctx.outlet.append(history.element);
    every(ctx.signal, 3000, async () => {
      const fresh = await api.get<PeriodicTask>(`${BASE}/${task.id}`);
      if (ctx.signal.aborted) return;
      ctx.outlet.querySelector('dl.task-state')?.replaceWith(details(ctx, fresh));
      await history.refresh();
    });
  }
}

function formActions(task: PeriodicTask | undefined): HTMLElement {
  if (!task || !can('delete_periodictask') || task.source === 'builtin') return saveButtons(null);
  const message = h(
    'div',
    {},
    h('p', {}, `Are you sure you want to delete the periodic task “${task.name}”? Its run history is deleted with it.`),
    task.source === 'config' ? h('p', { class: 'warning-text' }, 'It is declared in seler.config.json: the next beat start re-creates it unless you remove it there. To stop it for good, disable it instead.') : '',
  );
  return saveButtons(
    deleteButton<DeleteResult>({
      confirm: { title: 'Delete periodic task?', message, confirmLabel: 'Yes, delete it' },
      url: `${BASE}/${task.id}`,
      list: LIST_PATH,
      deleted: (result) => `The periodic task “${task.name}” was deleted successfully.${result.message ? ` ${result.message}` : ''}`,
      failed: (error) => `“${task.name}” could not be deleted: ${error}`,
    }),
  );
}

function pageActions(ctx: RouteContext, task: PeriodicTask, readOnly: boolean): HTMLElement {
  const bar = h('div', { class: 'page-actions' });
  if (!readOnly) {
    const run = h('button', { type: 'button', class: 'button', 'data-testid': 'run-now', title: 'Enqueue it now with its arguments and options (recorded as a manual run)' }, '▶ Run now');
    run.addEventListener('click', async () => {
      run.disabled = true;
      try {
        const { taskId, url } = await api.post<{ taskId: string; url: string }>(`${BASE}/${task.id}/run`);
        if (ctx.signal.aborted) return;
        notify(
          'success',
          h('span', { 'data-testid': 'run-now-result' }, `“${task.name}” was sent to run now as task `, h('a', { href: taskPagePath(taskId), class: 'mono', 'data-task-id': taskId }, taskId), ' (', h('a', { href: url, target: '_blank', rel: 'noopener' }, 'result as JSON'), ').'),
        );
      } catch (err) {
        notify('error', `“${task.name}” could not be run: ${(err as Error).message}`);
      } finally {
        run.disabled = false;
      }
    });
    bar.append(run);
  }
  bar.append(h('a', { class: 'button secondary', href: `/admin/log/?objectType=periodictask&objectId=${task.id}` }, 'History'));
  if (can('add_periodictask')) {
    const q = new URLSearchParams({ task: task.task, kind: task.scheduleKind });
    for (const [k, v] of Object.entries(Object.values(task.schedule)[0] as Record<string, unknown>)) q.set(k, String(v));
    bar.append(h('a', { class: 'button secondary', href: addPath(q) }, 'Add another like it'));
  }
  return bar;
}

/** The task's state as the beat keeps it (refreshed while the page is open). */
function details(_ctx: RouteContext, task: PeriodicTask): HTMLElement {
  const rel = (iso: string | null) => (iso ? h('span', { class: 'muted' }, ` (${relativeTime(iso)})`) : '');
  return h(
    'dl',
    { class: 'details task-state', 'data-testid': 'task-state' },
    h('dt', {}, 'Last run'),
    h('dd', { 'data-testid': 'state-last-run' }, timeCell(task.lastRunAt), rel(task.lastRunAt)),
    h('dt', {}, 'Next run'),
    task.enabled ? h('dd', {}, timeCell(task.nextRunAt), rel(task.nextRunAt)) : h('dd', {}, h('span', { class: 'muted' }, 'Disabled')),
    h('dt', {}, 'Total run count'),
    h('dd', { 'data-testid': 'state-run-count' }, formatNumber(task.totalRunCount)),
    h('dt', {}, 'Schedule'),
    h('dd', {}, task.scheduleDescription),
    h('dt', {}, 'Last task'),
    h('dd', {}, task.lastTaskId ? h('a', { href: taskPagePath(task.lastTaskId), class: 'mono' }, task.lastTaskId) : h('span', { class: 'muted' }, '—')),
    h('dt', {}, 'Source'),
    h('dd', {}, sourceBadge(task.source), task.taskRegistered ? '' : h('span', { class: 'badge warn', title: 'No module of the web process defines this task' }, 'custom task')),
    h('dt', {}, 'Changed'),
    h('dd', {}, timeCell(task.dateChanged)),
    h('dt', {}, 'Created'),
    h('dd', {}, timeCell(task.dateCreated)),
  );
}

export function sourceBadge(source: Source): HTMLElement {
  const words: Record<Source, string> = { admin: 'admin', config: 'config', builtin: 'builtin' };
  const titles: Record<Source, string> = { admin: 'Made in the admin', config: 'Declared in seler.config.json', builtin: 'Declared by seler itself' };
  return h('span', { class: `badge source source-${source}`, title: titles[source] }, words[source]);
}

function overridden(task: PeriodicTask): ManagedField[] {
  return Object.entries(task.fieldSources ?? {}).filter(([, s]) => s === 'admin').map(([f]) => f as ManagedField);
}

async function reset(task: PeriodicTask, fields?: ManagedField[]): Promise<void> {
  try {
    await api.post(`${BASE}/${task.id}/reset`, fields ? { fields } : {});
    flash('success', fields ? `“${fields.join(', ')}” of “${task.name}” follows the configuration again.` : `“${task.name}” follows its configuration again.`);
    navigate(location.pathname, { replace: true });
  } catch (err) {
    notify('error', `The reset failed: ${(err as Error).message}`);
  }
}

function declaredNotice(task: PeriodicTask, readOnly: boolean): HTMLElement {
  const changed = overridden(task);
  const where = task.source === 'config' ? 'declared in the configuration file (seler.config.json)' : 'built into seler';
  const box = h(
    'div',
    { class: 'notice', 'data-testid': 'declared-notice' },
    h('p', {}, `This periodic task is ${where}. Each field shows where its value comes from: `, h('span', { class: 'field-source source-config' }, SOURCE_WORDS[task.source]), ' or ', h('span', { class: 'field-source source-admin' }, SOURCE_WORDS.admin), '. Changes made here are kept when the configuration is synced again.'),
  );
  if (changed.length && !readOnly) {
    const button = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'reset-config' }, 'Reset to configuration');
    button.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: 'Reset to configuration?', message: `These fields go back to their declared values: ${changed.join(', ')}.`, confirmLabel: 'Reset' });
      if (ok) await reset(task);
    });
    box.append(h('p', {}, `Changed here: ${changed.join(', ')}. `, button));
  }
  return box;
}

/** A badge on each field's label: from the configuration, or changed here (with a per-field reset). */
function markSources(form: HTMLElement, task: PeriodicTask, readOnly: boolean): void {
  for (const [name, source] of Object.entries(task.fieldSources ?? {})) {
    const label = form.querySelector(`.field[data-field="${name}"] > label`);
    if (!label) continue;
    const badge = h('span', { class: `field-source source-${source === 'admin' ? 'admin' : 'config'}`, 'data-source': source }, SOURCE_WORDS[source as Source]);
    label.append(' ', badge);
    if (source === 'admin' && !readOnly) {
      const undo = h('button', { type: 'button', class: 'linklike small', title: `Follow the configuration’s value again` }, 'reset');
      undo.addEventListener('click', () => void reset(task, [name as ManagedField]));
      label.append(' ', undo);
    }
  }
}
