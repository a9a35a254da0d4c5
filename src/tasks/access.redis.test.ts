// Who may do what with a task id, attacked over HTTP on a real app (real Redis, real SQLite): an
// anonymous caller reaches only uploads (by id; cancel with the upload's token; never terminate),
// staff go through view_task / change_task and their revokes are audited, and no id, however odd,
// reaches a Redis key or a 500.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { runCli } from '../../test/helpers/cli.js';
import { createTestDatabase } from '../../test/helpers/db.js';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { createToken, createUser, listLog } from '../admin/index.js';
import { startWeb, startWorkerRole } from '../app.js';
import { PeriodicTasks, RunClaims } from '../beat/index.js';
import { fireDue } from '../beat/scheduler.js';
import { silentLogger } from '../platform/logger.js';
import { makeJpeg } from '../thumbnails/test-images.js';
import { defineTask, RESERVED_TASK_IDS, type RunningWorker } from './index.js';

const RUN_QUEUE = 'access-run';
// A task that runs until told (or a few seconds), so "it still runs" can be checked after an attack.
defineTask('test.access.wait', { queue: RUN_QUEUE, description: 'waits, then answers' }, async ([ms]: [number], _kw, ctx) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    ctx.signal.throwIfAborted(); // as a well-behaved task does: a revoke ends it as REVOKED
    await sleep(20);
  }
  return 'done';
});
// Fails naming an absolute server path, as an fs error would.
defineTask('test.access.boom', { queue: RUN_QUEUE, description: 'fails with a path in its message' }, async () => {
  throw Object.assign(new Error(`EACCES: permission denied, open '${path.join(process.cwd(), 'data', 'media', 'uploads', 'x')}' (see file:///srv/seler/dist/app.js)`), { code: 'EACCES' });
});

let app: TestApp;
let worker: RunningWorker | undefined;
const tokens: Record<string, string> = {};
const TERMINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

interface Answer {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}
async function call(method: string, url: string, options: { who?: string; headers?: Record<string, string>; body?: FormData } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.who) headers.authorization = `Bearer ${tokens[options.who]}`;
  const res = await fetch(app.baseUrl + url, { method, headers, body: options.body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}
const get = (url: string, who?: string, headers?: Record<string, string>) => call('GET', url, { who, headers });

async function upload(): Promise<{ id: string; cancelToken: string; statusUrl: string; eventsUrl: string }> {
  const body = new FormData();
  body.append('images', new Blob([await makeJpeg({ width: 64, height: 48 })], { type: 'image/jpeg' }), 'cat.jpg');
  const res = await call('POST', '/api/v1/thumbnails', { body });
  expect(res.status, res.text).toBe(202);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return res.body;
}

/** Every public route an id reaches, as an intruder would call them. */
const publicProbes = (id: string): [string, string][] => [
  ['GET', `/api/v1/tasks/${id}`],
  ['GET', `/api/v1/tasks/${id}/events`],
  ['GET', `/api/v1/tasks/${id}/archive`],
  ['GET', `/api/v1/tasks/${id}/files/cat_128x128.jpg`],
  ['GET', `/task/${id}/`],
  ['DELETE', `/api/v1/tasks/${id}`],
  ['DELETE', `/api/v1/tasks/${id}?terminate=true`],
  ['DELETE', `/api/v1/tasks/${id}?token=${'A'.repeat(43)}`],
];

const revokedSet = () => app.runtime.redis.zrange(app.runtime.client.keys.key('revoked'), '0', '-1');
const state = async (id: string) => (await app.runtime.client.getTask(id))?.status;

beforeAll(async () => {
  // No worker for the default and thumbnails queues: what is enqueued stays PENDING until a test starts one.
  app = await startTestApp({ worker: false });
  const db = app.runtime.db!;
  const users: Record<string, string[]> = { viewer: ['view_task'], operator: ['view_task', 'change_task'], cleaner: ['view_task', 'change_task', 'delete_task'], nobody: [] };
  for (const [username, permissions] of Object.entries(users)) {
    const user = await createUser(db, { username, password: null, isStaff: true, permissions });
    tokens[username] = (await createToken(db, user.id, 'test')).token;
  }
  tokens.bogus = 'not-a-token-at-all';
  worker = await startWorkerRole(app.runtime, { queues: [RUN_QUEUE], concurrency: 4 });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

describe('anonymous callers and tasks they did not upload', () => {
  it('a demo.add task: every public route answers the unknown-id 404, and nothing is revoked', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 2], countdown: 3600 });
    const unknown = await get(`/api/v1/tasks/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    for (const [method, url] of publicProbes(id)) {
      const res = await call(method, url);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body, `${method} ${url}`).toEqual(unknown.body);
      expect(res.text).not.toContain('demo.add');
    }
    expect(await state(id)).toBe('PENDING');
    expect(await revokedSet()).not.toContain(id);
  });

  it('a running task cannot be terminated or revoked anonymously: it runs to the end', async () => {
    const { id } = await app.runtime.client.enqueue('test.access.wait', { args: [1500] });
    await waitFor(async () => (await state(id)) === 'STARTED');
    const attacks = await Promise.all(
      ['?terminate=true', '', '?terminate=true&token=x', '?token=x'].flatMap((q) => [call('DELETE', `/api/v1/tasks/${id}${q}`), call('DELETE', `/api/v1/tasks/${id}${q}`, { headers: { 'x-cancel-token': 'x' } })]),
    );
    expect(attacks.map((a) => a.status)).toEqual(attacks.map(() => 404));
    const done = await waitFor(async () => {
      const v = await app.runtime.client.getTask(id);
      return v && TERMINAL.includes(v.status) ? v : undefined;
    });
    expect(done).toMatchObject({ status: 'SUCCESS', result: 'done' });
  });

  it('a periodic (beat) run: not served, not revocable, and its id cannot be guessed from the schedule', async () => {
    const tasks = new PeriodicTasks(app.runtime.db!);
    const task = await tasks.create({ name: 'access beat', task: 'demo.add', args: [2, 2], queue: 'access-beat-idle', schedule: { interval: { every: 1, period: 'hours' } } });
    const due = Date.now() - 50;
    await app.runtime.db!.db.updateTable('beat_periodic_task').set({ next_run_at: due }).where('id', '=', task.id).execute();
    expect(await fireDue({ claims: new RunClaims(app.runtime.db!), client: app.runtime.client, logger: silentLogger }, (await tasks.getRecord(task.id))!, Date.now())).toBe(true);
    const [run] = (await tasks.runs(task.id)).items;
    const id = run!.taskId!;
    expect(await state(id)).toBe('PENDING');
    // The old deterministic form, and the real id: both look unknown.
    for (const guess of [`beat-${task.id}-${due}`, id]) {
      for (const [method, url] of publicProbes(guess)) {
        const res = await call(method, url);
        expect(res.status, `${method} ${url}`).toBe(404);
        expect(res.body.error.code).toBe('task_not_found');
      }
    }
    expect(await state(id)).toBe('PENDING');
    expect(await revokedSet()).not.toContain(id);
  });
});

describe('an anonymous upload', () => {
  it('is read by its id, without arguments or storage names', async () => {
    const accepted = await upload();
    expect(accepted.cancelToken).toMatch(/^[\w-]{43}$/);
    const res = await get(accepted.statusUrl);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: accepted.id, name: 'thumbnails.make', status: 'PENDING' });
    expect(Object.keys(res.body).sort()).toEqual(['dateCreated', 'id', 'name', 'status']);
    const stored = (await app.runtime.client.getTask(accepted.id))!;
    const storage = (stored.args[0] as { files: { upload: string }[] }).files[0]!.upload;
    expect(res.text).not.toContain(storage);
    expect(res.text).not.toContain(accepted.cancelToken);
    // The token's hash is kept in the job; the token itself nowhere in Redis.
    const job = await app.runtime.redis.hget(`${app.runtime.client.bullPrefix}:thumbnails:${accepted.id}`, 'data');
    expect(job).not.toContain(accepted.cancelToken);
    const lab = await get(`/task/${accepted.id}/`);
    expect(lab).toMatchObject({ status: 200, body: { task_id: accepted.id, task_status: 'PENDING' } });
  });

  it('is cancelled only with its own token, never terminated anonymously', async () => {
    const mine = await upload();
    const other = await upload();
    const del = (id: string, opts: { header?: string; query?: string } = {}) =>
      call('DELETE', `/api/v1/tasks/${id}${opts.query ?? ''}`, { headers: opts.header === undefined ? {} : { 'x-cancel-token': opts.header } });

    expect((await del(mine.id)).body.error.code).toBe('cancel_token_required');
    const wrong = await del(mine.id, { header: 'A'.repeat(43) });
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'invalid_cancel_token']);
    expect((await del(mine.id, { header: other.cancelToken })).status).toBe(403);
    expect((await del(mine.id, { query: `?token=${encodeURIComponent(other.cancelToken)}` })).status).toBe(403);
    expect((await del(mine.id, { header: mine.cancelToken.slice(0, -1) })).status).toBe(403);
    expect((await del(mine.id, { header: '' })).status).toBe(403);
    expect((await del(mine.id, { header: 'x'.repeat(150) })).status).toBe(403);
    // Many wrong guesses at once: all refused, nothing revoked.
    const guesses = await Promise.all(Array.from({ length: 40 }, () => del(mine.id, { header: randomUUID() })));
    expect(new Set(guesses.map((g) => g.status))).toEqual(new Set([403]));
    // The right token does not unlock terminate.
    const terminate = await del(mine.id, { header: mine.cancelToken, query: '?terminate=true' });
    expect([terminate.status, terminate.body.error.code]).toEqual([403, 'terminate_not_allowed']);
    expect(await state(mine.id)).toBe('PENDING');
    expect(await state(other.id)).toBe('PENDING');
    expect(await revokedSet()).not.toContain(mine.id);

    const ok = await del(mine.id, { header: mine.cancelToken });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: mine.id, status: 'REVOKED', error: { code: 'revoked' } });
    expect(ok.body.args).toBeUndefined();
    expect(await state(mine.id)).toBe('REVOKED');
    expect(await state(other.id)).toBe('PENDING');
    // ?token= works too (for clients that cannot set headers).
    expect((await del(other.id, { query: `?token=${encodeURIComponent(other.cancelToken)}` })).body.status).toBe('REVOKED');
    // No audit entry for an owner's own cancel; it is not a staff action.
    expect((await listLog(app.runtime.db!, { pageSize: 200 })).items.some((e) => e.objectId === mine.id)).toBe(false);
  });

  it('streams its events with the public view; a staff-only task does not stream', async () => {
    const accepted = await upload();
    const res = await fetch(app.baseUrl + accepted.eventsUrl, { signal: AbortSignal.timeout(10_000) });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const first = new TextDecoder().decode(value);
    await reader.cancel();
    expect(first).toContain('"status":"PENDING"');
    expect(first).not.toContain('"args"');
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [5, 5], countdown: 3600 });
    const refused = await get(`/api/v1/tasks/${id}/events`);
    expect([refused.status, refused.body.error.code, refused.headers.get('content-type')]).toEqual([404, 'task_not_found', 'application/json; charset=utf-8']);
  });
});

describe('staff on the public task routes', () => {
  it('reading needs view_task; the full view (args) for staff', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [40, 2], countdown: 3600 });
    expect((await get(`/api/v1/tasks/${id}`, 'viewer')).body).toMatchObject({ id, name: 'demo.add', args: [40, 2], queue: 'default' });
    expect((await get(`/api/v1/tasks/${id}`, 'nobody')).status).toBe(403);
    expect((await get(`/api/v1/tasks/${id}`, 'bogus')).status).toBe(401);
    // An unknown id answers staff without view_task the same 403: nothing to learn from it either.
    expect((await get(`/api/v1/tasks/${randomUUID()}`, 'nobody')).status).toBe(403);
    expect((await get(`/api/v1/tasks/${randomUUID()}`, 'viewer')).status).toBe(404);
    // A forged session cookie: 401 alike for a real and an unknown id, and it does not spoil an upload's own capability.
    const cookie = { cookie: 'seler_session=forged.value' };
    expect((await get(`/api/v1/tasks/${id}`, undefined, cookie)).status).toBe(401);
    expect((await get(`/api/v1/tasks/${randomUUID()}`, undefined, cookie)).status).toBe(401);
    const accepted = await upload();
    expect((await get(accepted.statusUrl, undefined, cookie)).status).toBe(200);
    expect((await get(accepted.statusUrl, 'nobody')).body.args).toBeUndefined();
    expect((await get(accepted.statusUrl, 'viewer')).body.args).toHaveLength(1);
    // SSE under the same rule.
    const stream = await fetch(`${app.baseUrl}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${tokens.viewer}` }, signal: AbortSignal.timeout(10_000) });
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toContain('"args":[40,2]');
    expect((await get(`/api/v1/tasks/${id}/events`, 'nobody')).status).toBe(403);
  });

  it('revoking needs change_task and is written to the admin history', async () => {
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600 });
    expect((await call('DELETE', `/api/v1/tasks/${id}`, { who: 'viewer' })).status).toBe(403);
    expect((await call('DELETE', `/api/v1/tasks/${id}?terminate=true`, { who: 'nobody' })).status).toBe(403);
    expect(await state(id)).toBe('PENDING');
    const res = await call('DELETE', `/api/v1/tasks/${id}`, { who: 'operator' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'REVOKED', error: { code: 'revoked', message: 'revoked by operator' } });
    expect(await state(id)).toBe('REVOKED');
    const log = (await listLog(app.runtime.db!, { pageSize: 200 })).items.filter((e) => e.objectId === id);
    expect(log).toMatchObject([{ username: 'operator', action: 'change', objectType: 'task', objectRepr: `demo.add ${id}` }]);
    expect(JSON.stringify(log[0]!.changeMessage)).toContain('Revoked over the task API');
  });

  it('terminating a running task needs change_task, is audited, and ends it', async () => {
    const { id } = await app.runtime.client.enqueue('test.access.wait', { args: [20_000] });
    await waitFor(async () => (await state(id)) === 'STARTED');
    expect((await call('DELETE', `/api/v1/tasks/${id}?terminate=true`, { who: 'viewer' })).status).toBe(403);
    const res = await call('DELETE', `/api/v1/tasks/${id}?terminate=true`, { who: 'operator' });
    expect(res.status).toBe(200);
    await waitFor(async () => (await state(id)) === 'REVOKED', 10_000);
    const log = (await listLog(app.runtime.db!, { pageSize: 200 })).items.filter((e) => e.objectId === id);
    expect(JSON.stringify(log[0]?.changeMessage)).toContain('Revoked and terminated');
  });
});

describe('ids that are not ids', () => {
  const odd = [
    ...[...RESERVED_TASK_IDS].filter(Boolean),
    'META',
    'a:b',
    'meta:paused',
    'x'.repeat(150) + ':1',
    '.hidden',
    '-rf',
    '_x',
    '%2e%2e%2fseler.db',
    '..%2F..%2Fseler.db',
    'x'.repeat(201),
    'x'.repeat(3000),
    encodeURIComponent('zadanie-ą'),
    encodeURIComponent('😀'),
    encodeURIComponent('a b'),
    encodeURIComponent('a\u0000b'),
    encodeURIComponent('a\nb'),
    encodeURIComponent('{seler}'),
    '*',
    '%zz',
    '%E0%A4%A',
    '%C0%AE%C0%AE',
  ];

  it('never reach a key and never give a 500, on every task route (public, staff, monitor)', async () => {
    // Give the default queue its own keys (meta, id, events, wait…), so a route that built a key from "meta" would hit them.
    await app.runtime.client.enqueue('demo.add', { args: [0, 0] });
    const root = app.runtime.client.bullPrefix;
    const before = await app.runtime.redis.hgetall(`${root}:default:meta`);
    const routes = (id: string): [string, string, string?][] => [
      ...publicProbes(id).map(([m, u]): [string, string] => [m, u]),
      ['GET', `/api/v1/tasks/${id}`, 'viewer'],
      ['DELETE', `/api/v1/tasks/${id}?terminate=true`, 'operator'],
      ['GET', `/api/v1/tasks/${id}/events`, 'viewer'],
      ['GET', `/api/v1/monitor/tasks/${id}`, 'viewer'],
      ['POST', `/api/v1/monitor/tasks/${id}/revoke`, 'operator'],
      ['POST', `/api/v1/monitor/tasks/${id}/retry`, 'operator'],
      ['POST', `/api/v1/monitor/tasks/${id}/promote`, 'operator'],
      ['DELETE', `/api/v1/monitor/tasks/${id}`, 'cleaner'],
    ];
    const failures: string[] = [];
    for (const id of odd) {
      await Promise.all(
        routes(id).map(async ([method, url, who]) => {
          const res = await call(method, url, { who });
          const ok = (res.status === 404 || res.status === 400 || res.status === 414) && typeof res.body?.error?.code === 'string';
          if (!ok) failures.push(`${method} ${url.slice(0, 80)} (${who ?? 'anonymous'}) → ${res.status} ${res.text.slice(0, 120)}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(await app.runtime.redis.hgetall(`${root}:default:meta`)).toEqual(before);
    const revoked = await revokedSet();
    expect(revoked.filter((id) => RESERVED_TASK_IDS.has(id) || id.includes(':'))).toEqual([]);
  });

  it('are refused at enqueue (explicit ids, as beat and callers give them)', async () => {
    for (const taskId of ['meta', 'events', 'stalled-check', 'a:b', '../x', 'zadanie-ą', '', 'x'.repeat(201)]) {
      await expect(app.runtime.client.enqueue('demo.add', { args: [1, 1], taskId }), taskId).rejects.toMatchObject({ status: 400, code: 'invalid_task_id' });
    }
    // Idempotency keys of any text still make a valid id.
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [1, 1], idempotencyKey: 'meta:../😀', countdown: 3600 });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('`seler result` refuses them with a clear sentence (exit 2), and reads real ids', async () => {
    const env = { REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: app.config.redisPrefix, SELER_DATA_DIR: app.dataDir, DATABASE_URL: app.config.databaseUrl ?? '' };
    const meta = await runCli(['result', 'meta'], { env });
    expect([meta.code, meta.stdout]).toEqual([2, '']);
    expect(meta.stderr).toContain('is a name BullMQ uses');
    const colon = await runCli(['result', 'a:b'], { env });
    expect(colon.code).toBe(2);
    expect(colon.stderr).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    const { id } = await app.runtime.client.enqueue('demo.add', { args: [3, 4], countdown: 3600 });
    const real = await runCli(['result', id], { env });
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ id, status: 'PENDING' });
  });
});

describe('task errors', () => {
  it('anonymous readers get {code, message} without paths; staff also get the traceback', async () => {
    const { id } = await app.runtime.client.enqueue('test.access.boom', { anonymousOwner: true });
    await waitFor(async () => (await state(id)) === 'FAILURE');
    const anonymous = await get(`/api/v1/tasks/${id}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.error).toEqual({ code: 'EACCES', message: "EACCES: permission denied, open '<path>' (see <path>)" });
    expect(anonymous.text).not.toContain(process.cwd());
    expect(anonymous.text).not.toContain('file://');
    const staff = await get(`/api/v1/tasks/${id}`, 'viewer');
    expect(staff.body.error.message).toBe(anonymous.body.error.message);
    expect(staff.body.error.traceback).toMatch(/\n\s+at /);
    const detail = await get(`/api/v1/monitor/tasks/${id}`, 'viewer');
    expect(detail.body.error.message).not.toContain(process.cwd());
    expect(detail.body.error.traceback).toBeTruthy();
    // The lab's answer carries the message only.
    expect((await get(`/task/${id}/`)).body).toEqual({ task_id: id, task_status: 'FAILURE', error: anonymous.body.error.message });
  });
});

describe('downloads and the lab, once thumbnails are made', () => {
  let thumbs: RunningWorker | undefined;
  afterAll(async () => thumbs?.close());

  it('serve an upload to its id and nothing else; an upload whose file vanished fails without naming a path', async () => {
    const ok = await upload();
    const vanished = await upload();
    const data = JSON.parse((await app.runtime.redis.hget(`${app.runtime.client.bullPrefix}:thumbnails:${vanished.id}`, 'data'))!);
    rmSync(path.join(app.config.mediaDir, 'uploads', data.args[0].files[0].upload));
    const labBody = new FormData();
    labBody.append('image_file', new Blob([await makeJpeg({ width: 80, height: 60 })], { type: 'image/jpeg' }), 'rob.jpg');
    const lab = await call('POST', '/', { body: labBody });
    expect(Object.keys(lab.body)).toEqual(['task_id']);
    thumbs = await startWorkerRole(app.runtime, { queues: ['thumbnails', 'default'], concurrency: 2 });

    const done = await waitFor(async () => {
      const r = await get(ok.statusUrl);
      return r.body.status === 'SUCCESS' ? r.body : undefined;
    });
    expect((await fetch(app.baseUrl + done.result.archiveUrl)).status).toBe(200);
    expect((await fetch(app.baseUrl + done.result.files[0].url)).status).toBe(200);
    const labDone = await waitFor(async () => {
      const r = await get(`/task/${lab.body.task_id}/`);
      return r.body.task_status === 'SUCCESS' ? r.body : undefined;
    });
    expect((await fetch(app.baseUrl + labDone.results.archive_path)).status).toBe(200);

    // A finished staff-only task: its archive and files look unknown.
    const { id: sum } = await app.runtime.client.enqueue('demo.add', { args: [2, 3] });
    await waitFor(async () => (await state(sum)) === 'SUCCESS');
    for (const url of [`/api/v1/tasks/${sum}/archive`, `/api/v1/tasks/${sum}/files/x.jpg`, `/task/${sum}/`]) {
      const res = await get(url);
      expect([url, res.status, res.body.error.code]).toEqual([url, 404, 'task_not_found']);
    }

    const failed = await waitFor(async () => {
      const r = await get(vanished.statusUrl);
      return r.body.status === 'FAILURE' ? r.body : undefined;
    });
    expect(failed.error.code).toBe('upload_gone');
    expect(failed.error.message).toContain('cat.jpg');
    expect(failed.error.message).not.toMatch(/\/[\w.-]+\//);
    expect(failed.error.traceback).toBeUndefined();
  });
});

describe('a web role without the database (no staff)', () => {
  it('serves uploads by id and token, and no other task to anyone', async () => {
    const bare = await startTestApp({ web: false, worker: false });
    const web = await startWeb(bare.runtime, { port: 0, host: '127.0.0.1' });
    try {
      const { id: sum } = await bare.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600 });
      const { id, cancelToken } = await bare.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600, anonymousOwner: true });
      const at = (url: string, init: RequestInit = {}) => fetch(web.url + url, init);
      expect((await at(`/api/v1/tasks/${sum}`, { headers: { authorization: 'Bearer anything' } })).status).toBe(404);
      expect((await at(`/api/v1/tasks/${sum}?terminate=true`, { method: 'DELETE', headers: { authorization: 'Bearer anything' } })).status).toBe(404);
      expect((await at(`/api/v1/tasks/${id}`)).status).toBe(200);
      expect((await at(`/api/v1/tasks/${id}`, { method: 'DELETE' })).status).toBe(403);
      expect((await at(`/api/v1/tasks/${id}`, { method: 'DELETE', headers: { 'x-cancel-token': cancelToken! } })).status).toBe(200);
      expect((await bare.runtime.client.getTask(sum))!.status).toBe('PENDING');
    } finally {
      await web.close();
      await bare.close();
    }
  });
});

describe('staff revokes on PostgreSQL', () => {
  it('need change_task and land in the admin history there too', async () => {
    const pg = await createTestDatabase('postgres');
    const other = await startTestApp({ worker: false, env: { DATABASE_URL: pg.url } });
    try {
      const db = other.runtime.db!;
      expect(db.dialect).toBe('postgres');
      const operator = await createUser(db, { username: 'pg-operator', password: null, isStaff: true, permissions: ['view_task', 'change_task'] });
      const viewer = await createUser(db, { username: 'pg-viewer', password: null, isStaff: true, permissions: ['view_task'] });
      const [op, view] = await Promise.all([createToken(db, operator.id, 'test'), createToken(db, viewer.id, 'test')]);
      const { id } = await other.runtime.client.enqueue('demo.add', { args: [1, 1], countdown: 3600 });
      const del = (token?: string) => fetch(`${other.baseUrl}/api/v1/tasks/${id}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect((await del()).status).toBe(404);
      expect((await del(view.token)).status).toBe(403);
      expect((await other.runtime.client.getTask(id))!.status).toBe('PENDING');
      expect((await del(op.token)).status).toBe(200);
      expect((await other.runtime.client.getTask(id))!.status).toBe('REVOKED');
      const log = (await listLog(db, { pageSize: 50 })).items.filter((e) => e.objectId === id);
      expect(log).toMatchObject([{ username: 'pg-operator', action: 'change', objectType: 'task' }]);
    } finally {
      await other.close();
      await pg.drop();
    }
  });
});
