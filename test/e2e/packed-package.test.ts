// The package as a user installs it: `npm pack` (which builds first, through `prepare`), the tarball
// unpacked in a temp folder with the repository's node_modules linked beside it (no network), and the
// unpacked `seler` run from there, outside the repository: --help, then `seler start` serving the pages,
// their assets, the API description and a thumbnail upload whose zip downloads; SIGTERM leaves nothing.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../src/thumbnails/test-images.js';
import { waitFor } from '../helpers/app.js';
import { freePort, repoRoot } from '../helpers/cli.js';
import { redisServerPids } from '../helpers/redis-processes.js';

const run = promisify(execFile);

interface Packed {
  filename: string;
  files: { path: string }[];
}

const sandbox = mkdtempSync(path.join(tmpdir(), 'seler-packed-'));
const unpacked = path.join(sandbox, 'package');
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
let packedFiles: string[] = [];
let started: ChildProcess | undefined;

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));

beforeAll(async () => {
  // Builds only when a source is newer than the last build (npm test has just built).
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', sandbox], { cwd: repoRoot, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 });
  const [packed] = JSON.parse(stdout) as Packed[];
  packedFiles = packed!.files.map((f) => f.path);
  await run('tar', ['xzf', path.join(sandbox, packed!.filename), '-C', sandbox]);
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(sandbox, 'node_modules'), 'dir');
}, 300_000);

afterAll(() => {
  if (started && started.exitCode === null && started.signalCode === null) process.kill(-started.pid!, 'SIGKILL');
  rmSync(sandbox, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the built server, every Lua script and the built pages, and none of the development files', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/seler.js', 'dist/main.js', 'dist/tasks/index.d.ts', 'dist/tasks/pool-host.js']));
    const luaScripts = filesUnder(path.join(repoRoot, 'dist')).filter((f) => f.endsWith('.lua'));
    expect(luaScripts.length).toBeGreaterThan(0);
    expect(packedFiles).toEqual(expect.arrayContaining(luaScripts.map((f) => `dist/${f}`)));
    const pages = filesUnder(path.join(repoRoot, 'dist', 'web'));
    expect(pages).toEqual(expect.arrayContaining(['index.html', 'admin/index.html']));
    expect(packedFiles).toEqual(expect.arrayContaining(pages.map((f) => `dist/web/${f}`)));

    const development = packedFiles.filter((f) => /\.test\.|\.map$|\.tsbuildinfo$|\.build-stamp$/.test(f) || /^(src|test|bench|scripts|web|\.ci)\//.test(f));
    expect(development).toEqual([]);
    // No compiled module whose source is gone (tsc leaves them; the build prunes them).
    const compiled = packedFiles.filter((f) => /^dist\/(?!web\/).*\.(js|d\.ts)$/.test(f));
    expect(compiled.filter((f) => !existsSync(path.join(repoRoot, 'src', f.slice('dist/'.length).replace(/\.(js|d\.ts)$/, '.ts'))))).toEqual([]);
  });

  it('`seler --help` runs from the unpacked package', async () => {
    const { stdout } = await run(process.execPath, [path.join(unpacked, 'bin', 'seler.js'), '--help'], { cwd: sandbox, env, timeout: 30_000 });
    expect(stdout).toContain('Usage: seler');
    expect(stdout).toMatch(/^ {2}start /m);
  });

  it('`seler start` serves the pages, their assets, /docs/json and a thumbnail upload whose zip downloads; SIGTERM stops everything', async () => {
    const dataDir = path.join(sandbox, 'data');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [path.join(unpacked, 'bin', 'seler.js'), 'start', '--port', String(port)], {
      cwd: sandbox,
      env: { ...env, SELER_DATA_DIR: dataDir, PORT: String(port) },
      detached: true, // a process group of its own, so afterAll can kill all of it if the test fails midway
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started = child;
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`seler start exited with ${child.exitCode}:\n${logs}`);
      return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok;
    }, 90_000, 100);

    // The page and its assets come from the unpacked package's dist/web.
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toBe(readFileSync(path.join(unpacked, 'dist', 'web', 'index.html'), 'utf8'));
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${base}${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
      expect(await res.text()).toBe(readFileSync(path.join(unpacked, 'dist', 'web', asset), 'utf8'));
    }

    const docs = await fetch(`${base}/docs/json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/api/v1/thumbnails');

    const form = new FormData();
    form.append('images', new Blob([await makeJpeg({ width: 64, height: 48 })], { type: 'image/jpeg' }), 'photo.jpg');
    form.append('sizes', '32x32');
    const upload = await fetch(`${base}/api/v1/thumbnails`, { method: 'POST', body: form });
    expect(upload.status).toBe(202);
    const { statusUrl } = (await upload.json()) as { statusUrl: string };
    const done = await waitFor(async () => {
      const task = (await (await fetch(`${base}${statusUrl}`)).json()) as { status: string; result?: { archiveUrl: string } };
      if (task.status === 'FAILURE') throw new Error(`the thumbnail task failed: ${JSON.stringify(task)}\n${logs}`);
      return task.status === 'SUCCESS' ? task : undefined;
    }, 60_000, 100);
    const archive = await fetch(`${base}${done.result!.archiveUrl}`);
    expect(archive.status).toBe(200);
    const zipFile = path.join(sandbox, 'thumbnails.zip');
    writeFileSync(zipFile, Buffer.from(await archive.arrayBuffer()));
    execFileSync('unzip', ['-tq', zipFile]); // every CRC checks out
    expect(execFileSync('unzip', ['-Z1', zipFile], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(['photo.jpg', 'photo_32x32.jpg']);

    process.kill(child.pid!, 'SIGTERM');
    expect(await exited, logs).toBe(0);
    // Nothing of it is left: no process in its group, no redis-server on its data directory, no process
    // whatever whose command line names the sandbox (pgrep answers 1 when nothing matches).
    expect(() => process.kill(-child.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await waitFor(async () => redisServerPids(dataDir).length === 0, 10_000, 50);
    expect(await run('pgrep', ['-af', sandbox]).then((r) => r.stdout, (err: { code?: number }) => err.code)).toBe(1);
  }, 180_000);
});
