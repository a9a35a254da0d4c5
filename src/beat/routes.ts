// Periodic tasks over JSON (django-celery-beat's admin as an API): list, read, create, change, delete,
// run now, run history, reset to the declared values, bulk enable/disable/delete. Guarded by the
// periodictask permissions, audited, and every change wakes the beats (the `notify` option). The
// guard and the audit log are handed in (app.ts gives the admin's), as to the monitor's routes.
//
// Params, queries and bodies are checked by the zod schemas of schemas.ts (bodies by the beat model's
// own field rules) after the guard (preValidation), so every bad field comes back as
// 400 {error:{code:'invalid_periodic_task', message, fields:{"schedule.crontab.minute": "…"}}}.
// What a schema cannot know is checked here: whether the task is defined, its arguments' fit.
// A config task may be deleted: the next beat start re-creates it unless it is removed from the file
// (the response says so). Builtin tasks cannot be deleted, only disabled or changed.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { added, changed, deleted, type AuditAction, type AuditActor, type ChangeMessage } from '../platform/audit.js';
import { errorMessage } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { getTaskDefinition } from '../tasks/index.js';
import type { BeatAudit, BeatGuard, BeatPermission } from './access.js';
import type { PeriodicTaskView } from './contract.js';
import { beatError } from './errors.js';
import { MANAGED_FIELDS, canonical, type FieldErrors, type PeriodicTask, type PeriodicTaskInput } from './model.js';
import { registerScheduleRoutes } from './schedule-routes.js';
import { describeSchedule } from './schedules/index.js';
import { runHistory, runNow, type BeatClient } from './scheduler.js';
import {
  BULK_IDS_RULE, PERIODIC_TAGS, RESET_FIELDS_RULE, asListProblem, bulkBody, bulkResult, deletedView, errors, guardedRoute, idParams, pageOf, pageQuery,
  periodicTaskCreateBody, periodicTaskListQuery, periodicTaskPatchBody, periodicTaskView, ranView, resetBody, runView, type SortField,
} from './schemas.js';
import type { RunClaims } from './claims.js';
import type { PeriodicTasks } from './periodic-tasks.js';

export interface BeatRouteDeps {
  tasks: PeriodicTasks;
  /** Records run-now runs. */
  claims: RunClaims;
  /** Enqueues runs (run now) and reads their states (run history). */
  client: BeatClient;
  guard: BeatGuard;
  audit: BeatAudit;
  /** Called after every change to periodic tasks (the app passes notifyScheduleChanged); failures are logged, not returned. */
  notify?: () => unknown;
  /** SELER_TIMEZONE: crontabs without a zone, and the local times of previews. Defaults to the repository's. */
  timezone?: string;
  logger: Logger;
}

const BASE = '/api/v1/admin/periodic-tasks';

/** The periodic task as the API returns it. */
export const render = (task: PeriodicTask): PeriodicTaskView => ({ ...task, scheduleDescription: describeSchedule(task.schedule) });

const DIFF_FIELDS = ['name', ...MANAGED_FIELDS] as const;
function changedFields(before: PeriodicTask, after: PeriodicTask): string[] {
  return DIFF_FIELDS.filter((f) => canonical(before[f]) !== canonical(after[f]));
}

function issueText(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'does not fit the task';
  const at = issue.path.length ? `[${issue.path.map(String).join('][')}]` : '';
  return `${at ? `${at}: ` : ''}${issue.message}`;
}

/**
 * The checks the model cannot make: the task must be defined in this process unless `customTask`
 * says otherwise, and args/kwargs must fit its declared schemas. Throws 400 naming each.
 */
function checkTask(value: PeriodicTaskInput, customTask: boolean, current?: PeriodicTask): void {
  const errs: FieldErrors = {};
  const name = value.task ?? current?.task;
  const definition = name ? getTaskDefinition(name) : undefined;
  if (value.task !== undefined && value.task !== current?.task && !customTask && !definition)
    errs.task = `unknown task "${value.task}": no loaded module defines it (set customTask: true for a task only some workers define)`;
  if (definition && (value.task !== undefined || value.args !== undefined || value.kwargs !== undefined)) {
    const { argsSchema, kwargsSchema } = definition.options;
    const args = argsSchema?.safeParse(value.args ?? current?.args ?? []);
    if (args && !args.success) errs.args = `args do not fit ${definition.name}: ${issueText(args.error.issues[0])}`;
    const kwargs = kwargsSchema?.safeParse(value.kwargs ?? current?.kwargs ?? {});
    if (kwargs && !kwargs.success) errs.kwargs = `kwargs do not fit ${definition.name}: ${issueText(kwargs.error.issues[0])}`;
  }
  if (Object.keys(errs).length) throw beatError.invalid_periodic_task(errs);
}

/** The periodic-task and schedule routes under /api/v1/admin (periodic-tasks, schedules, registered-tasks). */
export function registerBeatRoutes(server: FastifyInstance, options: BeatRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { tasks, claims, client, guard, audit } = options;
  const timezone = options.timezone ?? tasks.timezone;
  const { logger } = options;
  const notify = async () => {
    try {
      await options.notify?.();
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'could not notify the beats of a periodic-task change (they re-check within seconds)');
    }
  };
  const record = (actor: AuditActor, task: { id: number; name: string }, action: AuditAction, message: ChangeMessage | string) =>
    audit(actor, { action, objectType: 'periodictask', objectId: task.id, objectRepr: task.name, message });
  /** Audits and announces a change when a field moved; the task as the API returns it. */
  const afterChange = async (actor: AuditActor, before: PeriodicTask, after: PeriodicTask) => {
    const fields = changedFields(before, after);
    if (fields.length) {
      await record(actor, after, 'change', changed(fields));
      await notify();
    }
    return render(after);
  };
  const find = async (id: number) => {
    const task = await tasks.get(id);
    if (!task) throw beatError.periodic_task_not_found(id);
    return task;
  };
  const guarded = (perm: BeatPermission | null, invalidBody?: (fields: FieldErrors) => Error) => guardedRoute(guard, perm, invalidBody);

  app.get(
    BASE,
    {
      ...guarded('view_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Periodic tasks: search, filter, sort, page (needs view_periodictask)',
        querystring: periodicTaskListQuery,
        response: { 200: pageOf(periodicTaskView, 'A page of periodic tasks'), ...errors },
      },
    },
    async (request) => {
      await guard(request, 'view_periodictask');
      const { sort, ...query } = request.query;
      const desc = sort.startsWith('-');
      const page = await tasks.list({ ...query, sort: (desc ? sort.slice(1) : sort) as SortField, order: desc ? 'desc' : 'asc' });
      return { ...page, items: page.items.map(render) };
    },
  );

  app.get(
    `${BASE}/:id`,
    {
      ...guarded('view_periodictask'),
      schema: { tags: PERIODIC_TAGS, summary: 'One periodic task (needs view_periodictask)', params: idParams, response: { 200: periodicTaskView, ...errors } },
    },
    async (request) => {
      await guard(request, 'view_periodictask');
      return render(await find(request.params.id));
    },
  );

  app.post(
    BASE,
    {
      ...guarded('add_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Create a periodic task (needs add_periodictask). Required: name, task, schedule.',
        description: 'The task must be defined in this process unless customTask is true; args/kwargs must fit the task’s declared schemas.',
        body: periodicTaskCreateBody(timezone),
        response: { 201: periodicTaskView, ...errors },
      },
    },
    async (request, reply) => {
      const actor = await guard(request, 'add_periodictask');
      const { customTask, ...input } = request.body;
      checkTask(input, customTask === true);
      const task = await tasks.create(input);
      await record(actor, task, 'add', added());
      await notify();
      return reply.status(201).send(render(task));
    },
  );

  app.patch(
    `${BASE}/:id`,
    {
      ...guarded('change_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Change some fields of a periodic task (needs change_periodictask)',
        description: 'On a config or builtin task, a field set away from its declared value becomes an override that config re-syncs keep; the name of such a task cannot change. Changing the schedule, start time, expiry or enabled moves the next run (computed from now: enabling never fires at once).',
        params: idParams,
        body: periodicTaskPatchBody(timezone),
        response: { 200: periodicTaskView, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'change_periodictask');
      const before = await find(request.params.id);
      const { customTask, ...input } = request.body;
      checkTask(input, customTask === true, before);
      return afterChange(actor, before, await tasks.update(before.id, input));
    },
  );

  app.delete(
    `${BASE}/:id`,
    {
      ...guarded('delete_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Delete a periodic task and its run history (needs delete_periodictask)',
        description: 'A task from seler.config.json is deleted too, but the next beat start re-creates it unless it is removed from the file (restoredOnBeatStart: true); disable it to stop it for good. A builtin task cannot be deleted (400, fields.source).',
        params: idParams,
        response: { 200: deletedView, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'delete_periodictask');
      const task = await find(request.params.id);
      if (!(await tasks.delete(task.id, { allowConfig: true }))) throw beatError.periodic_task_not_found(task.id);
      await record(actor, task, 'delete', deleted());
      await notify();
      const restored = task.source === 'config';
      return {
        id: task.id,
        name: task.name,
        source: task.source,
        deleted: true,
        restoredOnBeatStart: restored,
        message: restored ? `"${task.name}" is declared in seler.config.json: the next beat start re-creates it unless you remove it there.` : null,
      };
    },
  );

  app.post(
    `${BASE}/:id/run`,
    {
      ...guarded('change_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Run a periodic task now, with its arguments and options (needs change_periodictask); also when disabled',
        description: 'Recorded as a manual run in the history; the schedule is not moved. 400 run_failed when the task refuses the arguments.',
        params: idParams,
        response: { 202: ranView, ...errors },
      },
    },
    async (request, reply) => {
      const actor = await guard(request, 'change_periodictask');
      const task = await find(request.params.id);
      const { taskId } = await runNow({ tasks, claims, client, logger }, task.id);
      await record(actor, task, 'other', `Ran now as task ${taskId}.`);
      return reply.status(202).send({ taskId, url: `/api/v1/tasks/${taskId}` });
    },
  );

  app.get(
    `${BASE}/:id/runs`,
    {
      ...guarded('view_periodictask'),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'The run history of a periodic task, newest first, with each run’s state from the result store (needs view_periodictask)',
        params: idParams,
        querystring: pageQuery,
        response: { 200: pageOf(runView, 'A page of runs'), ...errors },
      },
    },
    async (request) => {
      await guard(request, 'view_periodictask');
      const task = await find(request.params.id);
      const page = await runHistory(tasks, client, task.id, request.query);
      return {
        ...page,
        items: page.items.map((run) => ({
          ...run,
          duration: run.startedAt && run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000 : null,
          url: run.taskId ? `/api/v1/tasks/${run.taskId}` : null,
        })),
      };
    },
  );

  app.post(
    `${BASE}/:id/reset`,
    {
      ...guarded('change_periodictask', (fields) => beatError.invalid_periodic_task(asListProblem(fields, 'fields', RESET_FIELDS_RULE))),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Make a config or builtin task follow its declaration again (needs change_periodictask)',
        description: 'Every overridden field, or only `fields`. An admin task has no declaration: 400 with fields.source.',
        params: idParams,
        body: resetBody,
        response: { 200: periodicTaskView, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'change_periodictask');
      const before = await find(request.params.id);
      return afterChange(actor, before, await tasks.resetToDeclared(before.id, request.body.fields));
    },
  );

  app.post(
    `${BASE}/bulk`,
    {
      // Any staff user gets as far as the action: which permission it needs depends on it.
      ...guarded(null, (fields) => beatError.invalid_bulk_action(asListProblem(fields, 'ids', BULK_IDS_RULE))),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Enable, disable or delete several periodic tasks',
        description: 'Each id is reported in exactly one list. Deleting follows the single delete’s rules (config tasks come back at the next beat start; builtins are refused).',
        body: bulkBody,
        response: { 200: bulkResult, ...errors },
      },
    },
    async (request) => {
      const { ids, action } = request.body;
      const actor = await guard(request, action === 'delete' ? 'delete_periodictask' : 'change_periodictask');
      const result = { action, changed: [] as number[], unchanged: [] as number[], notFound: [] as number[], refused: [] as { id: number; message: string }[], restoredOnBeatStart: [] as number[] };
      for (const id of [...new Set(ids)]) {
        const task = await tasks.get(id);
        if (!task) {
          result.notFound.push(id);
        } else if (action === 'delete') {
          if (task.source === 'builtin') {
            result.refused.push({ id, message: `"${task.name}" is declared by seler itself; disable it instead` });
            continue;
          }
          if (!(await tasks.delete(id, { allowConfig: true }))) {
            result.notFound.push(id);
            continue;
          }
          result.changed.push(id);
          if (task.source === 'config') result.restoredOnBeatStart.push(id);
          await record(actor, task, 'delete', deleted());
        } else if (await tasks.setEnabled([id], action === 'enable')) {
          result.changed.push(id);
          await record(actor, task, 'change', changed(['enabled']));
        } else {
          result.unchanged.push(id);
        }
      }
      if (result.changed.length) await notify();
      return result;
    },
  );

  registerScheduleRoutes(server, { tasks, timezone, guard });
}
