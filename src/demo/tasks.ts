// Small built-in tasks for trying seler out, for the examples in the README, and for tests and benchmarks.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
// defineTask from its own module, the entry task modules use: the folder's index brings the worker and the
// routes, which `seler call` (it registers every task) should not load.
import { defineTask } from '../tasks/define-task.js';

declare module '../tasks/define-task.js' {
  interface TaskTypes {
    'demo.add': { args: [number, number]; kwargs: Record<string, never>; result: number };
    'demo.noop': { args: []; kwargs: Record<string, never>; result: null };
    'demo.sleep': { args: [number]; kwargs: Record<string, never>; result: { sleptMs: number } };
    'demo.fail': { args: [string?]; kwargs: { permanent?: boolean }; result: never };
    'demo.spin': { args: [number]; kwargs: Record<string, never>; result: { pid: number; threadId: number } };
    'demo.flaky': { args: [number]; kwargs: { countdown?: number }; result: { attempt: number } };
    'demo.log': { args: [number, string?]; kwargs: { lineChars?: number }; result: { lines: number } };
    'demo.call': { args: [number, number]; kwargs: Record<string, never>; result: { id: string } };
  }
}

export const add = defineTask(
  'demo.add',
  // The titles label the fields of the admin's generated form (GET /api/v1/admin/registered-tasks).
  { description: 'Adds two numbers.', argsSchema: z.tuple([z.number().meta({ title: 'a' }), z.number().meta({ title: 'b' })]) },
  ([a, b]) => a + b,
);

export const noop = defineTask('demo.noop', { description: 'Does nothing (for benchmarks).' }, () => null);

export const sleepTask = defineTask(
  'demo.sleep',
  { description: 'Sleeps for the given seconds, reporting progress; stops early when revoked.', argsSchema: z.tuple([z.number().min(0).max(3600)]) },
  async ([seconds], _kwargs, ctx) => {
    const started = Date.now();
    const steps = Math.max(1, Math.ceil(seconds));
    for (let i = 0; i < steps; i++) {
      await sleep((seconds * 1000) / steps, undefined, { signal: ctx.signal });
      await ctx.progress({ current: i + 1, total: steps });
    }
    return { sleptMs: Date.now() - started };
  },
);

export const fail = defineTask(
  'demo.fail',
  { description: 'Always fails with the given message (retried unless permanent).', maxAttempts: 1 },
  async ([message], kwargs) => {
    // Loaded when it runs: by then the worker has loaded the task layer anyway.
    const { PermanentFailure } = await import('../tasks/index.js');
    if (kwargs.permanent) throw new PermanentFailure(message ?? 'demo failure');
    throw new Error(message ?? 'demo failure');
  },
);

export const spin = defineTask(
  'demo.spin',
  { description: 'Keeps a CPU busy for the given milliseconds without yielding (for pool and time-limit demos).', argsSchema: z.tuple([z.number().min(0).max(600_000)]) },
  async ([ms]) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      /* busy on purpose: only a pool child can be stopped in the middle of this */
    }
    const { threadId } = await import('node:worker_threads');
    return { pid: process.pid, threadId };
  },
);

export const flaky = defineTask(
  'demo.flaky',
  { description: 'Asks to be retried (ctx.retry) until its attempt number reaches the argument.', maxAttempts: 5 },
  ([succeedOnAttempt], kwargs, ctx) => {
    const attempt = ctx.attempt + ctx.retries;
    if (attempt < succeedOnAttempt) ctx.retry({ countdownSeconds: kwargs.countdown ?? 0.2, reason: `attempt ${attempt} is too early` });
    return { attempt };
  },
);

export const logLines = defineTask(
  'demo.log',
  {
    description: 'Writes the given number of lines to its own log (ctx.log), shown on its page in the monitor.',
    argsSchema: z.tuple([z.number().int().min(0).max(100_000), z.string().max(200).optional()]),
  },
  ([count, text], kwargs, ctx) => {
    const filler = kwargs.lineChars ? 'x'.repeat(Math.min(kwargs.lineChars, 100_000)) : '';
    for (let n = 1; n <= count; n++) ctx.log('%s line %d%s', text ?? 'log', n, filler ? ` ${filler}` : '');
    return { lines: count };
  },
);

export const callAdd = defineTask(
  'demo.call',
  {
    description: 'Queues demo.add with its two numbers from inside the task (ctx.delay, through its own worker\'s client) and returns that id.',
    argsSchema: z.tuple([z.number(), z.number()]),
  },
  ([a, b], _kwargs, ctx) => ctx.delay(add, a, b),
);
