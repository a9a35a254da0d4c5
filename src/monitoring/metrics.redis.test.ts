import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type TestApp } from '../../test/helpers/app.js';
import { createToken, createUser } from '../admin/index.js';
import { loadConfig } from '../config.js';
import { silentLogger } from '../platform/logger.js';
import { TaskIndexer } from './indexer.js';

/** Parses Prometheus' text format strictly: every line is a comment or `name{labels} value`. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (-?[\d.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line); // Go's ParseFloat (Prometheus) reads "Nan" too
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

const scrape = async (app: TestApp, headers: Record<string, string> = {}) => {
  const res = await fetch(`${app.baseUrl}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), auth: res.headers.get('www-authenticate'), text: await res.text() };
};

describe('GET /metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ worker: { concurrency: 2 } });
  });
  afterAll(async () => app?.close());

  it('reports tasks by name and final state, runtimes, queues, workers, HTTP requests and the process', async () => {
    const client = app.runtime.client;
    const ids = [
      ...(await Promise.all([1, 2, 3].map((n) => client.enqueue('demo.add', { args: [n, n] })))),
      ...(await Promise.all(['a', 'b'].map((m) => client.enqueue('demo.fail', { args: [m] })))),
    ].map((r) => r.id);
    await waitFor(async () => (await Promise.all(ids.map((id) => client.getTask(id)))).every((v) => v && ['SUCCESS', 'FAILURE'].includes(v.status)));
    await new TaskIndexer({ redis: app.runtime.redis, redisTarget: app.runtime.redisTarget, client, logger: silentLogger }).caughtUp();
    // A demo task is staff-only on the task API: read it with a view_task token.
    const viewer = await createUser(app.runtime.db!, { username: 'metrics-viewer', password: null, isStaff: true, permissions: ['view_task'] });
    const { token } = await createToken(app.runtime.db!, viewer.id, 'test');
    expect((await fetch(`${app.baseUrl}/api/v1/tasks/${ids[0]}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const res = await scrape(app);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain; version=0.0.4');
    // The HTTP counter is written when the response has finished, which may be just after the client has read it.
    const m = await waitFor(async () => {
      const parsed = parseMetrics((await scrape(app)).text);
      return parsed.get('seler_http_requests_total{method="GET",route="/api/v1/tasks/:id",status="200"}') === 1 ? parsed : undefined;
    });
    expect(m.get('seler_tasks_total{task="demo.add",state="succeeded"}')).toBe(3);
    expect(m.get('seler_tasks_total{task="demo.add",state="failed"}')).toBe(0);
    expect(m.get('seler_tasks_total{task="demo.fail",state="failed"}')).toBe(2);
    expect(m.get('seler_tasks_sent_total{task="demo.add"}')).toBe(3);
    expect(m.get('seler_task_runtime_seconds_count{task="demo.add"}')).toBe(3);
    expect(m.get('seler_task_runtime_seconds_bucket{task="demo.add",le="+Inf"}')).toBe(3);
    expect(m.get('seler_task_runtime_seconds_bucket{task="demo.add",le="3600"}')).toBe(3);
    expect(m.has('seler_task_runtime_seconds_count{task="demo.fail"}')).toBe(false);
    expect(m.get('seler_queue_jobs{queue="default",state="failed"}')).toBe(2);
    expect(m.get('seler_queue_jobs{queue="default",state="completed"}')).toBe(3);
    expect(m.get('seler_queue_jobs{queue="default",state="waiting"}')).toBe(0);
    expect(m.get('seler_workers_online')).toBe(1);
    expect(m.get('seler_monitor_indexed_tasks{state="SUCCESS"}')).toBe(3);
    expect(m.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(res.text).toContain('# TYPE seler_task_runtime_seconds histogram');
    expect(res.text).toContain('# TYPE seler_tasks_total counter');

    // Scrapes count as HTTP requests; the task counters do not move.
    const again = parseMetrics((await scrape(app)).text);
    expect(again.get('seler_http_requests_total{method="GET",route="/metrics",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(again.has('seler_http_requests_total{method="GET",route="/api/v1/tasks/:id",status="404"}')).toBe(false);
    expect(again.get('seler_tasks_total{task="demo.add",state="succeeded"}')).toBe(3);
  });
});

describe('GET /metrics protected by configuration', () => {
  const TOKEN = 'a-metrics-token-of-some-length';
  let withToken: TestApp;
  let withAdmin: TestApp;
  beforeAll(async () => {
    [withToken, withAdmin] = await Promise.all([
      startTestApp({ worker: false, env: { SELER_METRICS_TOKEN: TOKEN } }),
      startTestApp({ worker: false, env: { SELER_METRICS_AUTH: 'admin' } }),
    ]);
  });
  afterAll(async () => {
    await withToken?.close();
    await withAdmin?.close();
  });

  it('needs the bearer token when SELER_METRICS_TOKEN is set', async () => {
    const anonymous = await scrape(withToken);
    expect(anonymous.status).toBe(401);
    expect(anonymous.auth).toBe('Bearer realm="metrics"');
    expect(JSON.parse(anonymous.text)).toMatchObject({ error: { code: 'not_authenticated' } });
    const wrong = await scrape(withToken, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text)).toMatchObject({ error: { code: 'invalid_token' } });
    const right = await scrape(withToken, { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(parseMetrics(right.text).get('seler_workers_online')).toBe(0);
  });

  it('uses the admin auth (view_task) when SELER_METRICS_AUTH=admin', async () => {
    const db = withAdmin.runtime.db!;
    const viewer = await createUser(db, { username: 'prometheus', password: null, isStaff: true, permissions: ['view_task'] });
    const other = await createUser(db, { username: 'someone', password: null, isStaff: true });
    expect((await scrape(withAdmin)).status).toBe(401);
    expect((await scrape(withAdmin, { authorization: `Bearer ${(await createToken(db, other.id, 'x')).token}` })).status).toBe(403);
    expect((await scrape(withAdmin, { authorization: `Bearer ${(await createToken(db, viewer.id, 'x')).token}` })).status).toBe(200);
  });

  it('refuses a bad configuration, naming the variable', () => {
    expect(() => loadConfig({ SELER_METRICS_TOKEN: 'short' }, '/tmp')).toThrow(/SELER_METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ SELER_METRICS_AUTH: 'token' }, '/tmp')).toThrow(/SELER_METRICS_AUTH=token needs SELER_METRICS_TOKEN/);
    expect(() => loadConfig({ SELER_METRICS_AUTH: 'open' }, '/tmp')).toThrow(/SELER_METRICS_AUTH must be none, token or admin/);
    expect(loadConfig({ SELER_METRICS_TOKEN: TOKEN }, '/tmp').metrics).toEqual({ auth: 'token', token: TOKEN });
    expect(loadConfig({}, '/tmp').metrics).toEqual({ auth: 'none' });
  });
});
