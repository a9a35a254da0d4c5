import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { parseRedisUrl } from './redis-target.js';
import { runCli } from '../../test/helpers/cli.js';

describe('REDIS_URL', () => {
  it('understands one server over TCP, TLS or a unix socket', () => {
    expect(parseRedisUrl('redis://:s%40cret@cache.local:6380/3')).toMatchObject({ kind: 'single', host: 'cache.local', port: 6380, db: 3, password: 's@cret', tls: false });
    expect(parseRedisUrl('rediss://u:p@h/0')).toMatchObject({ kind: 'single', host: 'h', port: 6379, username: 'u', password: 'p', tls: true, db: 0 });
    expect(parseRedisUrl('redis://[::1]:7000?db=2')).toMatchObject({ host: '::1', port: 7000, db: 2 });
    expect(parseRedisUrl('unix:///var/run/redis.sock?db=2')).toMatchObject({ kind: 'single', path: '/var/run/redis.sock', db: 2 });
    expect(parseRedisUrl('redis+unix:///tmp/r.sock')).toMatchObject({ path: '/tmp/r.sock', db: 0 });
  });

  it('understands Sentinel and Cluster', () => {
    expect(parseRedisUrl('redis+sentinel://app:pw@h1:26379,h2,[fe80::1]:26380/mymaster?db=4&sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      username: 'app',
      password: 'pw',
      sentinels: [
        { host: 'h1', port: 26379 },
        { host: 'h2', port: 26379 },
        { host: 'fe80::1', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sp',
      waitReplicas: 0,
      tls: false,
      db: 4,
      display: 'redis+sentinel://app:***@h1:26379,h2,[fe80::1]:26380/mymaster?db=4&sentinelPassword=***',
      url: 'redis+sentinel://app:pw@h1:26379,h2,[fe80::1]:26380/mymaster?db=4&sentinelPassword=sp',
    });
    expect(parseRedisUrl('redis+sentinel://h1/m?waitReplicas=2')).toMatchObject({ kind: 'sentinel', waitReplicas: 2 });
    expect(parseRedisUrl('redis+cluster://h1,h2?waitReplicas=1')).toMatchObject({ kind: 'cluster', waitReplicas: 1 });
    expect(parseRedisUrl('redis+cluster://h1')).toMatchObject({ kind: 'cluster', waitReplicas: 0 });
    expect(parseRedisUrl('redis+cluster://h1:7000,h2:7001')).toMatchObject({ kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }], db: 0 });
    expect(parseRedisUrl('rediss+cluster://:pw@h1/')).toMatchObject({ kind: 'cluster', tls: true, password: 'pw', nodes: [{ host: 'h1', port: 6379 }] });
  });

  it('is plain data a parent can hand to its children', () => {
    const target = parseRedisUrl('redis+sentinel://a:26379,b:26379/m?db=1');
    expect(JSON.parse(JSON.stringify(target))).toEqual(target);
  });

  it.each([
    ['redis://h/-1', /REDIS_URL names the database "-1", which is not a database number/],
    ['redis://h/banana', /REDIS_URL names the database "banana"/],
    ['redis://h?db=banana', /REDIS_URL names the database "banana"/],
    ['redis://h/1?db=2', /REDIS_URL names the database twice/],
    ['redis+sentinel://h/m?waitReplicas=all', /REDIS_URL has waitReplicas "all", which is not a number of replicas \(0-99\)/],
    ['redis+sentinel://h/m?waitReplicas=-1', /REDIS_URL has waitReplicas "-1"/],
    ['redis://h?waitReplicas=1', /REDIS_URL has an unknown parameter "waitReplicas".*allowed here: db\.$/],
    ['redis+cluster://h?waitReplicas=x', /REDIS_URL has waitReplicas "x", which is not a number of replicas/],
    ['redis://h/1.5', /not a database number/],
    ['redis://h/0/x', /not a database number/],
    ['redis+cluster://h1,h2/3', /REDIS_URL names a database \(.*\), but Redis Cluster has only database 0: remove "\/3"/],
    ['redis+cluster://h1?db=1', /but Redis Cluster has only database 0: remove "\?db=1"/],
    ['redis+sentinel://h1,h2', /must name the master group/],
    ['redis+sentinel://h1/a/b', /must name the master group/],
    ['redis://h1,h2', /lists several hosts.*redis\+sentinel:\/\/ or redis\+cluster:\/\//],
    ['redis://h:99999', /the port "99999" for h, which is not 1-65535/],
    ['redis://h?dbb=1', /unknown parameter "dbb"/],
    ['redis-sentinel://h/m', /unsupported scheme "redis-sentinel:\/\/"/],
    ['http://x', /unsupported scheme "http:\/\/"/],
    ['not a url', /REDIS_URL is not a Redis URL/],
    ['unix://', /has no socket path/],
    ['redis://:%zz@h', /badly escaped/],
  ])('refuses %s with one sentence naming REDIS_URL', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
    expect(() => parseRedisUrl(url)).toThrow(/^REDIS_URL .*\.$/);
  });

  it('never shows a password in its messages', () => {
    expect(() => parseRedisUrl('redis://u:topsecret@h/x')).toThrow(/^(?!.*topsecret)/);
    expect(() => parseRedisUrl('redis+cluster://u:topsecret@h/2')).toThrow(/u:\*\*\*@h/);
  });

  it('is parsed when the configuration is loaded, so a bad one stops every role before it starts', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/99x' }, '/tmp')).toThrow(/^REDIS_URL names the database "99x"/);
    expect(loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.1:7000' }, '/tmp').redisTarget).toMatchObject({ kind: 'cluster' });
  });

  it('the command line says it in one sentence, exit 1, without connecting anywhere', async () => {
    const res = await runCli(['call', 'demo.add', '--args', '[1,2]'], { env: { REDIS_URL: 'redis://:pw@127.0.0.1:9/-1', SELER_DATA_DIR: '/nonexistent/seler' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('seler: REDIS_URL names the database "-1", which is not a database number (0, 1, 2 …).\n');
  });
});
