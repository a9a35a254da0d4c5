// The schedule side of the periodic-task API: a live preview for the form (the schedule in words and
// its next five due times), the distinct schedules in use per kind (the admin's Intervals / Crontabs /
// Solar events / Clocked pages; schedules are stored inline in each task), and the registered tasks
// with their argument schemas as JSON Schema (the form's task picker and argument fields).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import { pageWindow } from '../platform/json-api.js';
import { registeredTasks } from '../tasks/index.js';
import type { BeatGuard } from './access.js';
import { beatError } from './errors.js';
import { canonical } from './model.js';
import { describeSchedule, intervalMs, offsetAt, scheduleKind, upcomingRuns, type Schedule } from './schedules/index.js';
import {
  PERIODIC_TAGS, SCHEDULE_TAGS, errors, guardedRoute, pageOf, previewBody, previewQuery, previewView, registeredTaskView, scheduleListQuery, scheduleUsageView,
} from './schemas.js';
import type { PeriodicTasks } from './periodic-tasks.js';

const PREVIEW_COUNT = 5;

/** An instant as ISO 8601 in a zone, with its offset: 2026-03-30T07:30:00.000+02:00. */
export function localIso(ms: number, timeZone: string): string {
  const offsetMs = offsetAt(ms, timeZone);
  const offset = Math.round(offsetMs / 60_000);
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${new Date(ms + offsetMs).toISOString().slice(0, 23)}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The preview of POST /api/v1/admin/schedules/preview, for a body its schema (previewBody) accepted. */
export function previewSchedule(body: { schedule: Schedule; startTime?: string | null }, timezone: string, now = Date.now()) {
  const { schedule, startTime } = body;
  const zone = 'crontab' in schedule ? schedule.crontab.timezone : timezone;
  const start = startTime ? Date.parse(startTime) : null;
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

function jsonSchemaOf(schema: z.ZodType | undefined): Record<string, unknown> | null {
  if (!schema) return null;
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

export function registerScheduleRoutes(server: FastifyInstance, options: { tasks: PeriodicTasks; timezone: string; guard: BeatGuard }): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { tasks, guard, timezone } = options;

  app.post(
    '/api/v1/admin/schedules/preview',
    {
      ...guardedRoute(guard, null, beatError.invalid_schedule),
      // A bad schedule is still an answer with ?errors=inline: the handler sees the schema's verdict.
      attachValidation: true,
      schema: {
        tags: SCHEDULE_TAGS,
        summary: 'A schedule in words and its next five due times, for the periodic-task form (any staff user)',
        description:
          'A bad schedule is a 400 invalid_schedule with fields named like the task form’s: schedule, schedule.crontab.minute, schedule.crontab.timezone, schedule.interval.every, startTime. ' +
          'With `?errors=inline` (a form previewing as the user types) it is a 200 whose `invalid` holds that error instead.',
        querystring: previewQuery,
        body: previewBody(timezone),
        response: { 200: previewView, ...errors },
      },
    },
    async (request) => {
      await guard(request, null);
      const refused = request.validationError;
      if (refused) {
        // A body refused before the query was checked: inline only when asked for exactly that.
        const inline = refused.validationContext === 'body' && (request.query as { errors?: unknown }).errors === 'inline';
        if (inline && refused instanceof AppError) return { invalid: { code: refused.code, message: refused.message, ...(refused.details as { fields?: Record<string, string> }) } };
        throw refused;
      }
      return previewSchedule(request.body, timezone);
    },
  );

  app.get(
    '/api/v1/admin/schedules',
    {
      // Any staff user gets as far as the kind: which permission it needs depends on it.
      ...guardedRoute(guard, null),
      schema: {
        tags: SCHEDULE_TAGS,
        summary: 'The distinct schedules of one kind in use, with the periodic tasks using each (needs view_<kind>schedule)',
        querystring: scheduleListQuery,
        response: { 200: pageOf(scheduleUsageView, 'A page of schedules'), ...errors },
      },
    },
    async (request) => {
      const { kind, search, enabled, sort } = request.query;
      await guard(request, `view_${kind}schedule`);
      const needle = search?.trim().toLowerCase();
      const all = (await tasks.tasksBySchedule(kind))
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
      ...guardedRoute(guard, null),
      schema: {
        tags: PERIODIC_TAGS,
        summary: 'The tasks this process defines, with their argument schemas as JSON Schema (any staff user)',
        response: { 200: z.array(registeredTaskView), 401: errors[401], 403: errors[403] },
      },
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
