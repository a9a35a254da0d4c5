// The bare thumbnail pipeline (no Redis, no HTTP): probe → thumbnails → thumbnails written, N images at a time
// (what the worker does per original on the local store; the zip is made at download time).
//   npx tsx bench/pipeline.ts DIR|FILE... [--repeat N] [--no-naive]
// Prints images/s at concurrency 1 and 2 for one size and for three (128, 256, 512), next to a naive
// sharp pipeline that decodes once per size (the lab's way; --no-naive skips it), and the peak RSS.
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { makeThumbnails, probeImage, type Fit, type OutputFormat } from '../src/thumbnails/image.js';
import { newDecodeSlots } from '../src/thumbnails/slots.js';
import { safeFileName, safeStem, type Size } from '../src/thumbnails/naming.js';

const MAX_PIXELS = 100_000_000;

export interface BenchOptions {
  sizes: Size[];
  format: OutputFormat;
  fit: Fit;
  concurrency: number;
}

export interface BenchResult {
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Runs `work` over every item with at most `concurrency` in flight (sharp works on libuv threads). */
async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner));
}

async function timed(count: number, run: () => Promise<void>): Promise<BenchResult> {
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { images: count, seconds, imagesPerSecond: count / seconds };
}

/** What one task does per upload, minus Redis: libvips reads the stored original, the thumbnails are stored. */
export async function benchBarePipeline(files: string[], options: BenchOptions): Promise<BenchResult> {
  const decodes = newDecodeSlots();
  const dir = await mkdtemp(path.join(tmpdir(), 'seler-bench-'));
  try {
    return await timed(files.length, () =>
      pool(files, options.concurrency, async (file, i) => {
        const info = await probeImage(file, { maxPixels: MAX_PIXELS });
        const name = safeFileName(path.basename(file), info.ext);
        const { thumbnails } = await makeThumbnails(file, {
          sizes: options.sizes,
          format: options.format,
          fit: options.fit,
          stem: safeStem(name),
          maxPixels: MAX_PIXELS,
          decodes,
          info,
        });
        await Promise.all(thumbnails.map((t) => writeFile(path.join(dir, `${i}-${t.name}`), t.data)));
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The reference: one plain sharp pipeline per size, each decoding the file again. */
export async function benchNaiveSharp(files: string[], options: BenchOptions): Promise<BenchResult> {
  return timed(files.length, () =>
    pool(files, options.concurrency, async (file) => {
      const data = await readFile(file);
      for (const size of options.sizes) {
        await sharp(data).rotate().resize(size.width, size.height, { fit: 'inside', withoutEnlargement: true }).jpeg().toBuffer();
      }
    }),
  );
}

const IMAGE = /\.(jpe?g|png|gif|webp|tiff?|avif)$/i;

async function listImages(args: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    if ((await stat(arg)).isDirectory()) {
      const names = (await readdir(arg)).filter((n) => IMAGE.test(n)).sort();
      files.push(...names.map((n) => path.join(arg, n)));
    } else {
      files.push(arg);
    }
  }
  return files;
}

const square = (n: number): Size => ({ width: n, height: n });
const fmt = (r: BenchResult) => `${r.imagesPerSecond.toFixed(2).padStart(6)} images/s  (${r.images} in ${r.seconds.toFixed(2)} s)`;

async function main(argv: string[]): Promise<void> {
  const repeatAt = argv.indexOf('--repeat');
  const repeat = repeatAt >= 0 ? Number(argv[repeatAt + 1]) : 1;
  const naive = !argv.includes('--no-naive');
  const args = argv.filter((a, i) => a !== '--no-naive' && (repeatAt < 0 || (i !== repeatAt && i !== repeatAt + 1)));
  if (args.length === 0) {
    console.error('usage: npx tsx bench/pipeline.ts DIR|FILE... [--repeat N]   (photos: npm run bench -- corpus, then bench/.corpus/photos)');
    process.exit(2);
  }
  const once = await listImages(args);
  const files = Array.from({ length: repeat }, () => once).flat();
  const bytes = (await Promise.all(once.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);
  console.log(`${once.length} files (${(bytes / 1048576).toFixed(1)} MiB) x${repeat}; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, vips threads ${sharp.concurrency()}`);
  await benchBarePipeline(once.slice(0, 2), { sizes: [square(128)], format: 'jpeg', fit: 'inside', concurrency: 1 }); // warm-up

  for (const sizes of [[square(128)], [square(128), square(256), square(512)]]) {
    const label = sizes.map((s) => s.width).join('+');
    for (const concurrency of [1, 2]) {
      const options: BenchOptions = { sizes, format: 'jpeg', fit: 'inside', concurrency };
      const reference = naive ? ` | naive sharp ${fmt(await benchNaiveSharp(files, options))}` : '';
      const bare = await benchBarePipeline(files, options);
      console.log(`sizes ${label.padEnd(11)} concurrency ${concurrency}: pipeline ${fmt(bare)}${reference}`);
    }
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
