// The schedule side of the periodic-task API: a live preview for the form (the schedule in words and
// its next five due times), the distinct schedules in use per kind (the admin's Intervals / Crontabs /
// Solar events / Clocked pages; schedules are stored inline in each task), and the registered tasks
// with their argument schemas as JSON Schema (the form's task picker and argument fields).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import { pageWindow } from '../platform/json-api.js';
import { registeredTasks } from '../tasks/index.js';
import type { BeatGuard } from './access.js';
import { beatError } from './errors.js';
import { canonical, withDefaultZone, type FieldErrors } from './model.js';
import {
  describeSchedule, intervalMs, offsetAt, parseSchedule, scheduleKind, upcomingRuns, type Schedule, type ScheduleKind,
} from './schedules/index.js';
import {
  PERIODIC_TAGS, SCHEDULE_TAGS, errors, pageOf, passThrough, previewBodySchema, previewSchema, registeredTaskSchema, scheduleListQuery, scheduleUsageSchema,
} from './schemas.js';
import type { BeatStore } from './store.js';

const PREVIEW_COUNT = 5;

/** An instant as ISO 8601 in a zone, with its offset: 2026-03-30T07:30:00.000+02:00. */
export function localIso(ms: number, timeZone: string): string {
  const offsetMs = offsetAt(ms, timeZone);
  const offset = Math.round(offsetMs / 60_000);
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${new Date(ms + offsetMs).toISOString().slice(0, 23)}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const startTimeSchema = z.iso.datetime({ offset: true }).nullable().optional();

/** The preview of POST /api/v1/admin/schedules/preview; throws 400 invalid_schedule naming each field ("schedule.crontab.minute"). */
export function previewSchedule(body: unknown, timezone: string, now = Date.now()) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw beatError.invalid_schedule({ _: 'send {"schedule": {...}, "startTime"?: "…"}' });
  const { schedule: raw, startTime, ...rest } = body as Record<string, unknown>;
  const errs: FieldErrors = {};
  for (const key of Object.keys(rest)) errs[key] = `unknown field "${key}"`;
  if (!startTimeSchema.safeParse(startTime).success) errs.startTime = 'startTime must be an ISO 8601 date and time with a zone, e.g. 2026-12-01T10:00:00Z';
  let schedule: Schedule | undefined;
  if (raw === undefined || raw === null) {
    errs.schedule = 'choose exactly one schedule kind';
  } else {
    // As on the task: a crontab without a zone gets the installation's.
    const parsed = parseSchedule(withDefaultZone(timezone)(raw));
    if (parsed.ok) schedule = parsed.schedule;
    else for (const e of parsed.errors) errs[e.path ? `schedule.${e.path}` : 'schedule'] ??= e.message;
  }
  if (Object.keys(errs).length || !schedule) throw beatError.invalid_schedule(errs);
  const zone = 'crontab' in schedule ? schedule.crontab.timezone : timezone;
  const start = typeof startTime === 'string' ? Date.parse(startTime) : null;
  const from = start !== null && start - 1 > now ? start - 1 : now;
  const next = upcomingRuns(schedule, new Date(from), PREVIEW_COUNT, start !== null ? new Date(start) : undefined);
  return {
    schedule,
    kind: scheduleKind(schedule),
    description: describeSchedule(schedule),
    timezone: zone,
    next: next.map((d) => ({ at: d.toISOString(), local: localIso(d.getTime(), zone), timezone: zone })),
  };
}

function spec(schedule: Schedule): Record<string, unknown> {
  return Object.values(schedule)[0] as Record<string, unknown>;
}

/** Intervals by length, clocked by instant, the others by their words. */
function compareSchedules(a: { schedule: Schedule; description: string }, b: { schedule: Schedule; description: string }): number {
  if ('interval' in a.schedule && 'interval' in b.schedule) return intervalMs(a.schedule.interval) - intervalMs(b.schedule.interval);
  if ('clocked' in a.schedule && 'clocked' in b.schedule) return a.schedule.clocked.at.localeCompare(b.schedule.clocked.at);
  return a.description.localeCompare(b.description);
}

function jsonSchemaOf(schema: z.ZodType | undefined): unknown {
  if (!schema) return null;
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

export function registerScheduleRoutes(app: FastifyInstance, options: { store: BeatStore; timezone: string; guard: BeatGuard }): void {
  const { store, guard } = options;

  app.post(
    '/api/v1/admin/schedules/preview',
    {
      validatorCompiler: passThrough,
      schema: {
        tags: SCHEDULE_TAGS,
        summary: 'A schedule in words and its next five due times, for the periodic-task form (any staff user)',
        description:
          'A bad schedule is a 400 invalid_schedule with fields named like the task form’s: schedule, schedule.crontab.minute, schedule.crontab.timezone, schedule.interval.every, startTime. ' +
          'With `?errors=inline` (a form previewing as the user types) it is a 200 whose `invalid` holds that error instead.',
        querystring: { type: 'object', properties: { errors: { type: 'string', enum: ['inline'] } }, additionalProperties: false },
        body: previewBodySchema,
        response: { 200: previewSchema, ...errors },
      },
    },
    async (request) => {
      await guard(request, null);
      const query = request.query as { errors?: unknown };
      if (query.errors !== undefined && query.errors !== 'inline') throw beatError.invalid_query('errors must be "inline" when given');
      try {
        return await previewSchedule(request.body, options.timezone);
      } catch (err) {
        if (query.errors === 'inline' && err instanceof AppError && err.status === 400) return { invalid: { code: err.code, message: err.message, ...err.details } };
        throw err;
      }
    },
  );

  app.get<{ Querystring: { kind: ScheduleKind; search?: string; enabled?: boolean; sort?: string; page?: number; pageSize?: number } }>(
    '/api/v1/admin/schedules',
    {
      schema: {
        tags: SCHEDULE_TAGS,
        summary: 'The distinct schedules of one kind in use, with the periodic tasks using each (needs view_<kind>schedule)',
        querystring: scheduleListQuery,
        response: { 200: pageOf(scheduleUsageSchema, 'A page of schedules'), ...errors },
      },
    },
    async (request) => {
      const { kind, search, enabled, sort = 'schedule' } = request.query;
      await guard(request, `view_${kind}schedule`);
      const needle = search?.trim().toLowerCase();
      const all = (await store.tasksBySchedule(kind))
        .map(({ schedule, tasks }) => {
          const text = canonical(schedule);
          return {
            key: createHash('sha256').update(text).digest('hex').slice(0, 16),
            kind,
            schedule,
            description: describeSchedule(schedule),
            taskCount: tasks.length,
            tasks,
            haystack: [text, ...Object.values(spec(schedule)).map(String), ...tasks.map((t) => t.name)].join('\n').toLowerCase(),
          };
        })
        .filter((s) => !needle || s.haystack.includes(needle) || s.description.toLowerCase().includes(needle))
        .filter((s) => enabled === undefined || s.tasks.some((t) => t.enabled) === enabled)
        .sort(compareSchedules);
      if (sort.endsWith('taskCount')) all.sort((a, b) => a.taskCount - b.taskCount || compareSchedules(a, b)); // stable within a count
      if (sort.startsWith('-')) all.reverse();
      const { page, pageSize, offset } = pageWindow(request.query);
      return { items: all.slice(offset, offset + pageSize).map(({ haystack: _h, ...s }) => s), total: all.length, page, pageSize };
    },
  );

  app.get(
    '/api/v1/admin/registered-tasks',
    {
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'The tasks this process defines, with their argument schemas as JSON Schema (any staff user)',
        response: { 200: { type: 'array', items: registeredTaskSchema }, 401: errors[401], 403: errors[403] } },
    },
    async (request) => {
      await guard(request, null);
      return registeredTasks().map((t) => ({
        name: t.name,
        queue: t.options.queue,
        description: t.options.description ?? '',
        maxAttempts: t.options.maxAttempts,
        argsSchema: jsonSchemaOf(t.options.argsSchema),
        kwargsSchema: jsonSchemaOf(t.options.kwargsSchema),
      }));
    },
  );
}
