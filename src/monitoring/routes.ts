// The monitor's JSON API under /api/v1/monitor (reads, actions) and its live event stream (SSE).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { monitoringError } from './errors.js';
import { guardFirst } from '../platform/api-shapes.js';
import { closeStreamsOnShutdown, openEventStream } from '../platform/sse.js';
import { EVENT_CURSOR_PATTERN, eventCursor, isValidTaskId, type EventHub, type TaskClient, type TaskEvent } from '../tasks/index.js';
import { collectQueues, collectWorkers } from './collectors.js';
import type { LiveTaskEvent, LiveWorkersEvent, MonitorState, Overview } from './contract.js';
import type { MonKeys } from './keys.js';
import * as schema from './schemas.js';
import { readMinutes, readTotals, runtimePercentiles, seriesOf, stateCounts, sumCounts } from './stats.js';
import { filterChoices, listTasks } from './store.js';
import { cleanFailedTasks, deleteTask, missing, promoteTask, retryFailedTasks, retryTask, revokeTask, runTaskAgain, taskDetail, type Actor, type TaskDetail } from './tasks.js';

export type MonitorPermission = 'view_task' | 'change_task' | 'delete_task' | 'change_worker';
/** Resolves to who is asking, or throws 401/403 (the admin's requirePerm). */
export type MonitorGuard = (request: FastifyRequest, perm: MonitorPermission) => Promise<Actor>;
export interface MonitorChange {
  action: 'add' | 'change' | 'delete';
  objectType: 'task' | 'worker' | 'queue' | 'task type';
  objectId: string | null;
  objectRepr: string;
  message: string;
}
/** Records an operator's action in the admin history (the admin's recordChange). */
export type MonitorAudit = (actor: Actor, change: MonitorChange) => Promise<void>;

export interface MonitorRouteDeps {
  client: TaskClient;
  hub: EventHub;
  keys: MonKeys;
  guard: MonitorGuard;
  audit: MonitorAudit;
  heartbeatMs?: number;
  /** Called with the workers online and gone whenever a worker comes or goes; returns an unsubscribe. */
  onWorkersChanged?: (listener: (workers: LiveWorkersEvent) => void) => () => void;
}

const BASE = '/api/v1/monitor';

export const STATE_OF_EVENT: Record<string, MonitorState> = {
  sent: 'PENDING',
  received: 'PENDING',
  started: 'STARTED',
  progress: 'PROGRESS',
  retried: 'RETRY',
  succeeded: 'SUCCESS',
  failed: 'FAILURE',
  revoked: 'REVOKED',
};

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw monitoringError.invalid_time(field);
  return ms;
}

/** 404 for an id that cannot name a task (a BullMQ key name, a ':', odd characters), before any key is built from it. */
function checkId(id: string): void {
  if (!isValidTaskId(id)) throw missing(id);
}

export function registerMonitorRoutes(server: FastifyInstance, deps: MonitorRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, keys: mk, guard, audit } = deps;
  const redis = client.redis;
  const view = (request: FastifyRequest) => guard(request, 'view_task');

  app.get(
    `${BASE}/overview`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'The dashboard: counts per state, per-minute series, runtime percentiles per task name, workers and queues in brief',
        querystring: schema.overviewQuery,
        response: { 200: schema.overviewSchema, 401: schema.errors[401], 403: schema.errors[403] },
      },
      ...guardFirst(guard, 'view_task'),
    },
    async (request): Promise<Overview> => {
      await view(request);
      const now = Date.now();
      const minutes = request.query.minutes ?? 60;
      const [counts, buckets, totals, workers] = await Promise.all([
        stateCounts(redis, mk),
        readMinutes(redis, mk, now, minutes),
        readTotals(redis, mk),
        collectWorkers(redis, client.keys, mk, now),
      ]);
      const queues = await collectQueues(client, mk, workers, now);
      const sum = (k: 'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed') => queues.reduce((s, q) => s + q.counts[k], 0);
      return {
        generatedAt: new Date(now).toISOString(),
        window: { minutes, from: new Date(buckets[0]!.at).toISOString(), to: new Date(now).toISOString() },
        tasks: counts,
        totals: {
          all: sumCounts(totals.values()),
          byName: [...totals].map(([name, c]) => ({ name, ...c })).sort((a, b) => a.name.localeCompare(b.name)),
        },
        series: seriesOf(buckets),
        runtimes: runtimePercentiles(buckets),
        workers: { online: workers.filter((w) => w.status === 'online').length, gone: workers.filter((w) => w.status === 'gone').length },
        queues: { count: queues.length, waiting: sum('waiting'), active: sum('active'), delayed: sum('delayed'), prioritized: sum('prioritized'), failed: sum('failed') },
      };
    },
  );

  app.get(
    `${BASE}/workers`,
    { schema: { tags: schema.TAGS, summary: 'Workers: online, and gone within the last hour', response: { 200: schema.workersSchema, 401: schema.errors[401], 403: schema.errors[403] } } },
    async (request) => {
      await view(request);
      const items = await collectWorkers(redis, client.keys, mk);
      return { items, online: items.filter((w) => w.status === 'online').length, gone: items.filter((w) => w.status === 'gone').length };
    },
  );

  app.get(
    `${BASE}/queues`,
    { schema: { tags: schema.TAGS, summary: 'Queues: counts by state, throughput, age of the oldest waiting task', response: { 200: schema.queuesSchema, 401: schema.errors[401], 403: schema.errors[403] } } },
    async (request) => {
      await view(request);
      const now = Date.now();
      return { items: await collectQueues(client, mk, await collectWorkers(redis, client.keys, mk, now), now) };
    },
  );

  app.get(
    `${BASE}/filters`,
    { schema: { tags: schema.TAGS, summary: 'Choices for the task list’s filters: states, task names and queues seen', response: { 200: schema.filtersSchema, 401: schema.errors[401], 403: schema.errors[403] } } },
    async (request) => {
      await view(request);
      return filterChoices(redis, mk);
    },
  );

  app.get(
    `${BASE}/tasks`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Tasks retained, newest first: filter by state, name, queue and enqueue time; search by id or argument text; page or cursor',
        querystring: schema.listQuerySchema,
        response: { 200: schema.listSchema, 400: schema.errors[400], 401: schema.errors[401], 403: schema.errors[403] },
      },
      ...guardFirst(guard, 'view_task'),
    },
    async (request) => {
      await view(request);
      const { from, to, ...rest } = request.query;
      return listTasks(redis, mk, { ...rest, from: parseTime(from, 'from'), to: parseTime(to, 'to') });
    },
  );

  app.get(
    `${BASE}/tasks/:id`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'One task: arguments, result, error with traceback, retries, timeline, worker, runtime, and the actions that fit its state',
        params: schema.idParams,
        response: { 200: schema.detailSchema, 401: schema.errors[401], 403: schema.errors[403], 404: schema.errors[404] },
      },
      ...guardFirst(guard, 'view_task'),
    },
    async (request) => {
      await view(request);
      checkId(request.params.id);
      return taskDetail(client, mk, request.params.id);
    },
  );

  // Actions: each needs its permission and is written to the admin history; they answer with the task as it is now.
  const act = <B>(
    path: string,
    summary: string,
    perm: MonitorPermission,
    body: z.ZodType<B> | undefined,
    run: (request: FastifyRequest<{ Params: { id: string }; Body: B }>, actor: Actor) => Promise<Partial<TaskDetail> | void>,
  ) =>
    app.post<{ Params: { id: string }; Body: B }>(
      `${BASE}/tasks/:id/${path}`,
      {
        schema: {
          tags: schema.TAGS,
          summary,
          params: schema.idParams,
          ...(body ? { body } : {}),
          response: { 200: schema.detailSchema, ...schema.errors },
        },
        ...guardFirst(guard, perm),
      },
      async (request) => {
        const actor = await guard(request, perm);
        checkId(request.params.id);
        const known = await run(request, actor);
        return { ...(await taskDetail(client, mk, request.params.id)), ...known };
      },
    );

  act<{ terminate?: boolean; reason?: string } | null | undefined>(
    'revoke',
    'Revoke a task that has not finished (409 otherwise); `terminate` also ends it at once if it is running. Needs change_task',
    'change_task',
    schema.revokeBody,
    async (request, actor) => {
      const id = request.params.id;
      const body = request.body ?? {};
      const { name, reason } = await revokeTask(client, id, actor, body);
      await audit(actor, { action: 'change', objectType: 'task', objectId: id, objectRepr: `${name} ${id}`, message: `Revoked${body.terminate ? ' and terminated' : ''}: ${reason}` });
      return { state: 'REVOKED', error: { code: 'revoked', message: reason } };
    },
  );

  act('retry', 'Run a FAILURE task again (409 for any other state). Needs change_task', 'change_task', undefined, async (request, actor) => {
    const id = request.params.id;
    const { name } = await retryTask(client, id, actor);
    await audit(actor, { action: 'change', objectType: 'task', objectId: id, objectRepr: `${name} ${id}`, message: 'Retried' });
  });

  act('promote', 'Run a delayed task now (409 unless it is delayed). Needs change_task', 'change_task', undefined, async (request, actor) => {
    const id = request.params.id;
    const { name } = await promoteTask(client, id);
    await audit(actor, { action: 'change', objectType: 'task', objectId: id, objectRepr: `${name} ${id}`, message: 'Run now (was delayed)' });
  });

  app.post(
    `${BASE}/tasks/:id/run-again`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Send a finished task (SUCCESS, FAILURE, REVOKED) again as a new task with the same name, arguments and queue (409 while it has not finished). Needs change_task',
        params: schema.idParams,
        response: { 202: schema.runAgainSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'change_task'),
    },
    async (request, reply) => {
      const actor = await guard(request, 'change_task');
      const id = request.params.id;
      checkId(id);
      const copy = await runTaskAgain(client, id);
      await audit(actor, { action: 'add', objectType: 'task', objectId: copy.id, objectRepr: `${copy.name} ${copy.id}`, message: `Run again (a copy of ${id})` });
      return reply.code(202).send({ id: copy.id, from: id });
    },
  );

  app.delete(
    `${BASE}/tasks/:id`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Delete a task and its result (409 while it runs: revoke it first). Needs delete_task',
        params: schema.idParams,
        response: { 200: schema.deletedSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'delete_task'),
    },
    async (request) => {
      const actor = await guard(request, 'delete_task');
      const id = request.params.id;
      checkId(id);
      const { name, state } = await deleteTask(client, mk, id);
      await audit(actor, { action: 'delete', objectType: 'task', objectId: id, objectRepr: `${name} ${id}`, message: `Deleted (was ${state})` });
      return { id, deleted: true };
    },
  );

  app.post(
    `${BASE}/queues/:name/retry-failed`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Retry the FAILURE tasks of a queue, oldest first, up to `limit` (revoked ones are left alone). Needs change_task',
        params: schema.queueParams,
        body: schema.bulkBody,
        response: { 200: schema.retriedAllSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'change_task'),
    },
    async (request) => {
      const actor = await guard(request, 'change_task');
      const result = await retryFailedTasks(client, request.params.name, actor, request.body?.limit ?? 1000);
      await audit(actor, { action: 'change', objectType: 'task', objectId: null, objectRepr: `failed tasks of queue ${result.queue}`, message: `Retried ${result.retried} failed task(s)` });
      return result;
    },
  );

  app.post(
    `${BASE}/queues/:name/clean-failed`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Delete the failed tasks of a queue (FAILURE and REVOKED), oldest first, up to `limit`. Needs delete_task',
        params: schema.queueParams,
        body: schema.bulkBody,
        response: { 200: schema.cleanedSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'delete_task'),
    },
    async (request) => {
      const actor = await guard(request, 'delete_task');
      const result = await cleanFailedTasks(client, mk, request.params.name, request.body?.limit ?? 1000);
      await audit(actor, { action: 'delete', objectType: 'task', objectId: null, objectRepr: `failed tasks of queue ${result.queue}`, message: `Removed ${result.removed} failed task(s)` });
      return result;
    },
  );

  registerEventStream(server, deps);
}

/** What one SSE message carries. */
export function eventPayload(event: TaskEvent): LiveTaskEvent {
  return {
    type: event.type,
    state: STATE_OF_EVENT[event.type] ?? null,
    taskId: event.taskId,
    name: event.name,
    queue: event.queue,
    at: new Date(event.ts).toISOString(),
    ...(event.data ? { data: event.data } : {}),
  };
}

function registerEventStream(server: FastifyInstance, deps: MonitorRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, hub, guard } = deps;
  const openStreams = closeStreamsOnShutdown(server);

  app.get(
    `${BASE}/events`,
    {
      config: { produces: { type: 'text/event-stream', description: '`event: task` and `event: workers` lines, live, with replay after Last-Event-ID' } },
      schema: {
        tags: schema.TAGS,
        summary:
          'Server-sent events: `event: task` for every task event (`id:` is where the event stands in the streams, to send back as Last-Event-ID; data {type, state, taskId, name, queue, at, data?}), optionally for one task, name or queue; after a reconnect (Last-Event-ID) up to 1000 missed events are replayed',
        querystring: schema.eventsQuery,
        response: { 401: schema.errors[401], 403: schema.errors[403] },
      },
      ...guardFirst(guard, 'view_task'),
    },
    async (request, reply) => {
      await guard(request, 'view_task');
      const { taskId, name, queue } = request.query;
      const header = request.headers['last-event-id'];
      const lastEventId = request.query.lastEventId ?? (typeof header === 'string' && new RegExp(EVENT_CURSOR_PATTERN).test(header) ? header : undefined);
      const wanted = (e: TaskEvent) => (!taskId || e.taskId === taskId) && (!name || e.name === name) && (!queue || e.queue === queue);
      let replaying = true;
      const held: TaskEvent[] = [];
      const replayed = new Set<string>();
      const write = (e: TaskEvent) => {
        if (stream.isClosed || reply.raw.writableEnded || !wanted(e)) return;
        const id = eventCursor(e);
        if (replaying && id) replayed.add(id);
        stream.write('task', eventPayload(e), id);
      };
      // Subscribe first, so nothing between the replay and the live feed is lost; hold live events until the replay is out.
      const unsubscribeTasks = hub.subscribe(taskId ?? '*', (e) => (replaying ? held.push(e) : write(e)));
      // Workers coming and going, for the workers page and the dashboard (not for one task's page).
      const unsubscribeWorkers = taskId
        ? () => {}
        : (deps.onWorkersChanged?.((workers) => stream.write('worker', workers)) ?? (() => {}));
      const unsubscribe = () => {
        unsubscribeTasks();
        unsubscribeWorkers();
      };
      const stream = openEventStream(reply, { streams: openStreams, heartbeatMs: deps.heartbeatMs, onClose: unsubscribe });
      if (lastEventId) {
        const missed = await client.readEvents(lastEventId, 1000).catch(() => [] as TaskEvent[]);
        for (const e of missed) write(e);
      }
      replaying = false;
      for (const e of held) if (!replayed.has(eventCursor(e) ?? '')) write(e);
      held.length = 0;
      await stream.closed;
    },
  );
}
