// Summarises V8 CPU profiles (node --cpu-prof): top self-time functions and where they live.
//   npx tsx bench/profile-summary.ts FILE.cpuprofile|DIR [--top N]
// "Where" is a package under node_modules, a folder of seler's src/ (dist/), node's internals, or
// V8's own (program), (garbage collector). Idle time is left out of the percentages.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function lives: a package, seler's own folder, node internals, or V8. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1]!;
  if (file.startsWith('node:')) return `node:${file.slice(5).split('/')[0]}`;
  const own = /\/(?:src|dist)\/(.+)$/.exec(file);
  if (own) {
    const parts = own[1]!.split('/');
    return `seler/${parts.length > 1 ? parts[0] : parts[0]!.replace(/\.[jt]s$/, '')}`;
  }
  return path.basename(file);
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The first ancestor frame in seler's own code or a package: who asked for a native call's time. */
  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName, lineNumber } = byId.get(at)!.callFrame;
      const where = url ? placeOf(url, functionName) : '';
      if (where && !where.startsWith('node:')) return `${functionName || '(anonymous)'}  ${where}:${path.basename(url)}:${lineNumber + 1}`;
    }
    return '(no caller outside node)';
  };
  const byOwner = new Map<string, number>();
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const place = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = placeOf(url, functionName);
    const key = `${functionName || '(anonymous)'}  ${where}${url ? `:${path.basename(url)}:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    place.set(where, (place.get(where) ?? 0) + us);
    if (where === '(native)' || where.startsWith('node:')) {
      const o = owner(id);
      byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => ((100 * us) / busy).toFixed(1).padStart(5);
  const lines = [`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s (main thread; libvips threads are not sampled)`, '', 'by place:'];
  for (const [k, us] of [...place].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(us)} ms ${pct(us)}%  ${k}`);
  lines.push('', "native and node-internal time by the first caller in seler or a package:");
  for (const [k, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(us)} ms ${pct(us)}%  ${k}`);
  lines.push('', 'top self-time functions:');
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(us)} ms ${pct(us)}%  ${k}`);
  return lines.join('\n');
}

function main(argv: string[]): void {
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
  const targets = argv.filter((_, i) => topAt < 0 || (i !== topAt && i !== topAt + 1));
  if (!targets.length) {
    console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile|DIR [--top N]');
    process.exit(2);
  }
  for (const target of targets) {
    const files = statSync(target).isDirectory()
      ? readdirSync(target)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(target, f))
      : [target];
    for (const file of files) {
      console.log(`== ${file}`);
      console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top));
      console.log('');
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
