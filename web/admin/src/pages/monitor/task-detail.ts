// One task (Flower's task page): arguments, result, error with its traceback, retries, the timeline,
// worker and runtime; live while it changes; the actions its state allows and the user may take.
import { ApiError } from '../../api.js';
import { navigate, type Route, type RouteContext } from '../../router.js';
import { can } from '../../session.js';
import { confirmDialog } from '../../ui/confirm.js';
import { h } from '../../ui/dom.js';
import { formatDuration, formatNumber, stateBadge, timeCell, shortTaskId } from '../../ui/format.js';
import { flash, notify } from '../../ui/messages.js';
import { FINAL_STATES, monitorApi, type TaskDetail, type TimelineEntry } from './api.js';
import { jsonBlock, keepLive, pageBar, panel } from './common.js';


export const taskDetailRoute: Route = {
  path: '/admin/tasks/:id/',
  permission: 'view_task',
  async render(ctx) {
    const id = ctx.params.id!;
    const trail = [
      { label: 'Monitor', href: '/admin/monitor/' },
      { label: 'Tasks', href: '/admin/tasks/' },
    ];
    ctx.setTitle(`Task ${shortTaskId(id)}`, trail);
    const actions = h('div', { class: 'row-actions', 'data-testid': 'task-actions' });
    const badge = h('span', { class: 'state-slot' });
    const bar = pageBar(badge, actions);
    const body = h('div', { class: 'task-body' });
    ctx.outlet.append(bar.element, body);

    let task: TaskDetail;
    try {
      task = await monitorApi.task(id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        ctx.setTitle('Task not found', trail);
        bar.element.remove();
        body.append(h('p', { class: 'error', role: 'alert', 'data-testid': 'task-missing' }, err.message, ' ', h('a', { href: '/admin/tasks/' }, 'Back to the task list.')));
        return;
      }
      throw err;
    }

    const show = (t: TaskDetail) => {
      task = t;
      ctx.setTitle(`${t.name} · ${shortTaskId(t.id)}`, trail);
      const b = stateBadge(t.state);
      b.classList.add('state-large');
      b.dataset.testid = 'task-state';
      badge.replaceChildren(b);
      actions.replaceChildren(...actionButtons(ctx, t, show));
      body.replaceChildren(layout(t));
    };
    show(task);

    let gone = false;
    const reload = async () => {
      if (gone) return;
      try {
        const next = await monitorApi.task(id);
        if (!ctx.signal.aborted) show(next);
      } catch (err) {
        if (ctx.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) {
          gone = true;
          notify('warning', `The task ${id} no longer exists (deleted, or its result expired).`);
          actions.replaceChildren();
        }
      }
    };
    keepLive(ctx, bar.indicator, reload, { ms: 300, filter: { taskId: id } });
  },
};

function layout(t: TaskDetail): HTMLElement {
  const left = h('div', {}, details(t));
  if (t.error) left.append(errorPanel(t));
  if (t.state === 'SUCCESS' || t.result !== undefined) {
    const result = panel('Result', jsonBlock(t.result, 'task-result'));
    left.append(result);
  }
  if (t.progress && !FINAL_STATES.has(t.state)) left.append(panel('Progress', jsonBlock(t.progress, 'task-progress')));
  left.append(panel('Arguments', h('h3', { class: 'sub-head' }, 'args'), jsonBlock(t.args, 'task-args'), h('h3', { class: 'sub-head' }, 'kwargs'), jsonBlock(t.kwargs, 'task-kwargs')));
  const right = h('div', {}, panel('Timeline', timeline(t.timeline)), panel('Log', logLines(t.logs)));
  return h('div', { class: 'task-layout' }, left, right);
}

/** The task's own lines (ctx.log), as it wrote them. */
function logLines(lines: string[]): HTMLElement {
  if (!lines.length) return h('p', { class: 'muted', 'data-testid': 'task-log-empty' }, 'The task wrote no log lines (ctx.log).');
  return h('pre', { class: 'task-log', 'data-testid': 'task-log' }, lines.join('\n'));
}

function details(t: TaskDetail): HTMLElement {
  const rows: [string, Node | string][] = [
    ['Task id', h('code', { 'data-testid': 'task-id' }, t.id)],
    ['Name', h('a', { href: `/admin/tasks/?name=${encodeURIComponent(t.name)}` }, t.name)],
    ['Queue', h('a', { href: `/admin/queues/${encodeURIComponent(t.queue)}/` }, t.queue)],
    ['State', stateBadge(t.state)],
    ['Worker', t.worker ? h('span', { class: 'mono' }, t.worker) : h('span', { class: 'muted' }, '—')],
    ['Attempts', formatNumber(t.attempts)],
    ['Retries', h('span', { 'data-testid': 'task-retries' }, formatNumber(t.retries))],
    ['Runtime', runtime(t)],
    ['Sent', timeCell(t.dateCreated)],
    ['Started', timeCell(t.dateStarted)],
    ['Finished', timeCell(t.dateDone)],
  ];
  if (t.eta) rows.splice(5, 0, ['Runs at (ETA)', timeCell(t.eta)]);
  return h('dl', { class: 'details', 'data-testid': 'task-details' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function runtime(t: TaskDetail): Node | string {
  if (t.runtimeMs !== null) return h('span', { 'data-testid': 'task-runtime' }, formatDuration(t.runtimeMs));
  if (t.dateStarted && t.dateDone && FINAL_STATES.has(t.state)) {
    const ms = Date.parse(t.dateDone) - Date.parse(t.dateStarted);
    if (ms >= 0) return h('span', {}, formatDuration(ms), h('span', { class: 'muted' }, ` (until it ${t.state === 'FAILURE' ? 'failed' : 'was revoked'})`));
  }
  return h('span', { class: 'muted' }, '—');
}

/**
 * The lifecycle in order of time; "sent" always comes first (a job can be picked up a moment before
 * the sent event is stamped), and "received" before "started" at the same instant.
 */
export function orderTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  const rank: Record<string, number> = { sent: 0, received: 1, started: 2 };
  const firstSent = entries.find((e) => e.event === 'sent');
  const rest = entries.filter((e) => e !== firstSent);
  const sorted = rest
    .map((e, i) => ({ e, i, at: Date.parse(e.at) }))
    .sort((a, b) => a.at - b.at || (rank[a.e.event] ?? 3) - (rank[b.e.event] ?? 3) || a.i - b.i)
    .map((x) => x.e);
  return firstSent ? [firstSent, ...sorted] : sorted;
}

function errorPanel(t: TaskDetail): HTMLElement {
  const e = t.error!;
  const box = h(
    'section',
    { class: 'panel error-panel', 'data-testid': 'task-error' },
    h('h2', {}, t.state === 'REVOKED' ? 'Revoked' : 'Error'),
    h('div', { class: 'error-head' }, h('code', { 'data-testid': 'task-error-code' }, e.code), h('strong', { 'data-testid': 'task-error-message' }, e.message)),
  );
  if (e.traceback) box.append(h('h3', { class: 'sub-head' }, 'Traceback'), h('pre', { class: 'traceback', 'data-testid': 'task-traceback' }, e.traceback));
  return box;
}

function timeline(all: TimelineEntry[]): HTMLElement {
  const entries = orderTimeline(all);
  if (!entries.length) return h('p', { class: 'muted' }, 'No events recorded.');
  const list = h('ol', { class: 'timeline', 'data-testid': 'task-timeline' });
  const first = Date.parse(entries[0]!.at);
  let prev = first;
  for (const e of entries) {
    const at = Date.parse(e.at);
    const delta = Math.max(0, at - prev);
    prev = at;
    const note = e.worker ? `on ${e.worker}` : e.message;
    list.append(
      h(
        'li',
        { class: `ev-${e.event}`, 'data-event': e.event },
        h('span', { class: 'ev' }, e.event),
        ' ',
        h('span', { class: 'when' }, timeCell(e.at)),
        at !== first ? h('span', { class: 'delta', title: `${formatDuration(Math.max(0, at - first))} after it was sent` }, delta < 0.5 ? '+0 ms' : `+${formatDuration(delta)}`) : '',
        note ? h('span', { class: 'note' }, note) : '',
      ),
    );
  }
  return list;
}

/** The buttons the task's state allows and the user's permissions grant. */
function actionButtons(ctx: RouteContext, t: TaskDetail, show: (t: TaskDetail) => void): HTMLElement[] {
  const out: HTMLElement[] = [];
  const button = (label: string, testId: string, cls: string, run: (b: HTMLButtonElement) => Promise<void>) => {
    const b = h('button', { type: 'button', class: `button ${cls}`, 'data-testid': testId }, label);
    b.addEventListener('click', async () => {
      for (const other of out) (other as HTMLButtonElement).disabled = true;
      try {
        await run(b);
      } catch (err) {
        notify('error', (err as Error).message);
      } finally {
        for (const other of out) if (other.isConnected) (other as HTMLButtonElement).disabled = false;
      }
    });
    out.push(b);
  };
  const done = (message: string) => (next: TaskDetail) => {
    if (ctx.signal.aborted) return;
    notify('success', message);
    show(next);
  };
  if (can('change_task')) {
    if (t.actions.retry)
      button('Retry', 'action-retry', '', async () => {
        done(`The task ${t.name} was queued again.`)(await monitorApi.retry(t.id));
      });
    if (t.actions.promote)
      button('Run now', 'action-promote', '', async () => {
        done(`The task ${t.name} was moved to the front: it runs as soon as a worker is free.`)(await monitorApi.promote(t.id));
      });
    if (t.actions.runAgain)
      button('Run again', 'action-run-again', '', async () => {
        const copy = await monitorApi.runAgain(t.id);
        flash('success', `The task ${t.name} was sent again as ${copy.id}.`);
        navigate(`/admin/tasks/${encodeURIComponent(copy.id)}/`);
      });
    if (t.actions.revoke)
      button('Revoke', 'action-revoke', 'secondary danger', async () => {
        const ok = await confirmDialog({
          title: 'Revoke this task?',
          message: t.state === 'STARTED' || t.state === 'PROGRESS' ? `${t.name} is running: it will be asked to stop (its abort signal is raised).` : `${t.name} will not run.`,
          confirmLabel: 'Revoke',
          danger: true,
        });
        if (ok) done(`The task ${t.name} was revoked.`)(await monitorApi.revoke(t.id, false));
      });
    if (t.actions.terminate)
      button('Terminate', 'action-terminate', 'danger', async () => {
        const ok = await confirmDialog({
          title: 'Terminate this task?',
          message: `${t.name} is running: it will be revoked and ended at once (its process or thread is stopped where the pool allows). Work in progress is lost.`,
          confirmLabel: 'Terminate',
          danger: true,
        });
        if (ok) done(`The task ${t.name} was terminated.`)(await monitorApi.revoke(t.id, true));
      });
  }
  if (can('delete_task') && t.actions.delete)
    button('Delete', 'action-delete', 'secondary danger', async () => {
      const ok = await confirmDialog({
        title: 'Delete this task?',
        message: `${t.name} (${t.id}) and its ${t.state === 'FAILURE' ? 'error' : 'result'} will be deleted. This cannot be undone.`,
        confirmLabel: 'Delete',
        danger: true,
      });
      if (!ok) return;
      await monitorApi.remove(t.id);
      flash('success', `The task ${t.name} (${t.id}) was deleted.`);
      navigate('/admin/tasks/');
    });
  return out;
}
