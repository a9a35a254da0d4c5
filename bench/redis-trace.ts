// Redis commands of N uploads one at a time, from MONITOR: per connection (by its CLIENT SETNAME) and
// whether a script ran them. Shows how many round trips one upload costs and who pays them.
//   npx tsx bench/redis-trace.ts [--uploads N] [--images DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, repoRoot } from '../test/helpers/cli.js';
import { uploadAndFetch } from './client.js';
import { IMAGE_EXT, PHOTOS_DIR } from './corpus.js';

const { values } = parseArgs({ options: { uploads: { type: 'string', default: '5' }, images: { type: 'string', default: PHOTOS_DIR } } });
const name = readdirSync(values.images).filter((n) => IMAGE_EXT.test(n)).sort().find((n) => n.startsWith('dune')) ?? readdirSync(values.images)[0]!;
const data = readFileSync(path.join(values.images, name));
const dataDir = mkdtempSync(path.join(tmpdir(), 'seler-trace-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const seler = spawn(process.execPath, [path.join(repoRoot, 'bin', 'seler.js'), 'start', '--port', String(port)], { env: { ...process.env, SELER_DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'inherit'] });
try {
  for (let i = 0; i < 300 && !(await fetch(`${base}/readyz`).catch(() => undefined))?.ok; i++) await new Promise((r) => setTimeout(r, 200));
  const socket = path.join(dataDir, 'redis', 'redis.sock');
  await uploadAndFetch(base, { name: `warm-${name}`, data, sizes: '128x128' }, { wait: 'sse' });
  await new Promise((r) => setTimeout(r, 2500));
  const admin = new Redis({ path: socket });
  const names = new Map<string, string>();
  for (const line of ((await admin.client('LIST')) as string).split('\n')) {
    const addr = /addr=(\S+)/.exec(line)?.[1];
    const fd = /fd=(\d+)/.exec(line)?.[1];
    if (addr) names.set(`${addr}#${fd}`, /name=(\S*)/.exec(line)?.[1] || '(unnamed)');
  }
  const monitor = new Redis({ path: socket });
  const seen: string[] = [];
  const m = await monitor.monitor();
  // Bytes of each command's arguments too: a script sent whole, or a large value, shows up there.
  m.on('monitor', (_time: string, args: string[], source: string) => seen.push(`${source}\t${args[0]}\t${args.reduce((n, a) => n + a.length, 0)}`));
  const uploads = Number(values.uploads);
  const started = Date.now();
  for (let i = 0; i < uploads; i++) await uploadAndFetch(base, { name: `u${i}-${name}`, data, sizes: '128x128' }, { wait: 'sse' });
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  m.disconnect();
  const byConn = new Map<string, Map<string, number>>();
  const bytesByConn = new Map<string, Map<string, number>>();
  for (const line of seen) {
    const [source, cmd, bytes] = line.split('\t') as [string, string, string];
    const lua = source.startsWith('lua');
    const key = lua ? 'scripts' : source;
    const inner = byConn.get(key) ?? new Map<string, number>();
    inner.set(cmd.toLowerCase(), (inner.get(cmd.toLowerCase()) ?? 0) + 1);
    byConn.set(key, inner);
    const sizes = bytesByConn.get(key) ?? new Map<string, number>();
    sizes.set(cmd.toLowerCase(), (sizes.get(cmd.toLowerCase()) ?? 0) + Number(bytes));
    bytesByConn.set(key, sizes);
  }
  console.log(`${uploads} uploads of ${name} one at a time in ${seconds.toFixed(1)} s; Redis commands per upload (MONITOR):`);
  for (const [conn, cmds] of [...byConn].sort()) {
    const total = [...cmds.values()].reduce((a, b) => a + b, 0);
    const label = conn === 'scripts' ? 'inside scripts' : `${conn} ${[...names].find(([k]) => k.startsWith(conn.replace(/^unix:/, '')))?.[1] ?? ''}`;
    console.log(`  ${(total / uploads).toFixed(1).padStart(6)}  ${label}: ${[...cmds].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${(n / uploads).toFixed(1)}`).join(', ')}`);
    const sizes = [...bytesByConn.get(conn)!].sort((a, b) => b[1] - a[1]);
    const kib = (n: number) => (n / uploads / 1024).toFixed(1);
    console.log(`          argument KiB per upload ${kib(sizes.reduce((a, [, n]) => a + n, 0))}: ${sizes.slice(0, 5).map(([c, n]) => `${c} ${kib(n)}`).join(', ')}`);
  }
  admin.disconnect();
} finally {
  seler.kill('SIGTERM');
  await new Promise((r) => seler.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
