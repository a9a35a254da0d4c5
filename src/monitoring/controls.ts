// Operator controls, as Flower and Bull Board give them: a worker's concurrency, its queues and a
// warm shutdown; pausing a queue; a task's rate limit at run time. Each needs change_worker and is
// written to the admin history.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { monitoringError } from './errors.js';
import { guardFirst } from '../platform/api-shapes.js';
import { invalidInputAs } from './input-errors.js';
import { closeRedis, createRedis, type RedisTarget } from '../platform/redis.js';
import {
  MAX_CONCURRENCY,
  WORKER_CONTROL_COMMANDS,
  controlWorkers,
  getTaskDefinition,
  knownQueueNames,
  liveWorkers,
  rateLimitOverrides,
  registeredTasks,
  setRateLimit,
  type TaskClient,
  type WorkerControl,
} from '../tasks/index.js';
import type { MonitorAudit, MonitorGuard } from './routes.js';
import * as schema from './schemas.js';

const BASE = '/api/v1/monitor';
/** How long the web waits for a worker to answer a control command. */
const REPLY_TIMEOUT_MS = 3000;

export interface ControlRouteDeps {
  client: TaskClient;
  redisTarget: RedisTarget | string;
  guard: MonitorGuard;
  audit: MonitorAudit;
}

/** A bad control body: the error of its first bad field (a missing or unknown command is invalid_command). */
const invalidControl = invalidInputAs('body', (fields) => {
  switch (Object.keys(fields)[0]) {
    case 'value':
      return monitoringError.invalid_concurrency(MAX_CONCURRENCY);
    case 'queue':
      return monitoringError.invalid_queue();
    default:
      return monitoringError.invalid_command(WORKER_CONTROL_COMMANDS);
  }
});

/** A bad rate: what parseRate said of it, or the general sentence (see rateLimitBody). */
const invalidRate = invalidInputAs('body', (fields) => monitoringError.invalid_rate_limit(fields.rate));

function describeControl(control: WorkerControl): string {
  switch (control.command) {
    case 'concurrency':
      return `Concurrency set to ${control.value}`;
    case 'add-consumer':
      return `Started consuming queue ${control.queue}`;
    case 'cancel-consumer':
      return `Stopped consuming queue ${control.queue}`;
    case 'shutdown':
      return 'Warm shutdown';
  }
}

export function registerControlRoutes(server: FastifyInstance, deps: ControlRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, guard, audit } = deps;
  const redis = client.redis;

  app.post(
    `${BASE}/workers/:name/control`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Control one worker (Celery’s control): set its concurrency, start or stop consuming a queue, or shut it down warmly. Needs change_worker',
        description:
          'Bodies: `{"command":"concurrency","value":8}`, `{"command":"add-consumer","queue":"reports"}`, `{"command":"cancel-consumer","queue":"reports"}`, `{"command":"shutdown"}` ' +
          '(the worker’s process ends as on SIGTERM: running tasks finish first). 404 when the worker is not online, 504 when it does not answer within 3 s.',
        params: schema.workerParams,
        body: schema.controlBody,
        response: { 200: schema.controlReplySchema, ...schema.errors, 504: schema.errors[404] },
      },
      ...guardFirst(guard, 'change_worker'),
      ...invalidControl,
    },
    async (request) => {
      // Checked in preValidation: this call only reads who it was (the identity is kept on the request).
      const actor = await guard(request, 'change_worker');
      const control: WorkerControl = request.body;
      const name = request.params.name;
      if (!(await liveWorkers(redis, client.keys)).some((w) => w.name === name)) throw monitoringError.worker_not_found(name);
      const blocking = createRedis(deps.redisTarget, { name: 'seler-web-control', maxRetriesPerRequest: 1 });
      let replies;
      try {
        replies = await controlWorkers(redis, blocking, client.keys, control, [name], REPLY_TIMEOUT_MS);
      } finally {
        await closeRedis(blocking, 200);
      }
      const reply = replies.find((r) => r.worker === name)?.reply;
      if (!reply) throw monitoringError.worker_no_reply(name, REPLY_TIMEOUT_MS / 1000);
      if (!reply.ok) throw monitoringError.control_refused(reply.error);
      if (reply.changed) await audit(actor, { action: 'change', objectType: 'worker', objectId: name, objectRepr: name, message: describeControl(control) });
      return { worker: name, ...reply };
    },
  );

  for (const [path, pause] of [['pause', true], ['resume', false]] as const)
    app.post<{ Params: { name: string } }>(
      `${BASE}/queues/:name/${path}`,
      {
        schema: {
          tags: schema.TAGS,
          summary: pause
            ? 'Pause a queue: no worker starts a task from it until it is resumed (running tasks finish; new tasks still queue up). Needs change_worker'
            : 'Resume a paused queue. Needs change_worker',
          params: schema.queueParams,
          response: { 200: schema.pausedSchema, ...schema.errors },
        },
        ...guardFirst(guard, 'change_worker'),
      },
      async (request) => {
        const actor = await guard(request, 'change_worker');
        const queueName = request.params.name;
        if (!(await knownQueueNames(client)).includes(queueName)) throw monitoringError.queue_not_found(queueName.slice(0, 100));
        const queue = client.queue(queueName);
        const changed = (await queue.isPaused()) !== pause;
        if (changed) {
          await (pause ? queue.pause() : queue.resume());
          await audit(actor, { action: 'change', objectType: 'queue', objectId: queueName, objectRepr: queueName, message: pause ? 'Paused' : 'Resumed' });
        }
        return { queue: queueName, paused: pause, changed };
      },
    );

  app.get(
    `${BASE}/rate-limits`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Every registered task with the rate limit it declares, the one set at run time, and the one in force',
        response: { 200: schema.rateLimitsSchema, 401: schema.errors[401], 403: schema.errors[403] },
      },
    },
    async (request) => {
      await guard(request, 'view_task');
      const overrides = await rateLimitOverrides(redis, client.keys);
      const names = [...new Set([...registeredTasks().map((t) => t.name), ...Object.keys(overrides)])].sort();
      return {
        items: names.map((task) => {
          const declared = getTaskDefinition(task)?.options.rateLimit ?? null;
          const override = overrides[task] ?? null;
          const effective = override ?? declared;
          return { task, declared, override, effective: effective === 'none' ? null : effective };
        }),
      };
    },
  );

  app.put(
    `${BASE}/rate-limits/:task`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Set a task’s rate limit at run time, on every worker at once ("10/s", "100/m", "1000/h", "5000/d", or "none" for no limit). Needs change_worker',
        params: schema.taskNameParams,
        body: schema.rateLimitBody,
        response: { 200: schema.rateLimitSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'change_worker'),
      ...invalidRate,
    },
    async (request) => {
      const actor = await guard(request, 'change_worker');
      const task = checkTaskName(request.params.task);
      const normalized = request.body.rate;
      await setRateLimit(redis, client.keys, task, normalized);
      await audit(actor, { action: 'change', objectType: 'task type', objectId: task, objectRepr: task, message: `Rate limit set to ${normalized}` });
      return rateLimitView(task, normalized);
    },
  );

  app.delete<{ Params: { task: string } }>(
    `${BASE}/rate-limits/:task`,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'Drop a run-time rate limit: the task is limited as it declares again. Needs change_worker',
        params: schema.taskNameParams,
        response: { 200: schema.rateLimitSchema, ...schema.errors },
      },
      ...guardFirst(guard, 'change_worker'),
    },
    async (request) => {
      const actor = await guard(request, 'change_worker');
      const task = checkTaskName(request.params.task);
      await setRateLimit(redis, client.keys, task, null);
      await audit(actor, { action: 'change', objectType: 'task type', objectId: task, objectRepr: task, message: 'Rate limit back to the declared one' });
      return rateLimitView(task, null);
    },
  );
}

/** Only a registered task can be limited: a typo must not create a limit nobody sees take effect. */
function checkTaskName(task: string): string {
  if (!getTaskDefinition(task)) throw monitoringError.task_type_not_found(task);
  return task;
}

function rateLimitView(task: string, override: string | null) {
  const declared = getTaskDefinition(task)?.options.rateLimit ?? null;
  const effective = override ?? declared;
  return { task, declared, override, effective: effective === 'none' ? null : effective };
}
