// Bull Board's job browser under /api/v1/monitor/queues/:name/jobs: a queue's jobs by state, a page at
// a time, and retry / remove / promote of a selection of ids, answered id by id and written to the
// admin history. Permissions are checked before the input, so a stranger learns nothing from a 400.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { monitoringError } from './errors.js';
import { MAX_PAGE, guardFirst } from '../platform/api-shapes.js';
import { invalidInputAs } from './input-errors.js';
import { JOB_ACTIONS, MAX_BULK_IDS, MAX_JOBS_PAGE, JOB_STATES, actOnJobs, knownQueueNames, listQueueJobs, type JobAction, type TaskClient } from '../tasks/index.js';
import type { JobBulkResult, QueueJobPage } from './contract.js';
import type { MonKeys } from './keys.js';
import type { MonitorAudit, MonitorGuard, MonitorPermission } from './routes.js';
import * as schema from './schemas.js';
import { forgetTasks } from './store.js';

const BASE = '/api/v1/monitor/queues/:name/jobs';
/** How many ids an audit entry names; the rest are counted. */
const AUDIT_IDS = 20;

export interface JobRouteDeps {
  client: TaskClient;
  keys: MonKeys;
  guard: MonitorGuard;
  audit: MonitorAudit;
}

const ACTION: Record<JobAction, { perm: MonitorPermission; verb: string; summary: string }> = {
  retry: { perm: 'change_task', verb: 'Retried', summary: 'Retry the given FAILURE tasks of a queue (revoked ones are wrong_state). Needs change_task' },
  promote: { perm: 'change_task', verb: 'Run now (were delayed)', summary: 'Run the given delayed tasks of a queue now. Needs change_task' },
  remove: { perm: 'delete_task', verb: 'Removed', summary: 'Delete the given tasks of a queue and their results, in any state but running. Needs delete_task' },
};

/** A bad query of the job browser: an unknown parameter first, then the first bad one in the schema's order. */
const invalidJobsQuery = invalidInputAs('querystring', (fields) => {
  const named = Object.keys(fields);
  const unknown = named.find((field) => !Object.hasOwn(schema.jobsQuerySchema.shape, field));
  if (unknown !== undefined) return monitoringError.invalid_request(unknown);
  switch (named[0]) {
    case 'state':
      return monitoringError.invalid_state(JOB_STATES);
    case 'page':
      return monitoringError.invalid_page(1, MAX_PAGE);
    case 'limit':
      return monitoringError.invalid_limit(1, MAX_JOBS_PAGE);
    case 'order':
      return monitoringError.invalid_order();
    default:
      return undefined;
  }
});

const invalidIds = invalidInputAs('body', () => monitoringError.invalid_ids(MAX_BULK_IDS));

/** Only a queue BullMQ knows: its name is a key's part, so nothing else is looked up. */
async function requireQueue(client: TaskClient, name: string): Promise<void> {
  if (!schema.QUEUE_NAME.test(name) || !(await knownQueueNames(client)).includes(name)) throw monitoringError.queue_not_found(name.slice(0, 100));
}

export function registerJobRoutes(server: FastifyInstance, deps: JobRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { client, guard, audit } = deps;

  app.get(
    BASE,
    {
      schema: {
        tags: schema.TAGS,
        summary: 'A queue’s jobs in one BullMQ state (waiting, prioritized, delayed, active, waiting-children, completed, failed), a page at a time, with the counts of every state',
        params: schema.queueParams,
        querystring: schema.jobsQuerySchema,
        response: { 200: schema.jobPageSchema, 400: schema.errors[400], 401: schema.errors[401], 403: schema.errors[403], 404: schema.errors[404] },
      },
      ...guardFirst(guard, 'view_task'),
      ...invalidJobsQuery,
    },
    async (request): Promise<QueueJobPage> => {
      const { state, page, limit, order } = request.query;
      const name = request.params.name;
      await requireQueue(client, name);
      const result = await listQueueJobs(client, name, state, { page, limit, order });
      return { queue: name, state, page, limit, ...result };
    },
  );

  for (const action of JOB_ACTIONS) {
    const { perm, verb, summary } = ACTION[action];
    app.post(
      `${BASE}/${action}`,
      {
        schema: {
          tags: schema.TAGS,
          summary,
          description: `Body \`{"ids": [...]}\`, at most ${MAX_BULK_IDS} ids. Each id is answered on its own (done, not_found, wrong_state); nothing but the named tasks of this queue is touched.`,
          params: schema.queueParams,
          body: schema.bulkIdsBody,
          response: { 200: schema.bulkResultSchema, ...schema.errors },
        },
        ...guardFirst(guard, perm),
        ...invalidIds,
      },
      async (request): Promise<JobBulkResult> => {
        // Checked in preValidation: this call only reads who it was (the identity is kept on the request).
        const actor = await guard(request, perm);
        const { ids } = request.body;
        const name = request.params.name;
        await requireQueue(client, name);
        const results = await actOnJobs(client, name, action, ids, actor.username);
        const done = results.filter((r) => r.outcome === 'done').map((r) => r.id);
        if (action === 'remove' && done.length) await forgetTasks(client.redis, deps.keys, done);
        if (done.length) {
          const named = done.slice(0, AUDIT_IDS).join(', ') + (done.length > AUDIT_IDS ? ` and ${done.length - AUDIT_IDS} more` : '');
          await audit(actor, {
            action: action === 'remove' ? 'delete' : 'change',
            objectType: 'task',
            objectId: done.length === 1 ? done[0]! : null,
            objectRepr: `${done.length} task(s) of queue ${name}`,
            message: `${verb}: ${named}`,
          });
        }
        return {
          queue: name,
          action,
          done: done.length,
          notFound: results.filter((r) => r.outcome === 'not_found').length,
          wrongState: results.filter((r) => r.outcome === 'wrong_state').length,
          results,
        };
      },
    );
  }
}
