// A worker in a process of its own for `npm run bench -- tasks` (a real deployment: producer and
// worker apart). Started by bench/tasks.ts; prints "ready" once consuming, stops on SIGTERM.
//   node --import tsx bench/tasks-worker.ts --mode seler|raw --url URL --prefix P --concurrency N [--log-level L]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { openRuntime, startWorkerRole } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger, silentLogger } from '../src/platform/logger.js';
import { createRedis } from '../src/platform/redis.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'seler' },
    url: { type: 'string' },
    prefix: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const url = values.url!;
const prefix = values.prefix!;
const concurrency = Number(values.concurrency);
let stop: () => Promise<void>;

if (values.mode === 'raw') {
  const worker = new Worker('default', async () => null, {
    connection: createRedis(url, { name: 'bench-raw-worker', maxRetriesPerRequest: null }),
    prefix: `{${prefix}}`,
    concurrency,
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 86_400 },
  });
  worker.on('error', () => {});
  await worker.waitUntilReady();
  stop = async () => {
    await worker.close();
    await worker.disconnect();
  };
} else {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-worker-'));
  const level = values['log-level']!;
  const config = loadConfig({ SELER_DATA_DIR: dataDir, REDIS_URL: url, SELER_REDIS_PREFIX: prefix, SELER_LOG_LEVEL: level }, dataDir);
  const runtime = await openRuntime(config, level === 'silent' ? silentLogger : createLogger(level, { role: 'worker' }));
  const worker = await startWorkerRole(runtime, { queues: ['default'], concurrency });
  stop = async () => {
    await worker.close();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

process.stderr.write('ready\n');
process.once('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
