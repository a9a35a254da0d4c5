// Task results over HTTP: state, live events (SSE), revoke.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponse, queryFlag } from '../platform/api-shapes.js';
import { closeStreamsOnShutdown, openEventStream, type EventStream } from '../platform/sse.js';
import { CANCEL_TOKEN_HEADER, presentView, taskNotFound, type AccessLevel, type TaskAccess } from './access.js';
import type { TaskClient, TaskView } from './client.js';
import { TASK_STATES } from './contract.js';
import type { TaskProgress } from './define-task.js';
import { eventCursor, type EventHub } from './events.js';
import { isReady } from './states.js';

const idParams = z.object({ id: z.string().max(200) });

export const taskView = z
  .object({
    id: z.string(),
    name: z.string(),
    queue: z.string(),
    status: z.enum(TASK_STATES),
    args: z.array(z.unknown()),
    kwargs: z.record(z.string(), z.unknown()),
    progress: z.record(z.string(), z.unknown()),
    result: z.unknown(),
    error: z.object({ code: z.string(), message: z.string(), traceback: z.string().optional() }),
    attempts: z.number().int(),
    dateCreated: z.string(),
    dateStarted: z.string(),
    dateDone: z.string(),
  })
  .partial()
  .describe('A task: its Celery state, progress while it runs, then its result or error.');

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

export function registerTaskRoutes(server: FastifyInstance, deps: TaskRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, hub, access } = deps;
  // Open event streams end when the server shuts down, or they would hold the shutdown open.
  const openStreams = closeStreamsOnShutdown(server);

  app.get(
    '/api/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'A task’s state and result',
        description:
          'An uploaded (thumbnail) task is served to whoever holds its id, without its arguments and with errors as {code, message}; any other task needs a staff account with view_task (session or Bearer token), which also sees arguments and tracebacks. Unknown, malformed and not-yours ids all answer 404.',
        params: idParams,
        response: { 200: taskView, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { view, level } = await access.read(request, request.params.id);
      return presentView(view, level);
    },
  );

  app.delete(
    '/api/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Revoke a task: a waiting task will not run; a running one has its abort signal raised',
        description: `The uploader of a thumbnail task revokes it with the cancelToken of the 202 (header ${CANCEL_TOKEN_HEADER} or ?token=). Anything else, and terminate=true always, needs a staff account with change_task, and is written to the admin history.`,
        params: idParams,
        querystring: z.object({ terminate: queryFlag.optional(), token: z.string().max(200).optional() }),
        response: { 200: taskView, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const header = request.headers[CANCEL_TOKEN_HEADER];
      const token = typeof header === 'string' ? header : request.query.token;
      return access.revoke(request, request.params.id, { terminate: request.query.terminate, token });
    },
  );

  app.get(
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
