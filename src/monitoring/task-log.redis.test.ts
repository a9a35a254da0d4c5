// A task's own log lines (ctx.log) on a real worker, in the async and the process pool: kept with the
// task, capped in number and length, shown to staff by the monitor, never to an anonymous reader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createToken, createUser } from '../admin/index.js';
import { startWorkerRole } from '../app.js';
import { defineTask, TASK_LOG_MAX_LINE_CHARS, TASK_LOG_MAX_LINES, type RunningWorker } from '../tasks/index.js';
import { makeJpeg } from '../thumbnails/test-images.js';

defineTask('test.log.levels', { description: 'logs through the logger methods' }, (_args, _kw, ctx) => {
  ctx.log.info({ n: 1 }, 'hi %s', 'there');
  ctx.log.debug('debug is not kept');
  ctx.log.warn(new Error('careful'));
  ctx.log('plain %d', 7);
  return null;
});

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('a task’s own log lines', () => {
  let app: TestApp;
  let processWorker: RunningWorker | undefined;
  let token = '';

  const fetchJson = async (path: string, auth = true) => {
    const res = await fetch(`${app.baseUrl}${path}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return { status: res.status, text, body: text ? (JSON.parse(text) as any) : undefined };
  };
  const run = async (name: string, args: unknown[], options: { queue?: string; kwargs?: Record<string, unknown> } = {}) => {
    const { id } = await app.runtime.client.enqueue(name as never, { args, ...options } as never);
    await waitFor(async () => (await app.runtime.client.getTask(id))?.status === 'SUCCESS', 60_000);
    return id;
  };
  const logsOf = async (id: string): Promise<string[]> => {
    const res = await fetchJson(`/api/v1/monitor/tasks/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body.logs;
  };

  beforeAll(async () => {
    // The process pool's children log to stdout at the configured level: quiet them.
    app = await startTestApp({ worker: { concurrency: 2 }, env: { SELER_LOG_LEVEL: 'warn' } });
    const user = await createUser(app.runtime.db!, { username: 'viewer', password: null, isStaff: true, permissions: ['view_task'] });
    token = (await createToken(app.runtime.db!, user.id, 'test')).token;
  });
  afterAll(async () => {
    await processWorker?.close();
    await app?.close();
  });

  it('keeps ctx.log lines in order, with their time, for the monitor’s task page', async () => {
    const id = await run('demo.log', [3, 'hello']);
    const logs = await logsOf(id);
    expect(logs.map((l) => l.replace(LINE, ''))).toEqual(['hello line 1', 'hello line 2', 'hello line 3']);
    for (const line of logs) expect(line).toMatch(LINE);
    expect(await logsOf(await run('demo.add', [1, 2]))).toEqual([]);
  });

  it('keeps the logger methods’ lines too, with their level; debug stays in the worker’s log', async () => {
    const logs = (await logsOf(await run('test.log.levels', []))).map((l) => l.replace(LINE, ''));
    expect(logs).toEqual(['INFO hi there {"n":1}', 'WARN Error: careful', 'plain 7']);
  });

  it('caps the lines of a run and the length of a line, and says so', async () => {
    const logs = await logsOf(await run('demo.log', [TASK_LOG_MAX_LINES + 50, 'many']));
    expect(logs).toHaveLength(TASK_LOG_MAX_LINES + 1);
    expect(logs[0]).toMatch(/many line 1$/);
    expect(logs[TASK_LOG_MAX_LINES - 1]).toMatch(new RegExp(`many line ${TASK_LOG_MAX_LINES}$`));
    expect(logs.at(-1)).toMatch(/… 50 more line\(s\) not kept \(at most 200 per run\)$/);
    const [long] = await logsOf(await run('demo.log', [1, 'long'], { kwargs: { lineChars: 50_000 } }));
    expect(long).toHaveLength(TASK_LOG_MAX_LINE_CHARS);
    expect(long!.endsWith('x…')).toBe(true);
  });

  it('works the same in the process pool', async () => {
    processWorker = await startWorkerRole(app.runtime, { queues: ['logs-proc'], pool: 'process', concurrency: 1 });
    const id = await run('demo.log', [2, 'child'], { queue: 'logs-proc' });
    expect((await logsOf(id)).map((l) => l.replace(LINE, ''))).toEqual(['child line 1', 'child line 2']);
    const many = await logsOf(await run('demo.log', [TASK_LOG_MAX_LINES + 5, 'child'], { queue: 'logs-proc' }));
    expect(many).toHaveLength(TASK_LOG_MAX_LINES + 1);
    expect(many.at(-1)).toMatch(/… 5 more line\(s\) not kept/);
  });

  it('shows a thumbnail task’s lines to staff, never to its anonymous owner', async () => {
    const form = new FormData();
    form.append('images', new Blob([await makeJpeg({ width: 64, height: 48 })], { type: 'image/jpeg' }), 'cat.jpg');
    const upload = await fetch(`${app.baseUrl}/api/v1/thumbnails`, { method: 'POST', body: form });
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    await waitFor(async () => (await app.runtime.client.getTask(id))?.status === 'SUCCESS', 60_000);
    const logs = await logsOf(id);
    expect(logs.some((l) => /INFO thumbnails ready/.test(l))).toBe(true);

    const anonymous = await fetchJson(`/api/v1/tasks/${id}`, false);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.status).toBe('SUCCESS');
    expect(anonymous.body).not.toHaveProperty('logs');
    expect(anonymous.text).not.toContain('thumbnails ready');
    const lab = await fetchJson(`/task/${id}/`, false);
    expect(lab.text).not.toContain('thumbnails ready');
    for (const path of [`/api/v1/monitor/tasks/${id}`, '/api/v1/monitor/queues/thumbnails/jobs?state=completed'])
      expect((await fetchJson(path, false)).status, path).toBe(401);
  });
});
