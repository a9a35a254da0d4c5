// Worker core vs bare sharp, alternating, in one process: seler's makeThumbnails (file input, decode slots,
// budget) N at a time against bare sharp 2 at a time from memory. npx tsx bench/pipeline-core.ts [N] [rounds]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { bareSharp } from './bare-sharp.js';
import { PHOTOS_DIR } from './corpus.js';
import { makeThumbnails, probeImage } from '../src/thumbnails/image.js';
import { newDecodeSlots } from '../src/thumbnails/slots.js';

const decodes = newDecodeSlots();

const concurrency = Number(process.argv[2] ?? 4);
const rounds = Number(process.argv[3] ?? 2);
const files = readdirSync(PHOTOS_DIR).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort().map((n) => path.join(PHOTOS_DIR, n));
const photos = await Promise.all(files.map(async (f) => ({ data: readFileSync(f), format: ((await sharp(f).metadata()).format === 'png' ? 'png' : 'jpeg') as 'png' | 'jpeg' })));
for (let r = 0; r < rounds; r++) {
  const bare = process.env.BARE === '0' ? { imagesPerSecond: NaN, cpuPerImage: NaN } : await bareSharp(photos, { sizes: [128], format: 'original', concurrency: 2 });
  let next = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < files.length) {
      const f = files[next++]!;
      const info = await probeImage(f, { maxPixels: 268402689 });
      await makeThumbnails(f, { sizes: [{ width: 128, height: 128 }], format: 'original', fit: 'inside', stem: 'x', maxPixels: 268402689, decodes, info });
    }
  }));
  const s = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuImg = (used.user + used.system) / 1e6 / files.length;
  console.log(`round ${r}: bare ${bare.imagesPerSecond.toFixed(2)} img/s ${bare.cpuPerImage.toFixed(3)} cpu/img | makeThumbnails c${concurrency} ${(files.length / s).toFixed(2)} img/s ${cpuImg.toFixed(3)} cpu/img | ratio ${(files.length / s / bare.imagesPerSecond).toFixed(2)} | slots highest ${decodes.highest} | maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB | load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
}
