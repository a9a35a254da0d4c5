import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/thumbnails/test-images.js';
import { waitFor } from '../helpers/app.js';
import { cliArgs, freePort, repoRoot, runCli, spawnCli } from '../helpers/cli.js';
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function redisServersFor(dataDir: string): string[] {
  try {
    // The server itself, not the small shell that watches it (whose command line names it too).
    return execFileSync('pgrep', ['-af', 'redis-server'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(dataDir) && !line.split(' ')[1]?.endsWith('sh'));
  } catch {
    return [];
  }
}

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
    expect(redisServersFor(dataDir).length).toBe(1);

    const body = new FormData();
    body.append('image_file', new Blob([await makeJpeg({ width: 200, height: 100 })]), 'rob.jpg');
    const { task_id } = (await (await fetch(`${base}/`, { method: 'POST', body })).json()) as { task_id: string };
    const status = await waitFor(async () => {
      const s = (await (await fetch(`${base}/task/${task_id}/`)).json()) as { task_status: string };
      return s.task_status === 'SUCCESS' ? s : undefined;
    });
    expect(status).toMatchObject({ task_id, results: { archive_path: `/api/v1/tasks/${task_id}/archive` } });

    // One JSON object per line, and the task's lines carry its id.
    const lines = logs.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.taskId === task_id).map((l) => l.msg)).toEqual(expect.arrayContaining(['task started', 'task succeeded']));

    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(errors).toBe('');
    await waitFor(async () => redisServersFor(dataDir).length === 0, 10_000, 100);
    expect(existsSync(path.join(dataDir, 'redis', 'appendonlydir'))).toBe(true);
  }, 60_000);

  it('leaves no redis-server behind when seler itself is killed with SIGKILL', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawnCli(['start', '--port', String(port)], { env: { SELER_DATA_DIR: dataDir } });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 30_000, 200);
    expect(redisServersFor(dataDir).length).toBe(1);
    child.kill('SIGKILL');
    await waitFor(async () => redisServersFor(dataDir).length === 0, 10_000, 100);
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

  it('an unreachable Redis is one clear sentence and exit 1', async () => {
    const started = Date.now();
    const res = await runCli(['call', 'demo.add', '--args', '[1,2]'], { env: { REDIS_URL: 'redis://127.0.0.1:1/0', SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^seler: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: .*\n$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('an invalid environment variable is named', async () => {
    const res = await runCli(['web'], { env: { PORT: 'eighty', SELER_DATA_DIR: tempDir() } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
  });

  it.each([
    [['frobnicate'], /unknown command/],
    [['call', 'demo.add', '--args', 'not json'], /--args must be JSON/],
    [['call', 'demo.add', '--args', '{"a":1}'], /--args must be a JSON array/],
    [['call', 'demo.add', '--countdown', '-5'], /--countdown must be a number/],
    [['worker', '-c', '0'], /concurrency must be a whole number/],
    [['worker', '-P', 'gevent'], /Allowed choices are async/],
  ])('seler %s exits 2', async (args, message) => {
    const res = await runCli(args as string[], { env: redisEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
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

describe('the admin from the command line', () => {
  it('createsuperuser reads the password from stdin; the user can then log in and get a token', async () => {
    const dataDir = tempDir();
    const env = { SELER_DATA_DIR: dataDir, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
    const created = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, cliArgs(['createsuperuser', '--username', 'ada', '--email', 'ada@example.com', '--password-stdin']), { cwd: repoRoot, env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
      child.stdin.end('correct horse battery staple\n');
    });
    expect(created.code, created.stderr).toBe(0);

    const weak = await runCli(['createsuperuser', '--username', 'bob', '--password-stdin'], { env: { SELER_DATA_DIR: dataDir } });
    expect(weak.code).not.toBe(0);

    const token = await runCli(['createtoken', 'ada'], { env: { SELER_DATA_DIR: dataDir } });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^seler_\S{20,}$/);
    const missing = await runCli(['createtoken', 'nobody'], { env: { SELER_DATA_DIR: dataDir } });
    expect(missing.code).toBe(1);
  }, 60_000);
});
