// A `seler` command a test starts through test/helpers/cli.ts does not outlive that test: neither when the
// test times out nor when the test process itself is killed, and neither does its private redis-server.
// Each case runs a small Vitest of its own (fixtures/cli-left-running.*) and looks at what is left after it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/app.js';
import { groupAlive, repoRoot } from '../helpers/cli.js';
import { isAlive, redisServerPids } from '../helpers/redis-processes.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));


/** Runs the fixture in a Vitest of its own; resolves with what it reported once that Vitest has exited. */
async function runFixture(mode: 'timeout' | 'killed') {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-cli-cleanup-'));
  dirs.push(dir);
  const dataDir = path.join(dir, 'data');
  const reportFile = path.join(dir, 'report.jsonl');
  const vitest = spawn(process.execPath, [path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/e2e/fixtures/cli-left-running.config.ts'], {
    cwd: repoRoot,
    env: { ...process.env, CLI_FIXTURE_MODE: mode, CLI_FIXTURE_DATA_DIR: dataDir, CLI_FIXTURE_REPORT: reportFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  vitest.stdout.on('data', (d) => (output += d));
  vitest.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => vitest.on('exit', resolve));
  if (!existsSync(reportFile)) throw new Error(`the fixture reported nothing (exit ${code}):\n${output}`);
  const lines = readFileSync(reportFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = lines.find((l) => 'started' in l) as { started: number; tree: number[]; redis: number[] } | undefined;
  expect(started?.started, output).toBeGreaterThan(0);
  return { code, output, pid: started!.started, tree: started!.tree, redis: started!.redis, dataDir, lines };
}

/** No process the command ran is left: its group, what it started in groups of their own, its redis-server. */
async function nothingLeftOf(run: { pid: number; tree: number[]; redis: number[]; dataDir: string }) {
  expect(run.redis, 'the private redis-server is among what it ran').toHaveLength(1);
  await waitFor(async () => [run.pid, ...run.tree].every((pid) => !isAlive(pid)), 10_000, 100);
  expect(redisServerPids(run.dataDir)).toEqual([]);
}

describe('a CLI command started by a test', () => {
  it('is stopped with its whole process group and its private redis-server when the test times out', async () => {
    const run = await runFixture('timeout');
    expect(run.output).toMatch(/Test timed out in 1000ms/);
    // Already gone when the next test of the file ran: stopped as the test that started it ended.
    expect(run.lines).toContainEqual({ aliveAfterTimeout: false, leftAfterTimeout: [] });
    expect(groupAlive(run.pid)).toBe(false);
    await nothingLeftOf(run);
  }, 120_000);

  it('stops with its whole process group and its private redis-server when the test process is killed outright', async () => {
    const run = await runFixture('killed');
    expect(run.code).not.toBe(0);
    // No hook ran: the command saw its parent go and stopped its own group.
    await waitFor(async () => !groupAlive(run.pid), 15_000, 100);
    await nothingLeftOf(run);
  }, 120_000);
});
