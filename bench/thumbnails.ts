// The user's whole flow against what libvips alone allows, in one run on one machine:
//   npm run bench -- thumbnails [--images DIR] [--rounds N] [--modes c8,sizes3,webp,avif,c1]
//                               [--wait sse|poll] [--roles all|split] [--cpu-prof DIR] [-c N]
// Starts `seler start` (embedded defaults: private Redis, SQLite, files in a temporary data
// directory) as a separate process, then per mode: bare sharp on the same photos (2 at a time, bytes
// in memory), and the same photos through seler with an independent HTTP client (client.ts), each
// timed from upload start until its archive is downloaded and checked. Prints images/s, the ratio,
// latency split, CPU per image (from /proc), Redis commands per image (INFO commandstats) and the
// peak RSS of seler's processes. --roles split runs `seler web` and `seler worker` apart (for
// --cpu-prof: one profile each).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, repoRoot } from '../test/helpers/cli.js';
import { bareSharp, type BareFormat, type BarePhoto } from './bare-sharp.js';
import { uploadAndFetch, type UploadTiming } from './client.js';
import { IMAGE_EXT, PHOTOS_DIR } from './corpus.js';
import { isNode, isRedis, peakRssMiB, processTree, resetPeakRss, threadCpu, type ProcInfo } from './procfs.js';
import { percentile } from './util.js';

interface Mode {
  key: string;
  label: string;
  inFlight: number;
  sizes: number[];
  format?: Exclude<BareFormat, 'original'>;
  /** What bare sharp is asked to do (the issue's target compares 3 sizes with bare's single size). */
  bareSizes: number[];
}

const MODES: Mode[] = [
  { key: 'c8', label: '8 in flight, 128', inFlight: 8, sizes: [128], bareSizes: [128] },
  { key: 'sizes3', label: '8 in flight, 128+256+512', inFlight: 8, sizes: [128, 256, 512], bareSizes: [128] },
  { key: 'webp', label: '8 in flight, 128 WebP', inFlight: 8, sizes: [128], format: 'webp', bareSizes: [128] },
  { key: 'avif', label: '8 in flight, 128 AVIF', inFlight: 8, sizes: [128], format: 'avif', bareSizes: [128] },
  { key: 'c1', label: '1 at a time, 128', inFlight: 1, sizes: [128], bareSizes: [128] },
];

interface Photo {
  name: string;
  data: Buffer;
  format: 'jpeg' | 'png';
}

interface Seler {
  base: string;
  dataDir: string;
  roots: ChildProcess[];
  redis: Redis;
  stop(): Promise<void>;
}

const load1 = () => loadavg()[0]!;
const loadText = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function spawnSeler(args: string[], dataDir: string, profileDir: string | undefined): ChildProcess {
  const node = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return spawn(process.execPath, [...node, path.join(repoRoot, 'bin', 'seler.js'), ...args], {
    env: { ...process.env, SELER_DATA_DIR: dataDir, SELER_LOG_LEVEL: process.env.SELER_LOG_LEVEL ?? 'info' },
    // stdout is the log: read and dropped (its cost is seler's, its bytes are not ours to keep).
    stdio: ['ignore', 'pipe', 'inherit'],
  }).on('spawn', function (this: ChildProcess) {
    this.stdout!.resume();
  });
}

async function waitReady(base: string, roots: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const dead = roots.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`seler exited with ${dead.exitCode} before it was ready`);
    if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('seler did not become ready within 60 s');
}

async function startSeler(options: { roles: 'all' | 'split'; concurrency?: string; profileDir?: string }): Promise<Seler> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const c = options.concurrency ? ['-c', options.concurrency] : [];
  const roots: ChildProcess[] = [];
  if (options.roles === 'all') {
    roots.push(spawnSeler(['start', '--port', String(port), ...c], dataDir, options.profileDir));
    await waitReady(base, roots);
  } else {
    roots.push(spawnSeler(['web', '--port', String(port)], dataDir, options.profileDir));
    await waitReady(base, roots);
    roots.push(spawnSeler(['worker', ...c], dataDir, options.profileDir));
    await new Promise((r) => setTimeout(r, 3000));
  }
  const socket = path.join(dataDir, 'redis', 'redis.sock');
  if (!existsSync(socket)) throw new Error(`no private Redis socket at ${socket}`);
  const redis = new Redis({ path: socket, lazyConnect: true });
  await redis.connect();
  return {
    base,
    dataDir,
    roots,
    redis,
    async stop() {
      redis.disconnect();
      // The worker first (it may hold the private Redis the web started), then the rest; SIGTERM lets --cpu-prof write its file.
      for (const child of [...roots].reverse()) {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function treeOf(seler: Seler): ProcInfo[] {
  return seler.roots.flatMap((r) => processTree(r.pid!));
}

async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** CPU seconds of each root's node processes by kind of thread (main, libuv-worker, V8's helpers, libvips). */
function threadsByRole(seler: Seler): Map<string, number>[] {
  return seler.roots.map((r) => {
    const sum = new Map<string, number>();
    for (const p of processTree(r.pid!).filter((p) => isNode(p) && !isRedis(p)))
      for (const [kind, seconds] of threadCpu(p.pid)) sum.set(kind, (sum.get(kind) ?? 0) + seconds);
    return sum;
  });
}

/** CPU seconds of each root's own node processes (web and worker apart with --roles split). */
function cpuByRole(seler: Seler): number[] {
  return seler.roots.map((r) => processTree(r.pid!).filter((p) => isNode(p) && !isRedis(p)).reduce((s, p) => s + p.cpuSeconds, 0));
}

function cpuOf(procs: ProcInfo[]): { seler: number; redis: number } {
  return {
    seler: procs.filter(isNode).reduce((s, p) => s + p.cpuSeconds, 0),
    redis: procs.filter(isRedis).reduce((s, p) => s + p.cpuSeconds, 0),
  };
}

interface Row {
  mode: Mode;
  uploads: number;
  selerIps: number;
  bareIps: number;
  p50: number;
  p95: number;
  split: { upload: number; wait: number; download: number };
  cpuSeler: number;
  cpuRedis: number;
  cpuBare: number;
  cpuClient: number;
  /** Per root process (start; or web, worker), CPU s per image. */
  cpuRoles: number[];
  /** Per root process, CPU s per image by kind of thread. */
  threadRoles: Map<string, number>[];
  redisCommands: number;
  topCommands: string;
  peakRss: number;
  /** Per root process (start; or web, worker), peak RSS in MiB during the mode. */
  peakRssRoles: number[];
  load: string;
  unzipCheck: string;
}

/** The archive checked a second way, by Info-ZIP's own test (once per mode). */
function unzipTest(archive: Buffer, dir: string): string {
  const file = path.join(dir, 'check.zip');
  writeFileSync(file, archive);
  try {
    const out = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
    return /No errors detected/.test(out) ? 'ok' : 'FAILED';
  } catch (err) {
    return (err as { code?: string }).code === 'ENOENT' ? 'no unzip' : 'FAILED';
  } finally {
    rmSync(file, { force: true });
  }
}

async function runMode(seler: Seler, mode: Mode, photos: Photo[], rounds: number, wait: 'sse' | 'poll', scratch: string): Promise<Row> {
  const load = Array.from({ length: rounds }, () => photos).flat();
  const runBare = () =>
    bareSharp(
      load.map((p): BarePhoto => ({ data: p.data, format: p.format })),
      { sizes: mode.bareSizes, format: mode.format ?? 'original', concurrency: 2 },
    );
  // Bare sharp runs before and after seler: on a shared machine the load drifts within a mode.
  const bareBefore = await runBare();

  const sizes = mode.sizes.map((s) => `${s}x${s}`).join(',');
  for (const p of treeOf(seler).filter(isNode)) resetPeakRss(p.pid);
  const cpuBefore = cpuOf(treeOf(seler));
  const rolesBefore = cpuByRole(seler);
  const threadsBefore = threadsByRole(seler);
  const callsBefore = await commandCalls(seler.redis);
  const clientCpu = process.cpuUsage();
  const timings: UploadTiming[] = [];
  let unzipCheck = '';
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: mode.inFlight }, async () => {
      while (next < load.length) {
        const i = next++;
        const photo = load[i]!;
        const r = await uploadAndFetch(seler.base, { name: `u${i}-${photo.name}`, data: photo.data, sizes, format: mode.format }, { wait });
        if (!unzipCheck) unzipCheck = unzipTest(r.archive, scratch);
        timings.push(r);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(clientCpu);
  const n = load.length;
  const procs = treeOf(seler);
  const cpuAfter = cpuOf(procs);
  const rolesAfter = cpuByRole(seler);
  const threadsAfter = threadsByRole(seler);
  const callsAfter = await commandCalls(seler.redis);
  const bareAfter = await runBare();
  const bare = {
    imagesPerSecond: (2 * n) / (n / bareBefore.imagesPerSecond + n / bareAfter.imagesPerSecond),
    cpuPerImage: (bareBefore.cpuPerImage + bareAfter.cpuPerImage) / 2,
  };
  const diff = [...callsAfter].map(([name, n]) => [name, n - (callsBefore.get(name) ?? 0)] as const).filter(([name, n]) => n > 0 && name !== 'info');
  diff.sort((a, b) => b[1] - a[1]);
  const sorted = (f: (t: UploadTiming) => number) => timings.map(f).sort((a, b) => a - b);
  const totals = sorted((t) => t.totalMs);
  return {
    mode,
    uploads: n,
    selerIps: n / seconds,
    bareIps: bare.imagesPerSecond,
    p50: percentile(totals, 50),
    p95: percentile(totals, 95),
    split: { upload: percentile(sorted((t) => t.uploadMs), 50), wait: percentile(sorted((t) => t.waitMs), 50), download: percentile(sorted((t) => t.downloadMs), 50) },
    cpuSeler: (cpuAfter.seler - cpuBefore.seler) / n,
    cpuRedis: (cpuAfter.redis - cpuBefore.redis) / n,
    cpuBare: bare.cpuPerImage,
    cpuClient: (used.user + used.system) / 1e6 / n,
    cpuRoles: rolesAfter.map((c, i) => (c - rolesBefore[i]!) / n),
    threadRoles: threadsAfter.map((after, i) => new Map([...after].map(([kind, s]) => [kind, (s - (threadsBefore[i]!.get(kind) ?? 0)) / n]))),
    redisCommands: diff.reduce((s, [, c]) => s + c, 0) / n,
    topCommands: diff
      .slice(0, 6)
      .map(([name, c]) => `${name} ${(c / n).toFixed(1)}`)
      .join(', '),
    peakRss: Math.max(0, ...procs.filter(isNode).map((p) => peakRssMiB(p.pid))),
    peakRssRoles: seler.roots.map((r) => Math.max(0, ...processTree(r.pid!).filter((p) => isNode(p) && !isRedis(p)).map((p) => peakRssMiB(p.pid)))),
    load: loadText(),
    unzipCheck,
  };
}

function printTable(rows: Row[]): void {
  const header = ['mode', 'n', 'seler img/s', 'bare img/s', 'ratio', 'CPU ratio', 'ceiling', 'ceiling, seler free', 'p50 ms', 'p95 ms', 'up/wait/down p50 ms', 'CPU s/img seler+redis', 'bare', 'client', 'redis cmd/img', 'peak RSS MiB', 'load 1/5/15'];
  const lines = rows.map((r) => [
    r.mode.label,
    String(r.uploads),
    r.selerIps.toFixed(2),
    r.bareIps.toFixed(2),
    (r.selerIps / r.bareIps).toFixed(2),
    (r.cpuBare / (r.cpuSeler + r.cpuRedis)).toFixed(2),
    (r.cpuBare / (r.cpuSeler + r.cpuRedis + r.cpuClient)).toFixed(2),
    (r.cpuBare / (r.cpuBare + r.cpuClient)).toFixed(2),
    r.p50.toFixed(0),
    r.p95.toFixed(0),
    `${r.split.upload.toFixed(0)}/${r.split.wait.toFixed(0)}/${r.split.download.toFixed(0)}`,
    `${r.cpuSeler.toFixed(3)}+${r.cpuRedis.toFixed(3)}`,
    r.cpuBare.toFixed(3),
    r.cpuClient.toFixed(3),
    r.redisCommands.toFixed(0),
    r.peakRss.toFixed(0),
    r.load,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  console.log(fmt(header));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const l of lines) console.log(fmt(l));
  if (rows[0]?.cpuRoles.length === 2) {
    console.log('\nCPU s per image by process (web / worker):');
    for (const r of rows) console.log(`  ${r.mode.label.padEnd(26)} ${r.cpuRoles.map((c) => c.toFixed(3)).join(' / ')}`);
    console.log('\nCPU s per image by thread (web | worker; main is the JavaScript thread):');
    const byThread = (m: Map<string, number>) =>
      [...m].filter(([, s]) => s >= 0.0005).sort((a, b) => b[1] - a[1]).map(([kind, s]) => `${kind} ${s.toFixed(3)}`).join(', ');
    for (const r of rows) console.log(`  ${r.mode.label.padEnd(26)} ${r.threadRoles.map(byThread).join(' | ')}`);
    console.log('\nPeak RSS MiB by process (web / worker):');
    for (const r of rows) console.log(`  ${r.mode.label.padEnd(26)} ${r.peakRssRoles.map((m) => m.toFixed(0)).join(' / ')}`);
    console.log(`  worker, whole run: ${Math.max(...rows.map((r) => r.peakRssRoles[1]!)).toFixed(0)} MiB`);
  }
  console.log('\nRedis commands per image (top 6):');
  for (const r of rows) console.log(`  ${r.mode.label.padEnd(26)} ${r.topCommands}`);
  console.log('ratio: seler images/s over bare sharp\'s (bare timed before and after seler, harmonic mean); CPU ratio: bare CPU s/img over seler\'s + its Redis\'s (what the ratio would be with both saturating the same idle cores)');
  console.log(
    'ceiling: bare CPU s/img over seler\'s + its Redis\'s + the client\'s, the highest ratio this run allows (the client shares the cores; bare sharp has no client); ' +
      'ceiling, seler free: the same if seler spent no more CPU than bare sharp (the client\'s upload and download alone)',
  );
  console.log(`archives: every one inflated and CRC-checked by the client; first of each mode through unzip -t: ${rows.map((r) => r.unzipCheck).join(', ')}`);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string', default: PHOTOS_DIR },
      rounds: { type: 'string', default: '2' },
      modes: { type: 'string', default: MODES.map((m) => m.key).join(',') },
      wait: { type: 'string', default: 'sse' },
      roles: { type: 'string', default: 'all' },
      'cpu-prof': { type: 'string' },
      concurrency: { type: 'string', short: 'c' },
    },
  });
  const dir = path.resolve(values.images);
  if (!existsSync(dir)) throw new Error(`no photos at ${dir}: build the corpus with "npm run bench -- corpus" (or pass --images DIR)`);
  const names = readdirSync(dir).filter((n) => IMAGE_EXT.test(n)).sort();
  if (!names.length) throw new Error(`no images in ${dir}`);
  const modes = values.modes.split(',').map((k) => {
    const mode = MODES.find((m) => m.key === k.trim());
    if (!mode) throw new Error(`unknown mode "${k}"; modes: ${MODES.map((m) => m.key).join(', ')}`);
    return mode;
  });
  if (values.wait !== 'sse' && values.wait !== 'poll') throw new Error('--wait is sse or poll');
  if (values.roles !== 'all' && values.roles !== 'split') throw new Error('--roles is all or split');
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds is a whole number ≥ 1');
  const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const sharp = (await import('sharp')).default;
  const photos: Photo[] = [];
  for (const name of names) {
    const data = readFileSync(path.join(dir, name));
    photos.push({ name, data, format: (await sharp(data).metadata()).format === 'png' ? 'png' : 'jpeg' });
  }
  const megabytes = photos.reduce((s, p) => s + p.data.length, 0) / 1048576;
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  console.log(
    `${photos.length} photos (${megabytes.toFixed(0)} MiB) × ${rounds} round(s) per mode; node ${process.version}, sharp ${sharp.versions.sharp}, ` +
      `libvips ${sharp.versions.vips}; seler ${values.roles === 'all' ? 'start' : 'web + worker'}${values.concurrency ? ` -c ${values.concurrency}` : ' (defaults)'}, client waits by ${values.wait}`,
  );
  console.log(`load before: ${loadText()}`);

  const seler = await startSeler({ roles: values.roles, concurrency: values.concurrency, profileDir });
  const scratch = mkdtempSync(path.join(tmpdir(), 'seler-bench-client-'));
  const rows: Row[] = [];
  try {
    // Warm-up: the first task of each kind pays for loading code and libvips' first use.
    for (const format of new Set(modes.map((m) => m.format))) {
      await uploadAndFetch(seler.base, { name: `warm-${photos[0]!.name}`, data: photos[0]!.data, sizes: '128x128', format }, { wait: values.wait });
    }
    await bareSharp([{ data: photos[0]!.data, format: photos[0]!.format }], { sizes: [128], format: 'original', concurrency: 1 });
    for (const mode of modes) {
      const row = await runMode(seler, mode, photos, rounds, values.wait, scratch);
      rows.push(row);
      console.log(
        `${mode.label}: seler ${row.selerIps.toFixed(2)} images/s, bare sharp ${row.bareIps.toFixed(2)}: ${(row.selerIps / row.bareIps).toFixed(2)} of bare; load ${row.load}`,
      );
    }
  } finally {
    await seler.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log('');
  printTable(rows);
  const worst = Math.max(...rows.map((r) => Number(r.load.split(' ')[0])), load1());
  if (worst > 2) console.log(`\nload average reached ${worst.toFixed(2)} on ${2} cores: these figures are noisy.`);
  if (profileDir) console.log(`\nCPU profiles in ${profileDir} (summarise: npx tsx bench/profile-summary.ts ${path.relative(process.cwd(), profileDir)})`);
}
