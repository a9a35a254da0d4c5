// Periodic tasks over JSON (django-celery-beat's admin as an API): list, read, create, change, delete,
// run now, run history, reset to the declared values, bulk enable/disable/delete. Guarded by the
// periodictask permissions, audited, and every change wakes the beats (the `notify` option). The
// guard and the audit log are handed in (app.ts gives the admin's), as to the monitor's routes.
//
// Bodies are validated by the beat model, not by the route schema, so every bad field comes back as
// 400 {error:{code:'invalid_periodic_task', message, fields:{"schedule.crontab.minute": "…"}}}.
// A config task may be deleted: the next beat start re-creates it unless it is removed from the file
// (the response says so). Builtin tasks cannot be deleted, only disabled or changed.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { added, changed, deleted, type AuditAction, type AuditActor, type ChangeMessage } from '../platform/audit.js';
import { errorMessage } from '../platform/errors.js';
import { pageQueryProps, parseId } from '../platform/json-api.js';
import type { Logger } from '../platform/logger.js';
import { getTaskDefinition } from '../tasks/index.js';
import type { BeatAudit, BeatGuard, BeatPermission } from './access.js';
import type { PeriodicTaskView } from './contract.js';
import { beatError } from './errors.js';
import { MANAGED_FIELDS, canonical, parseTaskInput, type FieldErrors, type ManagedField, type PeriodicTask, type PeriodicTaskInput } from './model.js';
import { registerScheduleRoutes } from './schedule-routes.js';
import { describeSchedule } from './schedules/index.js';
import { runHistory, runNow, type BeatClient } from './scheduler.js';
import {
  PERIODIC_TAGS, bulkBodySchema, bulkResultSchema, deletedSchema, errors, idParams, pageOf, periodicTaskListQuery, periodicTaskSchema,
  passThrough, periodicTaskWriteSchema, resetBodySchema, runSchema, type SortField,
} from './schemas.js';
import type { BeatStore, ListQuery } from './store.js';

export interface BeatRouteDeps {
  store: BeatStore;
  /** Enqueues runs (run now) and reads their states (run history). */
  client: BeatClient;
  guard: BeatGuard;
  audit: BeatAudit;
  /** Called after every change to periodic tasks (the app passes notifyScheduleChanged); failures are logged, not returned. */
  notify?: () => unknown;
  /** SELER_TIMEZONE: crontabs without a zone, and the local times of previews. Defaults to the store's. */
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
 * says otherwise, and args/kwargs must fit its declared schemas.
 */
function taskErrors(value: PeriodicTaskInput, customTask: boolean, current?: PeriodicTask): FieldErrors {
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
  return errs;
}

/** Takes `customTask` off a write body and runs the API's own checks; throws 400 with every field error found. */
function checkWrite(body: unknown, timezone: string, current?: PeriodicTask): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the model reports it
  const { customTask, ...rest } = body as Record<string, unknown>;
  const errs: FieldErrors = {};
  if (customTask !== undefined && typeof customTask !== 'boolean') errs.customTask = 'customTask must be true or false';
  const parsed = parseTaskInput(rest, timezone);
  if (!parsed.ok) Object.assign(errs, parsed.errors);
  else Object.assign(errs, taskErrors(parsed.value, customTask === true, current));
  if (Object.keys(errs).length) {
    if (!current) {
      // A form gets every missing field at once.
      if (!('name' in rest)) errs.name ??= 'name is required';
      if (!('task' in rest)) errs.task ??= 'task is required';
      if (!('schedule' in rest)) errs.schedule ??= 'choose exactly one schedule kind';
    }
    throw beatError.invalid_periodic_task(errs);
  }
  return rest;
}

/** The :id of a route whose parts are not schema-checked: 400 as the schema-checked routes answer when it is not an id. */
function idOf(request: FastifyRequest): number {
  const id = parseId((request.params as { id?: unknown }).id);
  if (id === null) throw beatError.invalid_request('params/id must be a positive integer');
  return id;
}

/** The periodic-task and schedule routes under /api/v1/admin (periodic-tasks, schedules, registered-tasks). */
export function registerBeatRoutes(app: FastifyInstance, options: BeatRouteDeps): void {
  const { store, client, guard, audit } = options;
  const timezone = options.timezone ?? store.timezone;
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
    const task = await store.get(id);
    if (!task) throw beatError.periodic_task_not_found(id);
    return task;
  };

  app.get<{ Querystring: Omit<ListQuery, 'sort' | 'order'> & { sort?: SortField | `-${SortField}` } }>(
    BASE,
    { schema: { tags: PERIODIC_TAGS, summary: 'Periodic tasks: search, filter, sort, page (needs view_periodictask)', querystring: periodicTaskListQuery, response: { 200: pageOf(periodicTaskSchema, 'A page of periodic tasks'), ...errors } } },
    async (request) => {
      await guard(request, 'view_periodictask');
      const { sort = 'name', ...query } = request.query;
      const desc = sort.startsWith('-');
      const page = await store.list({ ...query, sort: (desc ? sort.slice(1) : sort) as SortField, order: desc ? 'desc' : 'asc' });
      return { ...page, items: page.items.map(render) };
    },
  );

  app.get<{ Params: { id: number } }>(
    `${BASE}/:id`,
    { schema: { tags: PERIODIC_TAGS, summary: 'One periodic task (needs view_periodictask)', params: idParams, response: { 200: periodicTaskSchema, ...errors } } },
    async (request) => {
      await guard(request, 'view_periodictask');
      return render(await find(request.params.id));
    },
  );

  app.post(
    BASE,
    {
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Create a periodic task (needs add_periodictask). Required: name, task, schedule.',
        description: 'The task must be defined in this process unless customTask is true; args/kwargs must fit the task’s declared schemas.',
        body: { ...periodicTaskWriteSchema, required: ['name', 'task', 'schedule'] },
        response: { 201: periodicTaskSchema, ...errors },
      },
    },
    async (request, reply) => {
      const actor = await guard(request, 'add_periodictask');
      const task = await store.create(checkWrite(request.body, timezone));
      await record(actor, task, 'add', added());
      await notify();
      return reply.status(201).send(render(task));
    },
  );

  app.patch(
    `${BASE}/:id`,
    {
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Change some fields of a periodic task (needs change_periodictask)',
        description: 'On a config or builtin task, a field set away from its declared value becomes an override that config re-syncs keep; the name of such a task cannot change. Changing the schedule, start time, expiry or enabled moves the next run (computed from now: enabling never fires at once).',
        params: idParams,
        body: periodicTaskWriteSchema,
        response: { 200: periodicTaskSchema, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'change_periodictask');
      const before = await find(idOf(request));
      return afterChange(actor, before, await store.update(before.id, checkWrite(request.body, timezone, before)));
    },
  );

  app.delete(
    `${BASE}/:id`,
    {
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Delete a periodic task and its run history (needs delete_periodictask)',
        description: 'A task from seler.config.json is deleted too, but the next beat start re-creates it unless it is removed from the file (restoredOnBeatStart: true); disable it to stop it for good. A builtin task cannot be deleted (400, fields.source).',
        params: idParams,
        response: { 200: deletedSchema, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'delete_periodictask');
      const task = await find(idOf(request));
      if (!(await store.delete(task.id, { allowConfig: true }))) throw beatError.periodic_task_not_found(task.id);
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
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Run a periodic task now, with its arguments and options (needs change_periodictask); also when disabled',
        description: 'Recorded as a manual run in the history; the schedule is not moved. 400 run_failed when the task refuses the arguments.',
        params: idParams,
        response: { 202: { type: 'object', properties: { taskId: { type: 'string' }, url: { type: 'string', description: '/api/v1/tasks/<taskId>' } } }, ...errors },
      },
    },
    async (request, reply) => {
      const actor = await guard(request, 'change_periodictask');
      const task = await find(idOf(request));
      const { taskId } = await runNow({ store, client, logger }, task.id);
      await record(actor, task, 'other', `Ran now as task ${taskId}.`);
      return reply.status(202).send({ taskId, url: `/api/v1/tasks/${taskId}` });
    },
  );

  app.get<{ Params: { id: number }; Querystring: { page?: number; pageSize?: number } }>(
    `${BASE}/:id/runs`,
    {
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'The run history of a periodic task, newest first, with each run’s state from the result store (needs view_periodictask)',
        params: idParams,
        querystring: { type: 'object', properties: pageQueryProps },
        response: { 200: pageOf(runSchema, 'A page of runs'), ...errors },
      },
    },
    async (request) => {
      await guard(request, 'view_periodictask');
      const task = await find(request.params.id);
      const page = await runHistory(store, client, task.id, request.query);
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
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Make a config or builtin task follow its declaration again (needs change_periodictask)',
        description: 'Every overridden field, or only `fields`. An admin task has no declaration: 400 with fields.source.',
        params: idParams,
        body: resetBodySchema,
        response: { 200: periodicTaskSchema, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, 'change_periodictask');
      const before = await find(idOf(request));
      const body = (request.body ?? {}) as { fields?: unknown };
      const fields = body.fields;
      if (typeof body !== 'object' || Array.isArray(body) || Object.keys(body).some((k) => k !== 'fields'))
        throw beatError.invalid_periodic_task({ _: 'the body may only be {"fields": [...]}' });
      if (fields !== undefined && (!Array.isArray(fields) || fields.some((f) => !(MANAGED_FIELDS as unknown[]).includes(f))))
        throw beatError.invalid_periodic_task({ fields: `fields must be a list of: ${MANAGED_FIELDS.join(', ')}` });
      return afterChange(actor, before, await store.resetToDeclared(before.id, fields as ManagedField[] | undefined));
    },
  );

  app.post(
    `${BASE}/bulk`,
    {
      validatorCompiler: passThrough,
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'Enable, disable or delete several periodic tasks',
        description: 'Each id is reported in exactly one list. Deleting follows the single delete’s rules (config tasks come back at the next beat start; builtins are refused).',
        body: bulkBodySchema,
        response: { 200: bulkResultSchema, ...errors },
      },
    },
    async (request) => {
      const actor = await guard(request, null);
      const body = request.body as { ids?: unknown; action?: unknown } | null;
      const errs: FieldErrors = {};
      const ids = Array.isArray(body?.ids) ? body.ids.map(parseId) : null;
      if (!ids || ids.length === 0 || ids.length > 1000 || ids.some((id) => id === null)) errs.ids = 'ids must be a list of 1 to 1000 periodic task ids';
      const action = body?.action;
      if (action !== 'enable' && action !== 'disable' && action !== 'delete') errs.action = 'action must be one of enable, disable, delete';
      if (Object.keys(errs).length) throw beatError.invalid_bulk_action(errs);
      const perm: BeatPermission = action === 'delete' ? 'delete_periodictask' : 'change_periodictask';
      await guard(request, perm);
      const result = { action: action as string, changed: [] as number[], unchanged: [] as number[], notFound: [] as number[], refused: [] as { id: number; message: string }[], restoredOnBeatStart: [] as number[] };
      for (const id of [...new Set(ids as number[])]) {
        const task = await store.get(id);
        if (!task) {
          result.notFound.push(id);
        } else if (action === 'delete') {
          if (task.source === 'builtin') {
            result.refused.push({ id, message: `"${task.name}" is declared by seler itself; disable it instead` });
            continue;
          }
          if (!(await store.delete(id, { allowConfig: true }))) {
            result.notFound.push(id);
            continue;
          }
          result.changed.push(id);
          if (task.source === 'config') result.restoredOnBeatStart.push(id);
          await record(actor, task, 'delete', deleted());
        } else if (await store.setEnabled([id], action === 'enable')) {
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

  registerScheduleRoutes(app, { store, timezone, guard });
}
