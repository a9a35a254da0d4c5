// End-to-end Thumbnailer benchmark: real photos uploaded over HTTP to a real `seler` (private Redis,
// compiled code), each timed from upload start to archive ready (SSE), next to the bare pipeline.
//   npm run bench -- thumbnails --images DIR [--rounds N] [--concurrency 1,8] [--worker-concurrency N]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, repoRoot } from '../test/helpers/cli.js';
import { benchBarePipeline } from './pipeline.js';
import { percentile } from './util.js';

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|tiff?|avif)$/i;

async function startSeler(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'seler.js'), ...args], {
    env: { ...process.env, SELER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitReady(base: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('seler did not become ready within 30 s');
}

/** Uploads one photo and resolves when its archive is ready (the last SSE snapshot says SUCCESS). */
async function uploadAndWait(base: string, file: { name: string; data: Buffer }, sizes: string): Promise<number> {
  const started = performance.now();
  const body = new FormData();
  body.append('sizes', sizes);
  body.append('images', new Blob([file.data]), file.name);
  const res = await fetch(`${base}/api/v1/thumbnails`, { method: 'POST', body });
  if (res.status !== 202) throw new Error(`upload of ${file.name} answered ${res.status}: ${await res.text()}`);
  const { eventsUrl } = (await res.json()) as { eventsUrl: string };
  const text = await (await fetch(base + eventsUrl)).text();
  const last = text.trim().split('\n\n').at(-1) ?? '';
  if (!last.includes('"status":"SUCCESS"')) throw new Error(`${file.name} did not succeed: ${last.slice(0, 300)}`);
  return performance.now() - started;
}

async function endToEnd(base: string, files: { name: string; data: Buffer }[], concurrency: number, sizes: string) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) latencies.push(await uploadAndWait(base, files[next++]!, sizes));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { imagesPerSecond: files.length / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1,8' },
      'worker-concurrency': { type: 'string', default: '4' }, // seler's own default (SELER_CONCURRENCY)
    },
  });
  if (!values.images) throw new Error('--images DIR is required (build one with ../shared/bench/corpus.sh)');
  const dir = path.resolve(values.images);
  const names = readdirSync(dir).filter((n) => IMAGE_EXT.test(n)).sort();
  if (!names.length) throw new Error(`no images in ${dir}`);
  const rounds = Number(values.rounds);
  const photos = names.map((name) => ({ name, data: readFileSync(path.join(dir, name)) }));
  const load = Array.from({ length: rounds }, () => photos).flat();
  const levels = values.concurrency.split(',').map(Number);
  const megabytes = photos.reduce((s, p) => s + p.data.length, 0) / 1024 / 1024;
  console.log(`${photos.length} photos (${megabytes.toFixed(0)} MB) × ${rounds} round(s) from ${dir}; node ${process.version}`);

  const execSync = (await import('node:child_process')).execSync;
  execSync('node scripts/build-if-needed.mjs', { cwd: repoRoot, stdio: 'inherit' });

  const sizeSets = [
    { label: '1 size (128x128)', sizes: '128x128' },
    { label: '3 sizes (128, 256, 512)', sizes: '128x128,256x256,512x512' },
  ];

  for (const set of sizeSets) {
    const sizes = set.sizes.split(',').map((s) => ({ width: Number(s.split('x')[0]), height: Number(s.split('x')[1]) }));
    const files = load.map((p) => path.join(dir, p.name));
    const bare = await benchBarePipeline(files, { sizes, format: 'original', fit: 'inside', concurrency: 2 });
    console.log(`\n== ${set.label}`);
    console.log(`bare pipeline (read, probe, thumbnails, zip; 2 at a time): ${bare.imagesPerSecond.toFixed(2)} images/s`);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startSeler(['start', '--port', String(port), '-c', values['worker-concurrency']], { SELER_DATA_DIR: dataDir });
    try {
      await waitReady(base);
      await uploadAndWait(base, photos[0]!, set.sizes); // warm-up
      for (const concurrency of levels) {
        const r = await endToEnd(base, load, concurrency, set.sizes);
        console.log(
          `end to end, ${concurrency} upload(s) at a time: ${r.imagesPerSecond.toFixed(2)} images/s, ` +
            `p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, ${((r.imagesPerSecond / bare.imagesPerSecond) * 100).toFixed(0)}% of bare`,
        );
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  // Peak memory of a worker process (apart from the web process) handling the largest photo.
  const largest = [...photos].sort((a, b) => b.data.length - a.data.length)[0]!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const web = await startSeler(['web', '--port', String(port)], { SELER_DATA_DIR: dataDir });
  let worker: ChildProcess | undefined;
  try {
    await waitReady(base);
    worker = await startSeler(['worker', '-c', values['worker-concurrency']], { SELER_DATA_DIR: dataDir });
    await new Promise((r) => setTimeout(r, 3000));
    const before = peakRssMb(worker.pid!);
    await uploadAndWait(base, largest, '128x128,256x256,512x512');
    console.log(`\nworker peak RSS: ${peakRssMb(worker.pid!).toFixed(0)} MB after ${largest.name} (${(largest.data.length / 1048576).toFixed(1)} MB), ${before.toFixed(0)} MB idle`);
  } finally {
    worker?.kill('SIGTERM');
    web.kill('SIGTERM');
    await Promise.all([worker, web].filter(Boolean).map((c) => new Promise((r) => c!.once('exit', r))));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
