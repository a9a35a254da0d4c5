import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { deleteKeys, testRedis, uniquePrefix } from '../../test/helpers/redis.js';
import { createHttpServer } from './http.js';
import { createLogger } from './logger.js';
import type { Redis } from './redis.js';

describe('the shared rate limiter', () => {
  let redis: Redis;
  const prefix = `{${uniquePrefix('rl')}}:`;
  const servers: FastifyInstance[] = [];

  const server = async () => {
    const app = await createHttpServer({ logger: createLogger('silent'), version: 'test', ready: async () => {}, rateLimit: { redis, keyPrefix: prefix } });
    app.get('/limited', { config: { rateLimit: { max: 3, timeWindow: 60_000 } } }, async () => ({ ok: true }));
    servers.push(app);
    return app;
  };

  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await deleteKeys(redis, `${prefix}*`);
    redis.disconnect();
  });

  it('counts across web processes in Redis and refuses with 429, Retry-After and the error contract', async () => {
    const [a, b] = [await server(), await server()];
    const statuses: number[] = [];
    for (const app of [a, b, a]) statuses.push((await app.inject({ url: '/limited' })).statusCode);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await b.inject({ url: '/limited' });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/try again in/) } });
    expect((await redis.keys(`${prefix}rl:*`)).length).toBeGreaterThan(0);
  });
});
