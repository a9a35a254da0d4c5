import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/thumbnails/test-images.js';
import { waitFor } from '../helpers/app.js';
import { cliArgs, freePort, repoRoot, runCli, spawnCli } from '../helpers/cli.js';
import { redisServerPids } from '../helpers/redis-processes.js';
import { testRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// A test that fails or times out half-way leaves nothing running: the helper stops what spawnCli started
// (its whole process group, and so its private redis-server) when the test ends (test/e2e/cli-cleanup.test.ts).


describe('seler start on the embedded defaults', () => {
  it('starts a private Redis and SQLite, serves the lab API, and stops everything on SIGTERM', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawnCli(['start', '--port', String(port)], { env: { SELER_DATA_DIR: dataDir, SELER_LOG_LEVEL: 'info' } });
    let logs = '';
    let errors = '';
    child.stdout!.on('data', (d) => (logs += d));
    child.stderr!.on('data', (d) => (errors += d));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, 30_000, 200);
    expect(existsSync(path.join(dataDir, 'seler.db'))).toBe(true);
    expect(redisServerPids(dataDir).length).toBe(1);

    const body = new FormData();
    body.append('image_file', new Blob([await makeJpeg({ width: 200, height: 100 })]), 'rob.jpg');
    const { task_id } = (await (await fetch(`${base}/`, { method: 'POST', body })).json()) as { task_id: string };
    const status = await waitFor(async () => {
      const s = (await (await fetch(`${base}/task/${task_id}/`)).json()) as { task_status: string };
      return s.task_status === 'SUCCESS' ? s : undefined;
    });
    expect(status).toMatchObject({ task_id, results: { archive_path: `/api/v1/tasks/${task_id}/archive` } });

    // One JSON object per line (stdout is not a terminal), and the task's lines carry its id.
    const lines = logs.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.taskId === task_id).map((l) => l.msg)).toEqual(expect.arrayContaining(['task started', 'task succeeded']));
    // One "ready" entry: where, which data directory and database, and that nobody can log in yet.
    expect(lines.filter((l) => String(l.msg).startsWith('seler is ready'))).toEqual([
      expect.objectContaining({ msg: `seler is ready at ${base}`, url: base, dataDir, database: path.join(dataDir, 'seler.db'), superuser: false }),
    ]);

    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(errors).toBe('');
    await waitFor(async () => redisServerPids(dataDir).length === 0, 10_000, 100);
    expect(existsSync(path.join(dataDir, 'redis', 'appendonlydir'))).toBe(true);
  }, 60_000);

  it('SELER_LOG_FORMAT=pretty: readable log lines and one plain ready line naming the data, the database and how to create a superuser', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawnCli(['web', '--port', String(port)], { env: { SELER_DATA_DIR: dataDir, REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: uniquePrefix('cli'), SELER_LOG_FORMAT: 'pretty' } });
    let logs = '';
    child.stdout!.on('data', (d) => (logs += d));
    try {
      await waitFor(async () => logs.includes('seler is ready'), 30_000, 100);
      const base = `http://127.0.0.1:${port}`;
      const ready = logs.split('\n').filter((l) => l.includes('seler is ready'));
      expect(ready).toEqual([
        `seler is ready at ${base}  (data ${dataDir}, database ${path.join(dataDir, 'seler.db')}, Redis ${testRedisUrl()}; no superuser yet: create one with "npx seler createsuperuser")`,
      ]);
      expect(logs).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}connected to Redis {2}role=web redis=\S+ kind=single version=\S+$/m);
      expect(logs).not.toMatch(/^\{/m);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('leaves no redis-server behind when seler itself is killed with SIGKILL', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawnCli(['start', '--port', String(port)], { env: { SELER_DATA_DIR: dataDir } });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 30_000, 200);
    expect(redisServerPids(dataDir).length).toBe(1);
    child.kill('SIGKILL');
    await waitFor(async () => redisServerPids(dataDir).length === 0, 10_000, 100);
  }, 60_000);

  it('explains how to get a Redis when none is configured and redis-server is not installed', async () => {
    const bin = tempDir(); // a PATH with node and nothing else
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const res = await runCli(['start'], { env: { SELER_DATA_DIR: tempDir(), PATH: bin } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no redis-server program was found');
    expect(res.stderr).toContain('REDIS_URL');
    expect(res.stderr).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });
});

describe('bad input on the command line', () => {
  const redisEnv = () => ({ REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: uniquePrefix('cli'), SELER_DATA_DIR: tempDir() });

  it.each([
    [['call', 'demo.add', '--args', '[1,2]']],
    [['result', '3f1c5d0e-0000-4000-8000-000000000000']],
    [['inspect', 'ping']],
    [['lab', 'ping', '--connect-timeout', '1']],
  ])('seler %j with an unreachable Redis: one clear sentence and exit 1', async (args) => {
    const started = Date.now();
    const res = await runCli(args, { env: { REDIS_URL: 'redis://127.0.0.1:1/0', SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^seler: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: [^\n]*\n$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('the installed command says in one sentence what to run when seler is not built yet', async () => {
    const copy = tempDir();
    mkdirSync(path.join(copy, 'bin'));
    copyFileSync(path.join(repoRoot, 'bin', 'seler.js'), path.join(copy, 'bin', 'seler.js'));
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(copy, 'bin', 'seler.js'), '--help'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`seler: seler is not built yet: run "npm run build" in ${copy}/ (npm install and npm start do it too).\n`);
  });

  it('an invalid log format is named', async () => {
    const res = await runCli(['web'], { env: { SELER_LOG_FORMAT: 'yaml', SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('SELER_LOG_FORMAT must be "pretty" or "json"');
  });

  it.each([['abc', /SELER_DECODE_MEMORY_MB must be a number/], ['0', /SELER_DECODE_MEMORY_MB must be greater than 0/], ['-5', /SELER_DECODE_MEMORY_MB must be greater than 0/]])(
    'SELER_DECODE_MEMORY_MB=%s is refused with a sentence naming it, exit 1',
    async (value, message) => {
      const res = await runCli(['worker'], { env: { SELER_DECODE_MEMORY_MB: value, SELER_DATA_DIR: tempDir() } });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(message);
    },
  );

  it.each([
    [{ SELER_STORAGE: 's3:/bucket' }, /^seler: SELER_STORAGE must be s3:\/\/bucket or s3:\/\/bucket\/prefix .*\n$/],
    [{ SELER_STORAGE: 's3://bucket', SELER_S3_ENDPOINT: 'minio:9000' }, /^seler: SELER_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL.*\n$/],
    [{ SELER_STORAGE_REDIRECT: 'presigned' }, /^seler: SELER_STORAGE_REDIRECT=presigned needs SELER_STORAGE=s3:.*\n$/],
  ])('a malformed storage setting %o is one sentence naming it, exit 1, before anything starts', async (env, message) => {
    const res = await runCli(['worker'], { env: { ...env, SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(message);
  });

  it('a SQLite database that cannot be opened is one sentence and exit 1, not a process left hanging on Redis', async () => {
    const notADir = path.join(tempDir(), 'file');
    writeFileSync(notADir, '');
    // Before the fix the process printed the error and then stayed alive on its Redis connection: runCli's 30 s limit fails it.
    const res = await runCli(['web', '--port', String(await freePort())], { env: { ...redisEnv(), SELER_DATA_DIR: path.join(notADir, 'data') } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^seler: Cannot open the database: ENOTDIR[^\n]*\n$/);
  });

  it('an invalid environment variable is named', async () => {
    const res = await runCli(['web'], { env: { PORT: 'eighty', SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
  });

  it.each([
    [['frobnicate'], /^seler: unknown command 'frobnicate'/],
    [['call'], /^seler: missing required argument 'task'/],
    [['result'], /^seler: missing required argument 'id'/],
    [['createtoken'], /^seler: missing required argument 'username'/],
    [['inspect', 'everything'], /^seler: command-argument value 'everything' is invalid for argument 'command'\. Allowed choices are active/],
    [['call', 'demo.add', '--args', 'not json'], /^seler: option '--args <json>' argument 'not json' is invalid\. --args must be JSON/],
    [['call', 'demo.add', '--args', '{"a":1}'], /--args must be a JSON array/],
    [['call', 'demo.add', '--countdown', '-5'], /--countdown must be a number/],
    [['call', 'demo.add', '--no-such-flag'], /^seler: unknown option '--no-such-flag'/],
    [['result', 'a b'], /^seler: Not a task id/],
    [['worker', '-c', '0'], /concurrency must be a whole number/],
    [['worker', '-P', 'gevent'], /Allowed choices are async/],
    [['worker', '--rate-limit', 'fast'], /^seler: option '--rate-limit <rate>' argument 'fast' is invalid/],
    [['lab', 'strigns'], /^seler: Unknown exercise "strigns"\. Valid exercises: ping, strings/],
    [['lab', 'ping', '--timeout', 'soon'], /^seler: option '--timeout <seconds>' argument 'soon' is invalid/],
    [['lab', 'ping', 'strings'], /^seler: too many arguments for 'lab'/],
  ])('seler %j is bad usage: one "seler:" sentence, exit 2', async (args, message) => {
    const res = await runCli(args as string[], { env: redisEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(res.stdout).toBe('');
  });

  it('an unknown task name lists the registered ones and exits 2', async () => {
    const res = await runCli(['call', 'no.such.task'], { env: redisEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('demo.add');
  });

  it('calls a task and waits for its result through a worker process', async () => {
    const env = redisEnv();
    const worker = spawnCli(['worker', '-Q', 'default', '-c', '2'], { env });
    try {
      const call = await runCli(['call', 'demo.add', '--args', '[2, 3]'], { env });
      expect(call.code, call.stderr).toBe(0);
      const id = call.stdout.trim();
      const result = await runCli(['result', id, '--wait', '20'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ id, status: 'SUCCESS', result: 5 });
      const unknown = await runCli(['result', 'no-such-id'], { env });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No task with id "no-such-id"');
    } finally {
      worker.kill('SIGTERM');
    }
  }, 60_000);
});

describe('the data directory does not silently follow the working directory', () => {
  it.each([
    [['createsuperuser', '--username', 'ada', '--password-stdin'], 'database', 'seler.db'],
    [['createtoken', 'ada'], 'database', 'seler.db'],
    [['rotatesecret'], 'database', 'seler.db'],
    [['call', 'demo.add', '--args', '[1, 2]'], 'private Redis (REDIS_URL is not set)', 'redis'],
    [['result', '3f1c5d0e-0000-4000-8000-000000000000'], 'private Redis (REDIS_URL is not set)', 'redis'],
    [['lab', 'ping'], 'private Redis (REDIS_URL is not set)', 'redis'],
  ])('seler %j in a folder where seler never ran (no SELER_DATA_DIR) refuses to start over there', async (args, what, made) => {
    const elsewhere = tempDir();
    const res = await runCli(args, { cwd: elsewhere, env: {} });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `seler: There is no ${what} at ${path.join(elsewhere, 'data', made)}: the data directory is ./data of the working directory (${elsewhere}) and nothing has run here. ` +
        `Run this in the folder where you run "seler start", or set SELER_DATA_DIR (now ${path.join(elsewhere, 'data')}).\n`,
    );
    expect(existsSync(path.join(elsewhere, 'data', 'seler.db'))).toBe(false);
    expect(redisServerPids(elsewhere)).toEqual([]);
  });

  it('seler call says which Redis it queued on (stdout stays the id alone)', async () => {
    const env = { REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: uniquePrefix('cli'), SELER_DATA_DIR: tempDir() };
    const res = await runCli(['call', 'demo.add', '--args', '[1, 2]'], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(res.stderr).toMatch(/^Queued demo\.add on Redis at \S+\.\n$/);
  });
});

describe('light commands load only what they need', () => {
  // The engines of other commands: loading them is what made every `seler …` call take seconds.
  const heavy = /node_modules\/(sharp|@img|fastify|@fastify|kysely|better-sqlite3|pg|@aws-sdk|playwright-core)\/|\/src\/(app|admin|beat|monitoring)\b|\/src\/thumbnails\/(image|routes|uploads)\.ts/;

  // BullMQ only where a job is queued: reading a task and asking the workers go to Redis directly.
  const bullmq = /node_modules\/bullmq\//;
  // What tasks do, as opposed to what they are (name, queue, argument schema): `call` registers every task
  // but runs none, so the thumbnail task's zip writer, storage and naming code stay unloaded.
  const taskWork = /node_modules\/yazl\/|\/src\/thumbnails\/(make-thumbnails|archive|storage|naming)\.ts|\/src\/platform\/storage\/(index|local|s3|metered)\.ts/;
  // The task layer's worker and HTTP side (what its index.ts brings): task modules declare through define-task.ts.
  const taskRuntime = /\/src\/tasks\/(index|worker|pool|routes|access|queue-admin|queue-jobs)\.ts|\/src\/platform\/(http|openapi|sse)\.ts/;
  it.each([
    [['--help'], [heavy, bullmq, taskWork, taskRuntime]],
    [['call', 'demo.add', '--args', '[1, 2]'], [heavy, taskWork, taskRuntime]],
    [['result', 'RESULT_ID'], [heavy, bullmq, taskWork, taskRuntime]],
    [['inspect', 'ping', '--timeout', '0.2'], [heavy, bullmq, taskWork, taskRuntime]],
    [['lab', '--help'], [heavy, bullmq, taskWork, taskRuntime]],
  ])(
    'seler %j',
    async (args, forbidden) => {
      const env = { REDIS_URL: testRedisUrl(), SELER_REDIS_PREFIX: uniquePrefix('cli'), SELER_DATA_DIR: tempDir() };
      const id = args[0] === 'result' ? (await runCli(['call', 'demo.add', '--args', '[1, 2]'], { env })).stdout.trim() : '';
      const trace = path.join(tempDir(), 'modules.txt');
      const res = await runCli(args.map((a) => (a === 'RESULT_ID' ? id : a)), { env: { ...env, SELER_MODULE_TRACE: trace } });
      expect([0, 1]).toContain(res.code); // inspect exits 1 when no worker answers
      expect(res.stderr).not.toMatch(/\n\s+at /);
      const loaded = readFileSync(trace, 'utf8').split('\n');
      expect(loaded.some((url) => url.includes('/node_modules/commander/'))).toBe(true); // the trace works
      expect(loaded.some((url) => url.includes('/node_modules/ioredis/') || args[0] === '--help' || args[0] === 'lab')).toBe(true); // require() is traced too
      expect(loaded.filter((url) => forbidden.some((re) => re.test(url)))).toEqual([]);
      if (args[0] === 'call') expect(loaded.some((url) => url.includes('/src/thumbnails/task.ts'))).toBe(true); // the declarations are loaded
    },
  );
});

describe('seler lab on a closed pipe', () => {
  it('`seler lab all | head -1` stops quietly, exits 0 and leaves none of its keys', async () => {
    const prefix = uniquePrefix('epipe');
    const child = spawnCli(['lab', 'all', '--prefix', prefix, '--rounds', '1'], { env: { REDIS_URL: testRedisUrl(), SELER_DATA_DIR: tempDir() } });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // Like head: read the first lines, then close the pipe while seler is still writing.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const redis = await testRedis();
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

describe('the admin from the command line', () => {
  it('createsuperuser reads the password from stdin; the user can then log in and get a token', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
    const created = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, cliArgs(['createsuperuser', '--username', 'ada', '--email', 'ada@example.com', '--password-stdin']), { cwd: repoRoot, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end('correct horse battery staple\n');
    });
    expect(created.code, created.stderr).toBe(0);
    // Which database it wrote to, and that it made a new one.
    expect(created.stdout).toBe(`Superuser "ada" created in ${path.join(dataDir, 'seler.db')}. Log in at /admin/login.\n`);
    expect(created.stderr).toBe(`Created a new database at ${path.join(dataDir, 'seler.db')}.\n`);

    // No terminal: a weak password is refused with the rules, in one sentence.
    const weak = await runCli(['createsuperuser', '--username', 'bob', '--password-stdin'], { env: { SELER_DATA_DIR: dataDir } });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/^seler: The password from standard input is refused: A password is required\. A password needs at least 10 characters, [^\n]+\.\n$/);

    const token = await runCli(['createtoken', 'ada'], { env: { SELER_DATA_DIR: dataDir } });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^seler_\S{20,}$/);
    expect(token.stderr).toBe(`Token "command line" for ada stored in ${path.join(dataDir, 'seler.db')}.\n`);
    const missing = await runCli(['createtoken', 'nobody'], { env: { SELER_DATA_DIR: dataDir } });
    expect(missing.code).toBe(1);
  }, 60_000);
});

describe('seler control', () => {
  it('changes live workers, pauses a queue and sets a rate limit; refuses what it cannot do', async () => {
    const { startTestApp } = await import('../helpers/app.js');
    const { liveWorkers } = await import('../../src/tasks/index.js');
    const app = await startTestApp({ web: false, worker: { concurrency: 2, queues: ['default'] } });
    const env = { REDIS_URL: app.config.redisTarget!.url, SELER_REDIS_PREFIX: app.config.redisPrefix, SELER_DATA_DIR: app.dataDir };
    const worker = app.worker!.name;
    try {
      const grown = await runCli(['control', 'concurrency', '6', '--destination', worker], { env });
      expect(grown.stderr).toBe('');
      expect(grown.stdout).toBe(`-> ${worker}: ok, concurrency 6, queues default\n`);
      expect(grown.code).toBe(0);
      await waitFor(async () => (await liveWorkers(app.runtime.redis, app.runtime.client.keys)).find((w) => w.name === worker)?.concurrency === 6);

      const added = await runCli(['control', 'add-consumer', 'cli-extra', '--json'], { env });
      expect(JSON.parse(added.stdout)).toEqual([{ worker, reply: { ok: true, queues: ['default', 'cli-extra'], concurrency: 6, changed: true } }]);

      const paused = await runCli(['control', 'pause', 'cli-extra'], { env });
      expect(paused.stdout).toMatch(/^queue cli-extra: paused/);
      expect(await app.runtime.client.queue('cli-extra').isPaused()).toBe(true);
      expect((await runCli(['control', 'resume', 'cli-extra'], { env })).code).toBe(0);
      expect(await app.runtime.client.queue('cli-extra').isPaused()).toBe(false);

      const limited = await runCli(['control', 'rate-limit', 'demo.add', '10/m'], { env });
      expect(limited.stdout).toMatch(/^demo\.add: at most 10\/m on every worker/);
      expect(await app.runtime.redis.hget(app.runtime.client.keys.key('rate-limits'), 'demo.add')).toBe('10/m');
      expect((await runCli(['control', 'rate-limit', 'demo.add', 'reset'], { env })).stdout).toMatch(/^demo\.add: back to its declared limit \(none\)/);
      expect(await app.runtime.redis.hget(app.runtime.client.keys.key('rate-limits'), 'demo.add')).toBeNull();

      const refusals: [string[], number, RegExp][] = [
        [['control', 'concurrency', '0'], 2, /^seler: .*<n> must be a whole number greater than 0\./],
        [['control', 'rate-limit', 'demo.add', 'fast'], 2, /^seler: rate limit "fast" must look like "10\/s"/],
        [['control', 'rate-limit', 'no.such.task', '1/s'], 1, /^seler: no registered task is named "no\.such\.task"/],
        [['control', 'pause', 'nowhere'], 1, /^seler: no queue named "nowhere" is known here \(known: .*default/],
        [['control', 'pause', 'a b'], 2, /^seler: queue name "a b" may contain/],
        [['control', 'shutdown'], 2, /^seler: say which workers to shut down: --destination <names> or --all\./],
        [['control', 'concurrency', '3', '--destination', 'nobody:1:x', '--timeout', '0.5'], 1, /^seler: no answer from nobody:1:x/],
        [['control', 'explode'], 2, /^seler: unknown command 'explode'/],
      ];
      for (const [args, code, message] of refusals) {
        const res = await runCli(args, { env });
        expect(res.code, args.join(' ')).toBe(code);
        expect(res.stderr, args.join(' ')).toMatch(message);
      }

      const stopped = await runCli(['control', 'shutdown', '--destination', worker], { env });
      expect(stopped.code).toBe(0);
      await waitFor(async () => !(await liveWorkers(app.runtime.redis, app.runtime.client.keys)).some((w) => w.name === worker), 10_000);
    } finally {
      await app.close();
    }
  }, 150_000);
});
