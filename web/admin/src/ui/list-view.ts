// The change list of Django's admin over any paged JSON endpoint: search, filters, sortable columns,
// server-side pagination and bulk actions. Its state lives in the page's query string, passed to the
// API unchanged (search, sort, page, and each filter's key), so a list can be bookmarked and shared.
import { api, ApiError, type Page, type Query } from '../api.js';
import { setQuery, type RouteContext } from '../router.js';
import { can } from '../session.js';
import { confirmDialog } from './confirm.js';
import { h, plural } from './dom.js';
import { formatNumber } from './format.js';
import { notify } from './messages.js';

export interface Column<T> {
  /** The API's sort key for this column; leave out for columns that cannot be sorted. */
  sort?: string;
  label: string;
  render(item: T): Node | string;
  className?: string;
}

export interface Filter {
  key: string;
  label: string;
  options: { value: string; label: string }[];
}

export interface BulkAction {
  label: string;
  permission?: string;
  /** Asks first, e.g. (n) => `Delete ${n} periodic tasks?` */
  confirm?: (count: number) => string;
  danger?: boolean;
  /** Does the work and returns the message to show. */
  run(ids: string[]): Promise<string>;
}

/** A page as a loader returns it: `total` may be unknown (null), then `hasMore` says whether a next page exists. */
export interface ListPage<T> extends Omit<Page<T>, 'total'> {
  total: number | null;
  hasMore?: boolean;
}

export interface ListViewOptions<T> {
  ctx: RouteContext;
  endpoint: string;
  /** Loads a page instead of GET `endpoint` (to rename parameters or shape the answer); gets the query list-view would send. */
  fetch?: (query: Query) => Promise<ListPage<T>>;
  columns: Column<T>[];
  idOf(item: T): string | number;
  /** Shown as "Search <placeholder>"; omit for lists without search. */
  search?: string;
  filters?: Filter[];
  /** Query parameters always sent (not shown in the URL). */
  fixedQuery?: Query;
  bulkActions?: BulkAction[];
  /** "periodic task" → "3 periodic tasks". */
  noun: [string, string];
  emptyText?: string;
  pageSize?: number;
  /** data-testid of the table, for browser tests. */
  testId?: string;
}

export interface ListView {
  element: HTMLElement;
  /** Fetches the current page again (after a live event, say) without touching the query string. */
  refresh(): Promise<void>;
}

export function listView<T>(o: ListViewOptions<T>): ListView {
  const q = o.ctx.query;
  const root = h('div', { class: 'list-view' });
  const toolbar = h('div', { class: 'toolbar' });
  const tableWrap = h('div', { class: 'table-wrap' });
  const footer = h('div', { class: 'list-footer' });
  root.append(toolbar, tableWrap, footer);

  if (o.search !== undefined) {
    const box = h('input', { type: 'search', name: 'search', placeholder: `Search ${o.search}`, 'aria-label': `Search ${o.search}` });
    box.value = q.get('search') ?? '';
    const form = h('form', { class: 'search', role: 'search' }, box, h('button', { type: 'submit', class: 'button secondary' }, 'Search'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      setQuery({ search: box.value.trim(), page: null });
    });
    toolbar.append(form);
  }
  for (const f of o.filters ?? []) {
    const sel = h('select', { 'aria-label': f.label, 'data-filter': f.key }, h('option', { value: '' }, `${f.label}: all`), ...f.options.map((opt) => h('option', { value: opt.value }, `${f.label}: ${opt.label}`)));
    sel.value = q.get(f.key) ?? '';
    sel.addEventListener('change', () => setQuery({ [f.key]: sel.value, page: null }));
    toolbar.append(sel);
  }
  const active = [...(o.filters ?? []).map((f) => f.key), 'search'].some((k) => q.get(k));
  if (active) {
    const reset = h('a', { href: location.pathname, class: 'clear-filters' }, 'Clear all filters');
    toolbar.append(reset);
  }

  const actions = (o.bulkActions ?? []).filter((a) => !a.permission || can(a.permission));
  const selected = new Set<string>();
  let items: T[] = [];

  const bulkBar = h('div', { class: 'bulk', hidden: true });
  if (actions.length) {
    const choice = h('select', { 'aria-label': 'Action' }, h('option', { value: '' }, 'Action…'), ...actions.map((a, i) => h('option', { value: String(i) }, a.label)));
    const go = h('button', { type: 'button', class: 'button secondary' }, 'Go');
    const count = h('span', { class: 'muted bulk-count' });
    go.addEventListener('click', async () => {
      const action = actions[Number(choice.value)];
      if (!action || !selected.size) return;
      if (action.confirm && !(await confirmDialog({ title: 'Are you sure?', message: action.confirm(selected.size), danger: action.danger, confirmLabel: action.label }))) return;
      try {
        notify('success', await action.run([...selected]));
      } catch (err) {
        notify('error', (err as Error).message);
      }
      selected.clear();
      await load();
    });
    bulkBar.append(choice, go, count);
    toolbar.prepend(bulkBar);
  }

  const updateBulk = () => {
    bulkBar.hidden = !actions.length;
    const count = bulkBar.querySelector('.bulk-count');
    if (count) count.textContent = `${selected.size} of ${items.length} selected`;
  };

  const sort = q.get('sort') ?? '';
  const headerCell = (c: Column<T>) => {
    if (!c.sort) return h('th', { scope: 'col', class: c.className }, c.label);
    const current = sort === c.sort ? 'ascending' : sort === `-${c.sort}` ? 'descending' : undefined;
    const next = current === 'ascending' ? `-${c.sort}` : c.sort;
    const button = h('button', { type: 'button', class: 'sort' }, c.label, current ? (current === 'ascending' ? ' ▲' : ' ▼') : '');
    button.addEventListener('click', () => setQuery({ sort: next, page: null }));
    return h('th', { scope: 'col', class: c.className, 'aria-sort': current }, button);
  };

  const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
  const pageSize = o.pageSize ?? 50;

  async function load(): Promise<void> {
    const query: Query = { ...o.fixedQuery, page, pageSize };
    for (const [key, value] of q) if (key !== 'page') query[key] = value;
    let result: ListPage<T>;
    try {
      result = o.fetch ? await o.fetch(query) : await api.get<Page<T>>(o.endpoint, query);
    } catch (err) {
      if (o.ctx.signal.aborted) return;
      tableWrap.replaceChildren(h('p', { class: 'error', role: 'alert' }, (err as ApiError).message));
      return;
    }
    if (o.ctx.signal.aborted) return;
    items = result.items;
    for (const id of [...selected]) if (!items.some((i) => String(o.idOf(i)) === id)) selected.delete(id);
    renderTable(result);
  }

  function renderTable(result: ListPage<T>): void {
    if (!result.items.length) {
      tableWrap.replaceChildren(h('p', { class: 'empty' }, active ? `No ${o.noun[1]} match these filters.` : (o.emptyText ?? `There are no ${o.noun[1]} yet.`)));
      footer.replaceChildren(h('span', { class: 'muted' }, `0 ${o.noun[1]}`));
      updateBulk();
      return;
    }
    const head = h('tr', {});
    if (actions.length) {
      const all = h('input', { type: 'checkbox', 'aria-label': 'Select all on this page' });
      all.checked = result.items.every((i) => selected.has(String(o.idOf(i))));
      all.addEventListener('change', () => {
        for (const i of result.items) all.checked ? selected.add(String(o.idOf(i))) : selected.delete(String(o.idOf(i)));
        for (const box of tableWrap.querySelectorAll<HTMLInputElement>('tbody input[type=checkbox]')) box.checked = all.checked;
        updateBulk();
      });
      head.append(h('th', { class: 'select' }, all));
    }
    head.append(...o.columns.map(headerCell));
    const body = h('tbody', {});
    for (const item of result.items) {
      const id = String(o.idOf(item));
      const row = h('tr', { 'data-id': id });
      if (actions.length) {
        const box = h('input', { type: 'checkbox', 'aria-label': `Select ${id}` });
        box.checked = selected.has(id);
        box.addEventListener('change', () => {
          box.checked ? selected.add(id) : selected.delete(id);
          updateBulk();
        });
        row.append(h('td', { class: 'select' }, box));
      }
      for (const c of o.columns) row.append(h('td', { class: c.className }, c.render(item)));
      body.append(row);
    }
    // A refresh (a live list) must not take the keyboard focus away from a row's control.
    const focused = document.activeElement instanceof HTMLElement && tableWrap.contains(document.activeElement) ? document.activeElement : null;
    const focusRow = focused?.closest('tr')?.getAttribute('data-id');
    const focusIndex = focused ? [...(focused.closest('tr')?.querySelectorAll('a, button, input, select') ?? [])].indexOf(focused) : -1;
    tableWrap.replaceChildren(h('table', { class: 'list', 'data-testid': o.testId }, h('thead', {}, head), body));
    if (focusRow && focusIndex >= 0) body.querySelector(`tr[data-id="${CSS.escape(focusRow)}"]`)?.querySelectorAll<HTMLElement>('a, button, input, select')[focusIndex]?.focus();
    footer.replaceChildren(pagination(result));
    updateBulk();
  }

  function pagination(result: ListPage<T>): HTMLElement {
    const first = (result.page - 1) * result.pageSize + 1;
    const last = first + result.items.length - 1;
    const nav = h('nav', { class: 'pagination', 'aria-label': 'Pages' });
    const link = (p: number, label: string, current = false) => {
      if (current) return h('span', { class: 'current', 'aria-current': 'page' }, label);
      const params = new URLSearchParams(location.search);
      if (p === 1) params.delete('page');
      else params.set('page', String(p));
      const qs = params.toString();
      return h('a', { href: location.pathname + (qs ? `?${qs}` : '') }, label);
    };
    if (result.total === null) {
      // Unknown total: previous / this page / next.
      if (result.page > 1) nav.append(link(result.page - 1, '‹ Previous'));
      nav.append(link(result.page, String(result.page), true));
      if (result.hasMore) nav.append(link(result.page + 1, 'Next ›'));
      return h('div', { class: 'pager' }, h('span', { class: 'muted' }, `${formatNumber(first)}–${formatNumber(last)} of ${result.hasMore ? 'more' : formatNumber(last)} ${o.noun[1]}`), result.page > 1 || result.hasMore ? nav : '');
    }
    const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
    if (result.page > 1) nav.append(link(result.page - 1, '‹ Previous'));
    for (const p of pageNumbers(result.page, pages)) nav.append(p === 0 ? h('span', { class: 'gap' }, '…') : link(p, String(p), p === result.page));
    if (result.page < pages) nav.append(link(result.page + 1, 'Next ›'));
    return h('div', { class: 'pager' }, h('span', { class: 'muted' }, `${formatNumber(first)}–${formatNumber(Math.min(result.total, last))} of ${plural(result.total, o.noun[0], o.noun[1])}`), pages > 1 ? nav : '');
  }

  void load();
  return { element: root, refresh: load };
}

/** 1 … 4 5 [6] 7 8 … 20, with 0 for a gap. */
export function pageNumbers(current: number, pages: number): number[] {
  const shown = new Set([1, pages, current - 2, current - 1, current, current + 1, current + 2].filter((p) => p >= 1 && p <= pages));
  const sorted = [...shown].sort((a, b) => a - b);
  const out: number[] = [];
  for (const p of sorted) {
    if (out.length && p - out[out.length - 1]! > 1) out.push(0);
    out.push(p);
  }
  return out;
}
