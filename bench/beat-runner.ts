// One beat process for bench/beat.ts and the exactly-once test: DATABASE_URL, REDIS_URL and
// SELER_REDIS_PREFIX say where; it prints one JSON line per enqueue call ({taskId, at}) so the
// parent can count duplicates across processes, and stops on SIGTERM.
import { startBeat, RunClaims } from '../src/beat/index.js';
import { openDatabase } from '../src/platform/db/index.js';
import { createLogger } from '../src/platform/logger.js';
import { connectRedis, keyspace } from '../src/platform/redis.js';
import { TaskClient, type EnqueueOptions } from '../src/tasks/index.js';

const { DATABASE_URL, REDIS_URL, SELER_REDIS_PREFIX = 'seler', BEAT_RECHECK_MS } = process.env;
if (!DATABASE_URL || !REDIS_URL) throw new Error('DATABASE_URL and REDIS_URL are required');

const logger = createLogger(process.env.SELER_LOG_LEVEL ?? 'warn', { role: 'beat' });
const database = openDatabase(DATABASE_URL, process.cwd());
const redis = await connectRedis(REDIS_URL, { name: 'seler-beat' });
const keys = keyspace(SELER_REDIS_PREFIX);
const client = new TaskClient({ redis, redisTarget: REDIS_URL, keys, retention: { successSeconds: 3600, failureSeconds: 3600 }, eventsMaxLen: 100_000, logger });
const counting = {
  enqueue: async (name: string, options: EnqueueOptions = {}) => {
    const r = await client.enqueue(name, options);
    process.stdout.write(`${JSON.stringify({ taskId: options.taskId, at: Date.now() })}\n`);
    return r;
  },
  getTask: (id: string) => client.getTask(id),
};
const beat = await startBeat({
  claims: new RunClaims(database),
  client: counting,
  redis,
  redisTarget: REDIS_URL,
  keys,
  logger,
  recheckMs: BEAT_RECHECK_MS ? Number(BEAT_RECHECK_MS) : undefined,
});
process.stdout.write(`${JSON.stringify({ ready: process.pid })}\n`);

process.once('SIGTERM', async () => {
  await beat.close();
  await client.close();
  await database.close();
  redis.disconnect();
  process.exit(0);
});
