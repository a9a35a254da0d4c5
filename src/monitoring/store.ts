// Reading the monitor's task index: summaries, the filtered and paginated task list, forgetting tasks.
import { monitoringError } from './errors.js';
import type { Redis } from '../platform/redis.js';
import { isValidTaskId } from '../tasks/index.js';
import type { FilterChoices, ListResult, TaskRow } from './contract.js';
import { TASK_STATES, type MonKeys, type MonitorState } from './keys.js';
import { FORGET_IDS, LIST } from './scripts.js';

export type { ListResult, TaskRow } from './contract.js';

/** What the indexer keeps per task (short keys: 100,000 of them are retained). */
export interface TaskSummary {
  /** name, queue, Celery state, stream id of the event that set the state */
  n: string;
  q: string;
  s?: MonitorState;
  sid?: string;
  /** enqueued, last started, finished (ms) */
  t0: number;
  t1?: number;
  t2?: number;
  /** runtime of the successful run (ms), worker, attempt number of the last start, retries, last error/reason, eta (ms) */
  rt?: number;
  w?: string | null;
  at?: number;
  r?: number;
  e?: string | null;
  eta?: number;
  /** 1: written by the reconciler from the job (its sent and final events, if they still come, are not counted again) */
  bf?: 1;
  /** timeline: [event type, ts (ms), worker / message / reason] */
  tl?: [string, number, (string | null)?][] | Record<string, never>;
}

export function parseSummary(json: string | null | undefined): TaskSummary | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as TaskSummary;
  } catch {
    return null;
  }
}

const iso = (ms: number | undefined | null) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * `[1,2] {"to":"x"}` from the stored data JSON. The index keeps only its first 300 characters: a cut
 * text is shown the same way, without the `{"args":` wrapper, ending in "…".
 */
export function argsPreview(text: string | null | undefined): string {
  if (!text) return '';
  try {
    const data = JSON.parse(text) as { args?: unknown; kwargs?: Record<string, unknown> };
    const args = JSON.stringify(data.args ?? []);
    return data.kwargs && Object.keys(data.kwargs).length ? `${args} ${JSON.stringify(data.kwargs)}` : args;
  } catch {
    const cut = /^\{"args":(.*)$/s.exec(text);
    if (!cut) return `${text}…`;
    return `${cut[1]!.replace(/,"kwargs":\{\}.*$/s, '').replace(/,"kwargs":/, ' ')}…`;
  }
}

export function toRow(id: string, s: TaskSummary, argsText: string | null | undefined): TaskRow {
  return {
    id,
    name: s.n,
    queue: s.q,
    state: s.s ?? 'PENDING',
    sentAt: iso(s.t0) ?? new Date(0).toISOString(),
    startedAt: iso(s.t1),
    finishedAt: iso(s.t2),
    runtimeMs: typeof s.rt === 'number' ? s.rt : null,
    worker: typeof s.w === 'string' ? s.w : null,
    attempt: typeof s.at === 'number' ? s.at : null,
    retries: s.r ?? 0,
    error: typeof s.e === 'string' ? s.e : null,
    eta: iso(s.eta),
    argsPreview: argsPreview(argsText),
  };
}

export interface ListQuery {
  state?: MonitorState;
  name?: string;
  queue?: string;
  /** Enqueued at or after / at or before (ms). */
  from?: number;
  to?: number;
  /** A task id (exact), or text searched in ids and arguments. */
  q?: string;
  order?: 'desc' | 'asc';
  limit?: number;
  /** 1-based; ignored when a cursor is given. */
  page?: number;
  cursor?: string;
  /** Most entries examined per request when filtering on two or more of state/name/queue or searching. */
  scan?: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const DEFAULT_SCAN = 5000;
export const MAX_SCAN = 20_000;

export function encodeCursor(score: string | number, id: string): string {
  return Buffer.from(`${score}\n${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { score: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [score, id] = text.split('\n');
  if (!score || !id || !/^-?\d+(\.\d+)?$/.test(score) || !isValidTaskId(id)) throw monitoringError.invalid_cursor();
  return { score, id };
}

export async function listTasks(redis: Redis, mk: MonKeys, query: ListQuery): Promise<ListResult> {
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(query.limit ?? DEFAULT_LIMIT)));
  const scanLimit = Math.min(MAX_SCAN, Math.max(1, Math.floor(query.scan ?? DEFAULT_SCAN)));
  const order = query.order ?? 'desc';
  if (query.state && !TASK_STATES.includes(query.state)) throw monitoringError.invalid_state(TASK_STATES);
  const text = query.q?.trim() ?? '';

  // An exact task id answers at once (when the other filters allow it).
  if (text && isValidTaskId(text)) {
    const [json, argsText] = await redis.multi().hget(mk.sum, text).hget(mk.args, text).exec().then((r) => (r ?? []).map(([, v]) => v as string | null));
    const s = parseSummary(json);
    if (s) {
      const fits =
        (!query.state || s.s === query.state) &&
        (!query.name || s.n === query.name) &&
        (!query.queue || s.q === query.queue) &&
        (query.from === undefined || s.t0 >= query.from) &&
        (query.to === undefined || s.t0 <= query.to);
      const items = fits && !query.cursor ? [toRow(text, s, argsText)] : [];
      return { items, total: items.length, page: 1, limit, nextCursor: null, exactId: true };
    }
  }

  const indexes = [
    query.state ? mk.state(query.state) : undefined,
    query.name !== undefined ? mk.name(query.name) : undefined,
    query.queue !== undefined ? mk.queue(query.queue) : undefined,
  ].filter((k): k is string => !!k);
  let walk = mk.all;
  let others: string[] = [];
  if (indexes.length === 1) walk = indexes[0]!;
  else if (indexes.length > 1) {
    // Walk the smallest index; check membership in the others.
    const sizes = await Promise.all(indexes.map((k) => redis.zcard(k)));
    const smallest = sizes.indexOf(Math.min(...sizes));
    walk = indexes[smallest]!;
    others = indexes.filter((_, i) => i !== smallest);
  }
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const page = cursor ? null : Math.max(1, Math.floor(query.page ?? 1));
  const reply = (await LIST.run(redis, [walk, mk.sum, mk.args, ...others], [
    order,
    query.from === undefined ? '-inf' : String(query.from),
    query.to === undefined ? '+inf' : String(query.to),
    cursor?.score ?? '',
    cursor?.id ?? '',
    page ? (page - 1) * limit : 0,
    limit,
    scanLimit,
    text.toLowerCase(),
  ])) as (string | number | null)[];
  const [total, complete, examined, lastId, lastScore] = reply as [number, number, number, string, string];
  const items: TaskRow[] = [];
  const scores: string[] = [];
  for (let i = 5; i + 3 < reply.length; i += 4) {
    const id = reply[i] as string;
    const s = parseSummary(reply[i + 2] as string | null);
    if (!s) continue;
    items.push(toRow(id, s, reply[i + 3] as string | null));
    scores.push(reply[i + 1] as string);
  }
  const bounded = others.length > 0 || text !== '';
  let nextCursor: string | null = null;
  let truncated = false;
  if (items.length > limit) {
    items.length = limit;
    nextCursor = encodeCursor(scores[limit - 1]!, items[limit - 1]!.id);
  } else if (bounded && complete !== 1 && lastId) {
    // The walk stopped at its bound before the range ended: more may match; continue from where it stopped.
    truncated = true;
    nextCursor = encodeCursor(lastScore, lastId);
  }
  return {
    items,
    total: total >= 0 ? total : null,
    page,
    limit,
    nextCursor,
    ...(bounded ? { scan: { examined, limit: scanLimit, truncated } } : {}),
  };
}

export async function getSummary(redis: Redis, mk: MonKeys, id: string): Promise<TaskSummary | null> {
  return parseSummary(await redis.hget(mk.sum, id));
}

export async function forgetTasks(redis: Redis, mk: MonKeys, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await FORGET_IDS.run(redis, [mk.sum], [mk.prefix, ...ids.slice(i, i + 500)]);
}

/** Names and queues seen in the retained tasks, for filter choices. */
export async function filterChoices(redis: Redis, mk: MonKeys): Promise<FilterChoices> {
  const [names, queues] = await Promise.all([redis.zrange(mk.names, '0', '-1'), redis.zrange(mk.queues, '0', '-1')]);
  return { states: TASK_STATES, names: names.sort(), queues: queues.sort() };
}
