// The run history of one periodic task (GET …/:id/runs): each run's time, trigger, state, duration
// and a link to its result, newest first, paginated; the first page refreshes itself while shown.
import { api, type Page } from '../../api.js';
import { h } from '../../ui/dom.js';
import { formatDuration, formatNumber, relativeTime, stateBadge, timeCell, shortTaskId } from '../../ui/format.js';
import { BASE, type Run } from './types.js';

const PAGE_SIZE = 10;

const TRIGGERS: Record<Run['trigger'], string> = { schedule: 'Schedule', 'catch-up': 'Catch-up', manual: 'Manual' };

export const taskPagePath = (taskId: string) => `/admin/tasks/${encodeURIComponent(taskId)}/`;

export interface RunHistory {
  element: HTMLElement;
  refresh(): Promise<void>;
}

export function runHistory(id: number, signal: AbortSignal): RunHistory {
  let page = 1;
  const body = h('div', { class: 'run-history-body' });
  const footer = h('div', { class: 'pager' });
  const element = h('section', { class: 'run-history', 'data-testid': 'run-history' }, h('h2', {}, 'Run history'), body, footer);

  async function load(): Promise<void> {
    let result: Page<Run>;
    try {
      result = await api.get<Page<Run>>(`${BASE}/${id}/runs`, { page, pageSize: PAGE_SIZE });
    } catch (err) {
      if (!signal.aborted) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `The run history could not be loaded: ${(err as Error).message}`));
      return;
    }
    if (signal.aborted) return;
    render(result);
  }

  function render(result: Page<Run>): void {
    if (!result.items.length) {
      body.replaceChildren(h('p', { class: 'empty' }, 'It has not run yet.'));
      footer.replaceChildren();
      return;
    }
    const rows = result.items.map((run) =>
      h(
        'tr',
        { 'data-id': String(run.id) },
        h('td', {}, timeCell(run.scheduledFor), h('div', { class: 'muted small' }, relativeTime(run.scheduledFor))),
        h('td', {}, h('span', { class: `badge trigger trigger-${run.trigger}` }, TRIGGERS[run.trigger] ?? run.trigger)),
        h('td', {}, stateBadge(run.status), run.note ? h('div', { class: 'muted small' }, run.note) : ''),
        h('td', { class: 'num' }, run.duration === null ? h('span', { class: 'muted' }, '—') : formatDuration(run.duration * 1000)),
        h(
          'td',
          {},
          run.taskId
            ? h('span', { class: 'result-links' }, h('a', { href: taskPagePath(run.taskId), class: 'mono', title: run.taskId }, shortTaskId(run.taskId)), run.url ? h('a', { href: run.url, target: '_blank', rel: 'noopener', class: 'small' }, 'JSON') : '')
            : h('span', { class: 'muted' }, 'not enqueued'),
        ),
      ),
    );
    body.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list' },
          h('thead', {}, h('tr', {}, ...['Scheduled for', 'Trigger', 'Status', 'Duration', 'Result'].map((l, i) => h('th', { scope: 'col', class: i === 3 ? 'num' : undefined }, l)))),
          h('tbody', {}, ...rows),
        ),
      ),
    );
    const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
    const button = (label: string, to: number) => {
      const b = h('button', { type: 'button', class: 'button secondary small' }, label);
      b.addEventListener('click', () => {
        page = to;
        void load();
      });
      return b;
    };
    footer.replaceChildren(
      h('span', { class: 'muted' }, `${formatNumber(result.total)} run${result.total === 1 ? '' : 's'} · page ${page} of ${pages}`),
      h('span', { class: 'pagination' }, page > 1 ? button('‹ Newer', page - 1) : '', page < pages ? button('Older ›', page + 1) : ''),
    );
  }

  void load();
  return {
    element,
    // Only the newest page moves by itself; an older page stays put while being read.
    refresh: () => (page === 1 ? load() : Promise.resolve()),
  };
}
