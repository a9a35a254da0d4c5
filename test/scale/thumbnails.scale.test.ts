// Thumbnails across hosts on object storage (S3 on a real Swift in the bed): photos uploaded to web A,
// made by whichever worker host takes the task, downloaded from web B, byte-identical to what a
// one-host seler (`seler start`, local files) makes of the same photos; after cleanup no object is left.
// Needs seler's object storage (SELER_STORAGE=s3://…) and Swift in the bed: always runs.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Bed, inNamespace, repoRoot, report, startPostgres, startSeler, startSingleRedis, type Host, type SelerProcess } from './bed/index.js';
import { scaleConfig } from './bed/seler.js';
import { startSwift, type Swift } from '../helpers/swift.js';

const BUCKET = 'seler-scale';
const IMAGES = [
  { name: 'harbour.jpg', width: 1600, height: 1067, seed: 1 },
  { name: 'portrait.jpg', width: 900, height: 1350, seed: 2 },
  { name: 'square.jpg', width: 1200, height: 1200, seed: 3 },
];

let bed: Bed | undefined;
let swift: Swift | undefined;
let agent: Agent;
let env: Record<string, string>;
const hosts: Record<string, Host> = {};
const roles: Record<string, SelerProcess> = {};

interface TaskJson {
  status: string;
  result?: { archiveUrl: string; files: { name: string; url: string; bytes: number }[] };
  error?: unknown;
}

describe('thumbnails across hosts on object storage', () => {
  beforeAll(async () => {
    bed = await Bed.create('thumbs');
    for (const name of ['redis', 'db', 'swift', 'client', 'web-a', 'web-b', 'worker-1', 'worker-2', 'solo']) hosts[name] = await bed.addHost(name);
    const s = hosts.swift!;
    const [redis, pg, started] = await Promise.all([
      startSingleRedis(hosts.redis!),
      startPostgres(hosts.db!),
      startSwift({ host: s.address, wrap: inNamespace(s), dir: path.join(s.dir, 'swift'), ports: { proxy: 8080, account: 6012, container: 6011, object: 6010, memcached: 11211 } }),
    ]);
    swift = started;
    agent = await Agent.start(hosts.client!, { REDIS_URL: redis.url });
    await agent.call('makeBucket', { swift: info(), bucket: BUCKET });
    env = {
      REDIS_URL: redis.url,
      DATABASE_URL: pg.url,
      SELER_STORAGE: `s3://${BUCKET}/media`,
      SELER_S3_ENDPOINT: swift.endpoint,
      SELER_S3_REGION: swift.region,
      SELER_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    };
    roles['web-a'] = await startSeler(hosts['web-a']!, 'web', { env });
    [roles['web-b'], roles['worker-1'], roles['worker-2'], roles.solo] = await Promise.all([
      startSeler(hosts['web-b']!, 'web', { env }),
      startSeler(hosts['worker-1']!, 'worker', { env, args: ['-c', '2'] }),
      startSeler(hosts['worker-2']!, 'worker', { env, args: ['-c', '2'] }),
      // The one-host reference: `seler start` with its private Redis, SQLite and local files.
      startSeler(hosts.solo!, 'start', { env: {} }),
    ]);
  });

  afterAll(async () => {
    await agent?.close();
    await swift?.stop();
    await bed?.teardown();
  });

  const info = () => ({ endpoint: swift!.endpoint, region: swift!.region, accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey, dir: swift!.dir, pgid: swift!.pgid });

  async function uploadAndWait(uploadTo: string, readFrom: string): Promise<{ id: string; task: TaskJson }> {
    const res = await agent.call<{ status: number; body: string }>('upload', { url: `${uploadTo}/api/v1/thumbnails`, images: IMAGES, fields: { sizes: '128x128,256x256', format: 'webp' } });
    expect(res.status, res.body).toBe(202);
    const { id } = JSON.parse(res.body) as { id: string };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const got = await agent.http(`${readFrom}/api/v1/tasks/${id}`);
      const task = JSON.parse(got.body) as TaskJson;
      if (task.status === 'SUCCESS') return { id, task };
      if (['FAILURE', 'REVOKED'].includes(task.status) || Date.now() > deadline) throw new Error(`task ${id}: ${got.body}`);
      await sleep(300);
    }
  }

  it('uploaded on web A, made on a worker host, downloaded from web B: the same bytes as one host makes; nothing left after cleanup', async () => {
    const a = roles['web-a']!.url!;
    const b = roles['web-b']!.url!;
    const solo = roles.solo!.url!;
    const started = Date.now();
    const shared = await uploadAndWait(a, b);
    const tookMs = Date.now() - started;
    const reference = await uploadAndWait(solo, solo);
    const madeOn = ['worker-1', 'worker-2'].filter((w) => roles[w]!.log().includes(shared.id));
    expect(madeOn).toHaveLength(1);
    const files = shared.task.result!.files;
    expect(files.length).toBe(IMAGES.length * 2);
    const abs = (base: string, url: string) => (url.startsWith('http') ? url : `${base}${url}`);
    let identical = 0;
    for (const file of files) {
      const fromB = await agent.call<{ status: number; sha256: string; bytes: number }>('download', { url: abs(b, file.url) });
      expect(fromB.status).toBe(200);
      expect(fromB.bytes).toBe(file.bytes);
      const twin = reference.task.result!.files.find((f) => f.name === file.name)!;
      const fromSolo = await agent.call<{ sha256: string }>('download', { url: abs(solo, twin.url) });
      expect(fromB.sha256, file.name).toBe(fromSolo.sha256);
      identical++;
    }
    const archive = await agent.call<{ status: number; bytes: number }>('download', { url: abs(b, shared.task.result!.archiveUrl) });
    expect(archive.status).toBe(200);
    const before = (await agent.call<{ keys: string[] }>('listObjects', { swift: info(), bucket: BUCKET })).keys.length;
    const cleanup = await hosts['worker-1']!.exec([process.execPath, `${repoRoot}/bin/seler.js`, 'cleanup', '--older-than', '0'], {
      env: { ...env, SELER_DATA_DIR: hosts['worker-1']!.dir, SELER_CONFIG: scaleConfig, SELER_LOG_LEVEL: 'warn' },
      timeoutMs: 60_000,
    });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    // What cleanup must leave: seler's own readiness marker (one fixed key the web rewrites), nothing of the uploads.
    const left = (await agent.call<{ keys: string[] }>('listObjects', { swift: info(), bucket: BUCKET })).keys.filter((k) => !k.endsWith('probe/ready'));
    report('thumbnails across hosts (S3 on Swift)', { images: IMAGES.length, thumbnails: files.length, identicalToOneHost: identical, madeOn: madeOn[0], uploadToDoneMs: tookMs, archiveBytes: archive.bytes, objectsBeforeCleanup: before, objectsAfterCleanup: left.length });
    expect(before).toBeGreaterThan(0);
    expect(left).toEqual([]);
  });
});
