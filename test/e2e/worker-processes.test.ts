// Real worker processes: a SIGKILL mid-task, warm and cold shutdown, and a Redis restart under load.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { glibcVersion } from '../../src/platform/allocator.js';
import { silentLogger } from '../../src/platform/logger.js';
import { ensurePrivateRedis, type PrivateRedis } from '../../src/platform/private-redis.js';
import { waitFor } from '../helpers/app.js';
import { repoRoot, spawnCli } from '../helpers/cli.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seler-workers-'));
const runsFile = (id: string) => path.join(dir, `runs-${id}.log`);

// A task module loaded by the worker processes through the configuration file: it records each run in
// a file, so the test can count how often a task really ran.
const taskModule = path.join(dir, 'e2e-tasks.mts'); // .mts: an ES module wherever it lives, like the app
writeFileSync(
  taskModule,
  `import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from ${JSON.stringify(path.join(repoRoot, 'src/tasks/index.ts'))};
defineTask('e2e.slow', {}, async ([ms], _kwargs, ctx) => {
  appendFileSync(${JSON.stringify(dir)} + '/runs-' + ctx.id + '.log', process.pid + '\\n');
  await sleep(ms);
  return 'done';
});
`,
);
const configFile = path.join(dir, 'seler.config.json');
writeFileSync(configFile, JSON.stringify({ tasks: [taskModule] }));

let prefix: string;
let runtime: Runtime;
const children: ChildProcess[] = [];

function env(extra: Record<string, string> = {}, redisUrl = testRedisUrl()) {
  return { REDIS_URL: redisUrl, SELER_REDIS_PREFIX: prefix, SELER_DATA_DIR: dir, SELER_CONFIG: configFile, SELER_LOCK_DURATION: '2', ...extra };
}

function startWorker(extra: Record<string, string> = {}, args: string[] = ['-c', '2'], redisUrl?: string) {
  const child = spawnCli(['worker', ...args], { env: env(extra, redisUrl) });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = waitFor(async () => output.includes('worker ready'), 30_000, 100);
  return { child, exited, ready, output: () => output };
}

async function openClient(redisUrl = testRedisUrl()): Promise<Runtime> {
  const config = loadConfig({ REDIS_URL: redisUrl, SELER_REDIS_PREFIX: prefix, SELER_DATA_DIR: dir, SELER_CONFIG: configFile }, dir);
  return openRuntime(config, silentLogger);
}

const runs = (id: string) => (existsSync(runsFile(id)) ? readFileSync(runsFile(id), 'utf8').trim().split('\n').length : 0);
const status = async (id: string) => (await runtime.client.getTask(id))?.status;

beforeAll(async () => {
  prefix = uniquePrefix('proc');
  runtime = await openClient();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await deleteKeys(runtime.redis, `{${prefix}}*`);
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The worker process a `seler worker` wrapper relaunched (glibc), or the process itself. */
function workerPid(child: ChildProcess): number {
  const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker')) ?? child.pid!;
}
const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

describe.skipIf(glibcVersion() === undefined)('the allocator (glibc)', () => {
  it('a worker runs with MALLOC_ARENA_MAX=2 without the user setting it; a SIGKILL of the command takes the worker down too', async () => {
    const a = startWorker();
    await a.ready;
    const pid = workerPid(a.child);
    expect(pid).not.toBe(a.child.pid);
    expect(environOf(pid)).toContain('MALLOC_ARENA_MAX=2');
    expect(environOf(pid)).toContain('MALLOC_MMAP_THRESHOLD_=65536');
    expect(environOf(a.child.pid!)).not.toContain('MALLOC_ARENA_MAX=2');
    a.child.kill('SIGKILL');
    await a.exited;
    await waitFor(async () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 10_000, 50);
  }, 60_000);

  it('a user’s own MALLOC_ARENA_MAX is kept, in one process', async () => {
    const a = startWorker({ MALLOC_ARENA_MAX: '4' });
    await a.ready;
    expect(workerPid(a.child)).toBe(a.child.pid);
    expect(environOf(a.child.pid!)).toContain('MALLOC_ARENA_MAX=4');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  }, 60_000);
});

describe('crash safety', () => {
  it('a task whose worker is SIGKILLed mid-run is picked up by another and succeeds exactly once', async () => {
    const a = startWorker();
    await a.ready;
    const { id } = await runtime.client.enqueue('e2e.slow', { args: [3000] });
    await waitFor(async () => runs(id) === 1, 20_000, 50).catch(async (e) => {
      console.log(JSON.stringify(await runtime.client.getTask(id)), a.output());
      throw e;
    });
    a.child.kill('SIGKILL');
    await a.exited;

    const b = startWorker();
    await b.ready;
    await waitFor(async () => (await status(id)) === 'SUCCESS', 30_000, 200);
    const view = await runtime.client.getTask(id);
    expect(view?.result).toBe('done');
    expect(runs(id)).toBeGreaterThanOrEqual(1);
    expect(runs(id)).toBeLessThanOrEqual(2);
  }, 90_000);
});

describe('shutdown', () => {
  it('SIGTERM is a warm shutdown: the running task finishes, no new task is taken, the process exits 0', async () => {
    const a = startWorker();
    await a.ready;
    const { id } = await runtime.client.enqueue('e2e.slow', { args: [1500] });
    await waitFor(async () => runs(id) === 1, 20_000, 50);
    a.child.kill('SIGTERM');
    await waitFor(async () => a.output().includes('shutting down'), 10_000, 20);
    const later = await runtime.client.enqueue('demo.add', { args: [1, 1] });
    expect(await a.exited).toBe(0);
    expect(await status(id)).toBe('SUCCESS');
    expect(await status(later.id)).toBe('PENDING');

    const b = startWorker();
    await waitFor(async () => (await status(later.id)) === 'SUCCESS', 20_000, 100);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 90_000);

  it('after the shutdown timeout, a running task is handed back and another worker runs it at once', async () => {
    const a = startWorker({ SELER_SHUTDOWN_TIMEOUT: '0.5' });
    await a.ready;
    const { id } = await runtime.client.enqueue('e2e.slow', { args: [4000] });
    await waitFor(async () => runs(id) === 1, 20_000, 50);
    const stopAt = Date.now();
    a.child.kill('SIGTERM');
    await a.exited;
    expect(Date.now() - stopAt).toBeLessThan(3500);
    expect(await status(id)).toBe('PENDING');

    startWorker();
    await waitFor(async () => (await status(id)) === 'SUCCESS', 30_000, 100);
    expect(runs(id)).toBe(2);
  }, 90_000);

  it('a second signal stops at once; the interrupted task is recovered later', async () => {
    const a = startWorker();
    await a.ready;
    const { id } = await runtime.client.enqueue('e2e.slow', { args: [5000] });
    await waitFor(async () => runs(id) === 1, 20_000, 50);
    a.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(1);

    startWorker();
    await waitFor(async () => (await status(id)) === 'SUCCESS', 40_000, 200);
  }, 90_000);
});

describe('Redis restarts', () => {
  let redisDir: string;
  let server: PrivateRedis;
  let client: Runtime | undefined;

  beforeAll(async () => {
    redisDir = mkdtempSync(path.join(tmpdir(), 'seler-restart-'));
    server = await ensurePrivateRedis(redisDir);
  });
  afterAll(async () => {
    await client?.close().catch(() => {});
    await server.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  it('workers and clients reconnect by themselves and every accepted task of 1,000 ends SUCCESS', async () => {
    const url = server.url;
    const worker = startWorker({}, ['-c', '10'], url);
    await worker.ready;
    client = await openClient(url);

    const accepted: string[] = [];
    const enqueueAll = (async () => {
      for (let i = 0; i < 1000; i++) {
        try {
          accepted.push((await client!.client.enqueue('demo.add', { args: [i, 1] })).id);
        } catch {
          /* not accepted while Redis was down: the caller saw an error, so nothing was promised */
        }
      }
    })();
    await waitFor(async () => accepted.length >= 300, 30_000, 20);
    await server.stop();
    await new Promise((r) => setTimeout(r, 500));
    server = await ensurePrivateRedis(redisDir);
    expect(server.url).toBe(url);
    await enqueueAll;

    expect(accepted.length).toBeGreaterThan(900);
    await waitFor(
      async () => {
        const views = await Promise.all(accepted.map((id) => client!.client.getTask(id)));
        return views.every((v) => v?.status === 'SUCCESS');
      },
      60_000,
      500,
    );
    expect(worker.child.exitCode).toBeNull();
  }, 120_000);

  it('a task read while a worker in another process finishes it is never SUCCESS without its result, nor FAILURE without its error', async () => {
    // The Lua scripts are flushed before each task, as after a restart: a reader that needs two round
    // trips for the job and its state (EVALSHA, NOSCRIPT, EVAL) gave a torn view about one read in ten.
    const worker = startWorker({}, ['-c', '2'], server.url);
    await worker.ready;
    const reader = await openClient(server.url);
    const torn: unknown[] = [];
    let reads = 0;
    try {
      for (let i = 0; i < 150; i++) {
        await reader.redis.script('FLUSH');
        const fails = i % 3 === 2;
        const { id } = fails
          ? await reader.client.enqueue('demo.fail', { args: ['boom'], kwargs: { permanent: true } })
          : await reader.client.enqueue('demo.add', { args: [i, 1] });
        const view = await waitFor(async () => {
          reads++;
          const v = await reader.client.getTask(id);
          return v && ['SUCCESS', 'FAILURE'].includes(v.status) ? v : undefined;
        }, 20_000, 0);
        const whole = fails
          ? view.status === 'FAILURE' && view.error?.code === 'permanent_failure' && view.error.message === 'boom' && view.dateDone !== undefined
          : view.status === 'SUCCESS' && view.result === i + 1 && view.dateDone !== undefined;
        if (!whole) torn.push(view);
      }
    } finally {
      await reader.close();
    }
    expect(reads).toBeGreaterThan(150); // it did read tasks that were not finished yet
    expect(torn).toEqual([]);
  }, 120_000);
});
