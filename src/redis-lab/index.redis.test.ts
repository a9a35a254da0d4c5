// `seler lab …` end to end through runLabCli, the function the CLI calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import type { Redis } from '../platform/redis.js';
import { EXERCISES, runLabCli } from './index.js';
import { keysByPrefix } from './session.js';

let redis: Redis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

async function lab(argv: string[], redisUrl: () => Promise<string> = async () => testRedisUrl()) {
  let stdout = '';
  let stderr = '';
  const code = await runLabCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, { redisUrl });
  return { code, stdout, stderr };
}

const names = ['ping', 'strings', 'counters', 'lists', 'blocking', 'sets', 'zsets', 'hashes', 'pubsub', 'streams', 'pipeline', 'lua', 'keyspace', 'acl'];

describe('seler lab', () => {
  it('alone lists the exercises, one line each', async () => {
    const { code, stdout } = await lab([]);
    expect(code).toBe(0);
    for (const name of [...names, 'all']) expect(stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const json = await lab(['--json']);
    expect(JSON.parse(json.stdout).exercises.map((e: { name: string }) => e.name)).toEqual(names);
    expect(EXERCISES.map((e) => e.name)).toEqual(names);
  });

  it('an unknown exercise lists the valid ones and exits 2', async () => {
    const { code, stderr } = await lab(['strigns']);
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown exercise "strigns"');
    for (const name of names) expect(stderr).toContain(name);
  });

  it.each([
    [['ping', '--timeout', 'soon'], /^seler: option '--timeout <seconds>' argument 'soon' is invalid\. --timeout must be a positive number of seconds\./],
    [['ping', '--bogus'], /^seler: unknown option '--bogus'/],
    [['ping', 'strings'], /^seler: too many arguments/],
    [['all', '--listen'], /^seler: --listen keeps one exercise open/],
    [['ping', '--prefix', 'a b'], /^seler: option '--prefix <prefix>' argument 'a b' is invalid/],
    [['ping', '--rounds', '0'], /--rounds must be a whole number/],
  ])('bad usage %j: one "seler:" sentence, exit 2', async (argv, message) => {
    const { code, stdout, stderr } = await lab(argv as string[]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  it('an unreachable Redis: one sentence, exit 1, within the connect timeout', async () => {
    for (const url of ['redis://127.0.0.1:1/0', 'unix:///nonexistent/seler-lab.sock']) {
      const started = Date.now();
      const { code, stdout, stderr } = await lab(['ping', '--redis-url', url, '--connect-timeout', '1']);
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(stderr).toMatch(/^seler: Cannot reach Redis at .+\.\n$/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).toBe('');
    }
  });

  it('when the configured Redis cannot be had, says why and exits 1', async () => {
    const { code, stderr } = await lab(['ping'], async () => {
      throw new Error('No Redis is configured and no redis-server program was found on the PATH.');
    });
    expect(code).toBe(1);
    expect(stderr).toBe('seler: No Redis is configured and no redis-server program was found on the PATH.\n');
  });

  it('uses the configured Redis when --redis-url is not given, and shows command then reply', async () => {
    const { code, stdout } = await lab(['ping']);
    expect(code).toBe(0);
    expect(stdout).toContain('== ping (R1)');
    expect(stdout).toContain('> PING\n< PONG\n');
  });

  it('all --json runs every exercise and leaves no key behind', async () => {
    const prefix = uniquePrefix('lab-all');
    const { code, stdout, stderr } = await lab(['all', '--json', '--rounds', '1', '--timeout', '15', '--prefix', prefix]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const run = JSON.parse(stdout);
    expect(run.ok).toBe(true);
    expect(run.exercises.map((e: { exercise: string }) => e.exercise)).toEqual(names);
    for (const exercise of run.exercises) {
      expect(exercise.ok).toBe(true);
      expect(exercise.steps.length).toBeGreaterThan(0);
    }
    const byName = Object.fromEntries(run.exercises.map((e: { exercise: string }) => [e.exercise, e]));
    expect(byName.strings.facts.raw).toBe(Buffer.from('hello').toString('hex'));
    expect(byName.strings.steps[1].reply).toEqual({ bytes: Buffer.from('hello').toString('hex') });
    expect(byName.streams.facts.lostEntries).toEqual({ dollar: 6, resume: 0 });
    expect(typeof byName.pipeline.facts.speedup).toBe('number');
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });
});
