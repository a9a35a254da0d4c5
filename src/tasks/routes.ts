// Task results over HTTP: state, live events (SSE), revoke.
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../platform/http.js';
import { notFound } from '../platform/errors.js';
import { closeStreamsOnShutdown, openEventStream, type EventStream } from '../platform/sse.js';
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

export async function requireTask(client: TaskClient, id: string): Promise<TaskView> {
  const task = await client.getTask(id);
  if (!task) throw notFound(`No task with id "${id}" (it never existed or its result has expired).`, 'task_not_found');
  return task;
}

export function registerTaskRoutes(app: FastifyInstance, deps: { client: TaskClient; hub: EventHub; heartbeatMs?: number }): void {
  const { client, hub } = deps;
  // Open event streams end when the server shuts down, or they would hold the shutdown open.
  const openStreams = closeStreamsOnShutdown(app);

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id',
    { schema: { tags: ['tasks'], summary: 'A task’s state and result', params: idParams, response: { 200: taskViewSchema, 404: errorSchema } } },
    async (request) => requireTask(client, request.params.id),
  );

  app.delete<{ Params: { id: string }; Querystring: { terminate?: boolean } }>(
    '/api/v1/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Revoke a task: a waiting task will not run; a running one has its abort signal raised',
        params: idParams,
        querystring: { type: 'object', properties: { terminate: { type: 'boolean' } } },
        response: { 200: taskViewSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const view = await client.revoke(request.params.id, { terminate: request.query.terminate, reason: 'revoked over HTTP' });
      if (!view) throw notFound(`No task with id "${request.params.id}".`, 'task_not_found');
      return view;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/tasks/:id/events',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Server-sent events: `event: task` with the task JSON on every change; the stream ends after SUCCESS, FAILURE or REVOKED',
        params: idParams,
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      let view: TaskView | null = null;
      let stream!: EventStream;
      let headersSent!: () => void;
      // Events queue up behind the initial state; each is sent in order once the headers are out.
      let pending = new Promise<void>((resolve) => (headersSent = resolve));
      const publish = (next: TaskView, eventId?: string) => {
        view = next;
        stream.write('task', next, eventId);
        if (isReady(next.status)) stream.close();
      };
      // Subscribe before reading the state, so an event between the two is not lost.
      const unsubscribe = hub.subscribe(id, (event) => {
        pending = pending.then(async () => {
          if (stream.isClosed) return;
          if (event.type === 'progress' && view && !isReady(view.status)) {
            publish({ ...view, status: 'PROGRESS', progress: event.data as TaskProgress }, eventCursor(event));
          } else {
            const next = await client.getTask(id).catch(() => null);
            if (next) publish(next, eventCursor(event));
          }
        });
      });
      try {
        view = await requireTask(client, id);
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
