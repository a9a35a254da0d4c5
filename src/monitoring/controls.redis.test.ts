// Operator controls through the HTTP API against a real worker on the run's Redis: concurrency,
// consumers, warm shutdown, queue pause, rate limits at run time; who may, and bad input.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerApi, startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createToken, createUser, listLog } from '../admin/index.js';
import { liveWorkers } from '../tasks/index.js';

describe('operator controls', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};

  const call = bearerApi(() => app, tokens, '/api/v1/monitor');
  const control = (body: unknown, who = 'operator', worker = app.worker!.name) => call(who, 'POST', `/workers/${encodeURIComponent(worker)}/control`, body);
  const heartbeat = async () => (await liveWorkers(app.runtime.redis, app.runtime.client.keys)).find((w) => w.name === app.worker!.name);
  const statusOf = async (id: string) => (await app.runtime.client.getTask(id))?.status;
  const lastLog = async () => (await listLog(app.runtime.db!, { pageSize: 1 })).items[0];

  beforeAll(async () => {
    app = await startTestApp({ worker: { concurrency: 2, queues: ['default', 'ctl-a'] } });
    const users: Record<string, string[]> = { viewer: ['view_task', 'change_task'], operator: ['view_task', 'change_worker'] };
    for (const [username, permissions] of Object.entries(users)) {
      const user = await createUser(app.runtime.db!, { username, password: null, isStaff: true, permissions });
      tokens[username] = (await createToken(app.runtime.db!, user.id, 'test')).token;
    }
  });
  afterAll(async () => app?.close());

  it('changes a worker’s concurrency; the heartbeat and the history say so', async () => {
    const res = await control({ command: 'concurrency', value: 5 });
    expect(res).toEqual({ status: 200, body: { worker: app.worker!.name, ok: true, concurrency: 5, queues: ['default', 'ctl-a'], changed: true } });
    await waitFor(async () => (await heartbeat())?.concurrency === 5);
    expect(await lastLog()).toMatchObject({ username: 'operator', objectType: 'worker', objectId: app.worker!.name, changeMessage: 'Concurrency set to 5' });
    expect((await control({ command: 'concurrency', value: 5 })).body.changed).toBe(false);
    // Work still runs at the new size.
    const ids = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => (await app.runtime.client.enqueue('demo.add', { args: [n, n] })).id));
    await waitFor(async () => (await Promise.all(ids.map(statusOf))).every((s) => s === 'SUCCESS'));
  });

  it('refuses bad commands, strangers and unknown workers before sending anything', async () => {
    const bad: [unknown, string][] = [
      [{ command: 'concurrency', value: 0 }, 'invalid_concurrency'],
      [{ command: 'concurrency', value: 1001 }, 'invalid_concurrency'],
      [{ command: 'concurrency', value: 2.5 }, 'invalid_concurrency'],
      [{ command: 'concurrency', value: '8' }, 'invalid_concurrency'],
      [{ command: 'add-consumer', queue: 'a b' }, 'invalid_queue'],
      [{ command: 'add-consumer', queue: 'q'.repeat(101) }, 'invalid_queue'],
      [{ command: 'cancel-consumer' }, 'invalid_queue'],
      [{ command: 'explode' }, 'invalid_command'],
      [{}, 'invalid_command'],
      [null, 'invalid_command'],
      [[1, 2], 'invalid_command'],
    ];
    for (const [body, code] of bad) {
      const res = await control(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect((await control({ command: 'concurrency', value: 3 }, 'viewer')).status).toBe(403);
    expect((await call(null, 'POST', `/workers/${encodeURIComponent(app.worker!.name)}/control`, { command: 'shutdown' })).status).toBe(401);
    const unknown = await control({ command: 'concurrency', value: 3 }, 'operator', 'nobody:1:abcd');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('worker_not_found');
    expect((await heartbeat())?.concurrency).toBe(5);
  });

  it('answers intruders with 401/403 before looking at their input, and odd input with the controls’ own 400s, never a 500', async () => {
    const raw = async (who: string | null, method: string, path: string, payload: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}) };
      const res = await fetch(`${app.baseUrl}/api/v1/monitor${path}`, { method, headers, body: payload });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    };
    const worker = `/workers/${encodeURIComponent(app.worker!.name)}/control`;
    const badControls: [string, string][] = [
      ['{"command":"concurrency","value":1e400}', 'invalid_concurrency'],
      ['{"command":"concurrency","value":9007199254740993}', 'invalid_concurrency'],
      ['{"command":"concurrency","value":-1}', 'invalid_concurrency'],
      ['{"command":"concurrency","value":null}', 'invalid_concurrency'],
      ['{"command":"concurrency","value":[8]}', 'invalid_concurrency'],
      ['{"command":"add-consumer","queue":{}}', 'invalid_queue'],
      ['{"command":"add-consumer","queue":["a"]}', 'invalid_queue'],
      ['{"command":"add-consumer","queue":""}', 'invalid_queue'],
      [JSON.stringify({ command: 'cancel-consumer', queue: 'q'.repeat(100_000) }), 'invalid_queue'],
      ['{"command":["shutdown"]}', 'invalid_command'],
      ['{"command":"__proto__"}', 'invalid_command'],
      ['{"command":1}', 'invalid_command'],
      ['"shutdown"', 'invalid_command'],
      ['0', 'invalid_command'],
    ];
    for (const [payload, code] of badControls) {
      const what = payload.slice(0, 60);
      expect((await raw(null, 'POST', worker, payload)).status, what).toBe(401);
      expect((await raw('viewer', 'POST', worker, payload)).status, what).toBe(403);
      const res = await raw('operator', 'POST', worker, payload);
      expect(res.status, what).toBe(400);
      expect(res.body.error!.code, what).toBe(code);
    }
    const badRates = ['{"rate":null}', '{"rate":["1/s"]}', '{"rate":1e400}', '{}', 'null', '[]', JSON.stringify({ rate: '1/s'.repeat(100_000) }), '{"rate":"1e400/s"}', '{"rate":"-1/s"}'];
    for (const payload of badRates) {
      const what = payload.slice(0, 60);
      expect((await raw(null, 'PUT', '/rate-limits/demo.add', payload)).status, what).toBe(401);
      expect((await raw('viewer', 'PUT', '/rate-limits/demo.add', payload)).status, what).toBe(403);
      const res = await raw('operator', 'PUT', '/rate-limits/demo.add', payload);
      expect(res.status, what).toBe(400);
      expect(res.body.error!.code, what).toBe('invalid_rate_limit');
    }
    // What parseRate refuses is said in its own words; a text too long in the general sentence.
    expect((await raw('operator', 'PUT', '/rate-limits/demo.add', '{"rate":"0/s"}')).body.error!.message).not.toBe((await raw('operator', 'PUT', '/rate-limits/demo.add', '{"rate":5}')).body.error!.message);
    expect((await heartbeat())?.concurrency).toBe(5);
    expect((await call('viewer', 'GET', '/rate-limits')).body.items.find((r: { task: string }) => r.task === 'demo.add')?.override ?? null).toBeNull();
  });

  it('starts and stops consuming a queue', async () => {
    const before = await app.runtime.client.enqueue('demo.add', { args: [1, 1], queue: 'ctl-b' });
    await sleep(500);
    expect(await statusOf(before.id)).toBe('PENDING');
    const added = await control({ command: 'add-consumer', queue: 'ctl-b' });
    expect(added.body).toMatchObject({ ok: true, changed: true, queues: ['default', 'ctl-a', 'ctl-b'] });
    await waitFor(async () => (await statusOf(before.id)) === 'SUCCESS');
    expect((await control({ command: 'add-consumer', queue: 'ctl-b' })).body.changed).toBe(false);

    const cancelled = await control({ command: 'cancel-consumer', queue: 'ctl-a' });
    expect(cancelled.body).toMatchObject({ ok: true, changed: true, queues: ['default', 'ctl-b'] });
    await waitFor(async () => JSON.stringify((await heartbeat())?.queues) === JSON.stringify(['default', 'ctl-b']));
    const after = await app.runtime.client.enqueue('demo.add', { args: [2, 2], queue: 'ctl-a' });
    await sleep(800);
    expect(await statusOf(after.id)).toBe('PENDING');
    expect(await lastLog()).toMatchObject({ objectType: 'worker', changeMessage: 'Stopped consuming queue ctl-a' });
  });

  it('pauses and resumes a queue: nothing starts while it is paused, and nothing is lost', async () => {
    expect((await call('viewer', 'POST', '/queues/default/pause')).status).toBe(403);
    expect((await call('operator', 'POST', '/queues/no-such-queue/pause')).status).toBe(404);
    const paused = await call('operator', 'POST', '/queues/default/pause');
    expect(paused).toEqual({ status: 200, body: { queue: 'default', paused: true, changed: true } });
    expect((await call('operator', 'POST', '/queues/default/pause')).body.changed).toBe(false);
    const held = await app.runtime.client.enqueue('demo.add', { args: [20, 22] });
    await sleep(800);
    expect(await statusOf(held.id)).toBe('PENDING');
    const queues = await call('viewer', 'GET', '/queues');
    expect(queues.body.items.find((q: { name: string }) => q.name === 'default').paused).toBe(true);
    expect((await call('operator', 'POST', '/queues/default/resume')).body).toEqual({ queue: 'default', paused: false, changed: true });
    await waitFor(async () => (await statusOf(held.id)) === 'SUCCESS');
    expect(await lastLog()).toMatchObject({ objectType: 'queue', objectId: 'default', changeMessage: 'Resumed' });
  });

  it('sets a task’s rate limit at run time on the workers, and drops it again', async () => {
    const set = await call('operator', 'PUT', '/rate-limits/demo.add', { rate: '1/m' });
    expect(set).toEqual({ status: 200, body: { task: 'demo.add', declared: null, override: '1/m', effective: '1/m' } });
    const listed = await call('viewer', 'GET', '/rate-limits');
    expect(listed.body.items).toContainEqual({ task: 'demo.add', declared: null, override: '1/m', effective: '1/m' });
    await sleep(200); // the workers hear the change on the control channel
    const first = await app.runtime.client.enqueue('demo.add', { args: [1, 0] });
    const second = await app.runtime.client.enqueue('demo.add', { args: [2, 0] });
    await waitFor(async () => (await statusOf(first.id)) === 'SUCCESS' || (await statusOf(second.id)) === 'SUCCESS');
    await sleep(1000);
    const states = [await statusOf(first.id), await statusOf(second.id)].sort();
    expect(states).toEqual(['PENDING', 'SUCCESS']);

    for (const [rate, code] of [['fast', 'invalid_rate_limit'], ['0/s', 'invalid_rate_limit'], [5, 'invalid_rate_limit'], ['1'.repeat(30), 'invalid_rate_limit']] as const) {
      const res = await call('operator', 'PUT', '/rate-limits/demo.add', { rate });
      expect(res.status, String(rate)).toBe(400);
      expect(res.body.error.code).toBe(code);
    }
    expect((await call('operator', 'PUT', '/rate-limits/no.such.task', { rate: '1/s' })).status).toBe(404);
    expect((await call('viewer', 'PUT', '/rate-limits/demo.add', { rate: '1/s' })).status).toBe(403);

    const dropped = await call('operator', 'DELETE', '/rate-limits/demo.add');
    expect(dropped.body).toEqual({ task: 'demo.add', declared: null, override: null, effective: null });
    expect(await lastLog()).toMatchObject({ objectType: 'task type', objectId: 'demo.add', changeMessage: 'Rate limit back to the declared one' });
    await sleep(200);
    const free = await app.runtime.client.enqueue('demo.add', { args: [3, 0] });
    await waitFor(async () => (await statusOf(free.id)) === 'SUCCESS');
  });

  it('shuts a worker down warmly: it finishes what it runs, then leaves', async () => {
    const running = await app.runtime.client.enqueue('demo.sleep', { args: [1] });
    await waitFor(async () => ['STARTED', 'PROGRESS'].includes((await statusOf(running.id)) ?? ''));
    const res = await control({ command: 'shutdown' });
    expect(res.status).toBe(200);
    await waitFor(async () => !(await heartbeat()), 10_000);
    expect(await statusOf(running.id)).toBe('SUCCESS');
    expect(await lastLog()).toMatchObject({ objectType: 'worker', changeMessage: 'Warm shutdown' });
    expect((await control({ command: 'concurrency', value: 2 })).status).toBe(404);
  });
});
