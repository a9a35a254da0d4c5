// npm run bench -- <name> [options]: benchmarks print figures; they assert nothing.
const benches: Record<string, { description: string; load: () => Promise<{ main(argv: string[]): Promise<void> }> }> = {
  corpus: {
    description: 'build the photo corpus in bench/.corpus from Debian wallpaper packages (or --from DIR)',
    load: () => import('./corpus.js'),
  },
  thumbnails: {
    description: 'the user\'s whole flow (upload → archive downloaded and checked) through `seler start` vs bare sharp on the same photos: 8 in flight, 3 sizes, WebP/AVIF, one at a time; CPU, Redis commands, peak RSS',
    load: () => import('./thumbnails.js'),
  },
  tasks: {
    description: 'no-op task throughput and enqueue-to-start latency at concurrency 1, 10, 100, against raw BullMQ on the same Redis',
    load: () => import('./tasks.js'),
  },
  beat: {
    description: 'how late a 1 s interval is enqueued (p50/p99/max) with 1 and 3 beat processes, and duplicates',
    load: () => import('./beat.js'),
  },
  monitor: {
    description: '100,000 finished tasks run through a real worker and indexed; p50/p95/p99 of the task list (filters, search, pages) and the dashboard over HTTP',
    load: () => import('./monitor.js'),
  },
};

const [name, ...rest] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`${name ? `Unknown benchmark "${name}". ` : ''}Usage: npm run bench -- <name> [options]\n`);
  for (const [n, b] of Object.entries(benches)) process.stderr.write(`  ${n.padEnd(12)} ${b.description}\n`);
  process.exit(2);
}
try {
  await (await bench.load()).main(rest);
} catch (err) {
  process.stderr.write(`bench ${name}: ${(err as Error).message}\n`);
  process.exit(1);
}
