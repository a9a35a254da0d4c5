import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { runLabCli } from '../cli.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { acl } from './acl.js';

let redis: Redis;

/** The test Redis's URL, logged in as another user (unix:// URLs need a host part to carry one). */
function urlForUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  if (u.protocol.includes('unix') && !u.host) return `unix://${user}:${password}@localhost${u.pathname}${u.search}`;
  u.username = user;
  u.password = password;
  return u.toString();
}
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.disconnect());

describe('lab acl', () => {
  it('a read-only user of lab keys can read them, and is refused a write and a foreign key; then it is gone', async () => {
    const prefix = uniquePrefix('lab-acl');
    const { exercises } = await runExercises([acl], labSettings(testRedisUrl(), { prefix }));
    const result = exercises[0]!;
    expect(result.error).toBeUndefined();
    const facts = result.facts as Record<string, any>;
    expect(facts.readAllowed).toBe(true);
    expect(facts.readReply).toBe('readable by the lab reader');
    expect(facts.writeRefused).toMatch(/^NOPERM/);
    expect(facts.foreignRefused).toMatch(/^NOPERM/);
    expect(facts.docAfter).toBe('readable by the lab reader'); // the refused SET changed nothing
    expect(await redis.call('ACL', 'GETUSER', facts.user)).toBeNull();
    expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
  });

  it('explains and exits 1 without side effects where ACL is forbidden', async () => {
    const prefix = uniquePrefix('lab-acl-forbidden');
    const user = `no-acl-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-acl');
    try {
      let stdout = '';
      let stderr = '';
      const code = await runLabCli(
        ['acl', '--json', '--prefix', prefix, '--redis-url', urlForUser(testRedisUrl(), user, password)],
        { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
        { redisUrl: async () => 'unused' },
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/refuses ACL SETUSER .*Nothing was changed\./);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      const run = JSON.parse(stdout);
      const attempted = /ACL SETUSER (\S+)/.exec(run.exercises[0].steps[0].command)![1]!;
      expect(await redis.call('ACL', 'GETUSER', attempted)).toBeNull();
      expect(await keysByPrefix(redis, `${prefix}:`)).toEqual([]);
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });
});
