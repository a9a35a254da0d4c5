// Task results over HTTP: state, live events (SSE), revoke.
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../platform/http.js';
import { closeStreamsOnShutdown, openEventStream, type EventStream } from '../platform/sse.js';
import { CANCEL_TOKEN_HEADER, presentView, taskNotFound, type AccessLevel, type TaskAccess } from './access.js';
import type { TaskClient, TaskView } from './client.js';
import { TASK_STATES } from './contract.js';
import type { TaskProgress } from './define-task.js';
import { eventCursor, type EventHub } from './events.js';
import { isReady } from './states.js';

const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 200 } }, required: ['id'] } as const;

export const taskViewSchema = {
  type: 'object',
  description: 'A task: its Celery state, progress while it runs, then its result or error.',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    queue: { type: 'string' },
    status: { type: 'string', enum: [...TASK_STATES] },
    args: { type: 'array' },
    kwargs: { type: 'object', additionalProperties: true },
    progress: { type: 'object', additionalProperties: true },
    result: {},
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, traceback: { type: 'string' } } },
    attempts: { type: 'integer' },
    dateCreated: { type: 'string', format: 'date-time' },
    dateStarted: { type: 'string', format: 'date-time' },
    dateDone: { type: 'string', format: 'date-time' },
  },
} as const;

/** The task, or the public routes' one 404 (also for an id that is not an id). */
export async function requireTask(client: TaskClient, id: string): Promise<TaskView> {
  const task = await client.getTask(id);
  if (!task) throw taskNotFound();
  return task;
}

export interface TaskRouteDeps {
  client: TaskClient;
  hub: EventHub;
  /** Who may read and revoke which task (access.ts). */
  access: TaskAccess;
  heartbeatMs?: number;
}

export function registerTaskRoutes(app: FastifyInstance, deps: TaskRouteDeps): void {
  const { client, hub, access } = deps;
  // Open event streams end when the server shuts down, or they would hold the shutdown open.
  const openStreams = closeStreamsOnShutdown(app);

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'A task’s state and result',
        description:
          'An uploaded (thumbnail) task is served to whoever holds its id, without its arguments and with errors as {code, message}; any other task needs a staff account with view_task (session or Bearer token), which also sees arguments and tracebacks. Unknown, malformed and not-yours ids all answer 404.',
        params: idParams,
        response: { 200: taskViewSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { view, level } = await access.read(request, request.params.id);
      return presentView(view, level);
    },
  );

  app.delete<{ Params: { id: string }; Querystring: { terminate?: boolean; token?: string } }>(
    '/api/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Revoke a task: a waiting task will not run; a running one has its abort signal raised',
        description: `The uploader of a thumbnail task revokes it with the cancelToken of the 202 (header ${CANCEL_TOKEN_HEADER} or ?token=). Anything else, and terminate=true always, needs a staff account with change_task, and is written to the admin history.`,
        params: idParams,
        querystring: { type: 'object', properties: { terminate: { type: 'boolean' }, token: { type: 'string', maxLength: 200 } } },
        response: { 200: taskViewSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const header = request.headers[CANCEL_TOKEN_HEADER];
      const token = typeof header === 'string' ? header : request.query.token;
      return access.revoke(request, request.params.id, { terminate: request.query.terminate, token });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id/events',
    {
      config: { produces: { type: 'text/event-stream', description: '`event: task` lines with the task as JSON, until it finishes', errors: [404, 429] } },
      schema: {
        tags: ['tasks'],
        summary: 'Server-sent events: `event: task` with the task JSON on every change; the stream ends after SUCCESS, FAILURE or REVOKED',
        params: idParams,
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      let view: TaskView | null = null;
      let level: AccessLevel = 'public';
      const shown = (v: TaskView) => presentView(v, level);
      let stream!: EventStream;
      let headersSent!: () => void;
      // Events queue up behind the initial state; each is sent in order once the headers are out.
      let pending = new Promise<void>((resolve) => (headersSent = resolve));
      const publish = (next: TaskView, eventId?: string) => {
        view = next;
        stream.write('task', shown(next), eventId);
        if (isReady(next.status)) stream.close();
      };
      // Subscribe before reading the state, so an event between the two is not lost.
      const unsubscribe = hub.subscribe(id, (event) => {
        pending = pending.then(async () => {
          if (stream.isClosed) return;
          if (event.type === 'progress' && view && !isReady(view.status)) {
            publish({ ...view, status: 'PROGRESS', progress: event.data as TaskProgress }, eventCursor(event));
          } else {
            // The queue is known by now: one round trip.
            const next = await client.readTask(id, { queue: view?.queue }).catch(() => null);
            if (next) publish(next.view, eventCursor(event));
          }
        });
      });
      try {
        // The same rule as GET, decided once before the stream opens; each event then shows the caller's view.
        ({ view, level } = await access.read(request, id));
      } catch (err) {
        unsubscribe();
        throw err;
      }
      stream = openEventStream(reply, { streams: openStreams, heartbeatMs: deps.heartbeatMs, onClose: unsubscribe });
      publish(view);
      headersSent();
      await stream.closed;
    },
  );
}
