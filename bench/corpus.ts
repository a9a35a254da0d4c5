// The project's own photo corpus for the thumbnail benchmarks, in bench/.corpus (git-ignored):
//   npm run bench -- corpus                 real photos from Debian's wallpaper packages
//   npm run bench -- corpus --from DIR      every image in DIR instead
// Writes bench/.corpus/photos/<name> and bench/.corpus/MANIFEST.tsv (name, bytes, WxH, format, sha256, source).
// The folder is rebuilt from scratch on every run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

export const CORPUS_DIR = path.resolve(import.meta.dirname, '.corpus');
export const PHOTOS_DIR = path.join(CORPUS_DIR, 'photos');
export const IMAGE_EXT = /\.(jpe?g|png|gif|webp|tiff?|avif)$/i;

const PACKAGES = ['mate-backgrounds', 'ukui-wallpapers', 'plasma-workspace-wallpapers'];
const W = '/usr/share/wallpapers';
const B = '/usr/share/backgrounds';

// 18 JPEGs: every JPEG of at least 1,000,000 bytes these three packages ship (1.0–16.4 MB, up to the
// 5640×3172 Elephants), and 5 PNGs covering the RGB, RGBA and LA modes.
const DEBIAN: [name: string, source: string][] = [
  ['elephants-5640x3172.jpg', `${B}/mate/abstract/Elephants_5640x3172.jpg`],
  ['elephants-3840x2160.jpg', `${B}/mate/abstract/Elephants_3840x2160.jpg`],
  ['elephants-1920x1080.jpg', `${B}/mate/abstract/Elephants.jpg`],
  ['rhythm-3840x2400.jpg', `${B}/rhythm.jpg`],
  ['volna-5120x2880.jpg', `${W}/Volna/contents/images/5120x2880.jpg`],
  ['safelanding-5120x2880.jpg', `${W}/SafeLanding/contents/images/5120x2880.jpg`],
  ['safelanding-1622x2880.jpg', `${W}/SafeLanding/contents/images/1622x2880.jpg`],
  ['flow-5120x2880.jpg', `${W}/Flow/contents/images/5120x2880.jpg`],
  ['flow-dark-5120x2880.jpg', `${W}/Flow/contents/images_dark/5120x2880.jpg`],
  ['string-3640x2400.jpg', `${B}/string.jpg`],
  ['shell-5120x2880.jpg', `${W}/Shell/contents/images/5120x2880.jpg`],
  ['2004default-3840x2400.jpg', `${B}/2004default.jpg`],
  ['honeywave-5120x2880.jpg', `${W}/Honeywave/contents/images/5120x2880.jpg`],
  ['firstgeneration-3640x2400.jpg', `${B}/firstgeneration.jpg`],
  ['the-mouse-3840x2400.jpg', `${B}/the-mouse.jpg`],
  ['raindrops-1920x1200.jpg', `${B}/mate/nature/RainDrops.jpg`],
  ['blinds-1920x1200.jpg', `${B}/mate/nature/Blinds.jpg`],
  ['dune-1680x1050.jpg', `${B}/mate/nature/Dune.jpg`],
  ['patak-rgba-5120x2880.png', `${W}/Patak/contents/images/5120x2880.png`],
  ['calla-rgba-3700x2400.png', `${B}/calla.png`],
  ['cascade-rgb-3840x2160.png', `${W}/Cascade/contents/images/3840x2160.png`],
  ['milkyway-rgb-1080x1920.png', `${W}/MilkyWay/contents/images/1080x1920.png`],
  ['stripes-la-1920x1200.png', `${B}/mate/desktop/Stripes.png`],
];

function installPackages(): void {
  const root = process.getuid?.() === 0;
  const command = `${root ? '' : 'sudo '}apt-get install -y ${PACKAGES.join(' ')}`;
  if (!root) throw new Error(`some wallpapers are missing; install them with: ${command}  (or use --from DIR)`);
  process.stderr.write(`installing ${PACKAGES.join(', ')} ...\n`);
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', ...PACKAGES], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    throw new Error(`apt-get could not install ${PACKAGES.join(' ')}; run "${command}" yourself, or use --from DIR`);
  }
}

function sourcesFrom(dir: string): [string, string][] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--from ${dir}: not a folder`);
  const names = readdirSync(dir)
    .filter((n) => IMAGE_EXT.test(n) && statSync(path.join(dir, n)).isFile())
    .sort();
  if (!names.length) throw new Error(`--from ${dir}: no images in it (looked for ${IMAGE_EXT.source})`);
  return names.map((n) => [n, path.join(dir, n)]);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { from: { type: 'string' } } });
  let sources: [string, string][];
  if (values.from) {
    sources = sourcesFrom(path.resolve(values.from));
  } else {
    if (DEBIAN.some(([, src]) => !existsSync(src))) installPackages();
    sources = DEBIAN.filter(([, src]) => existsSync(src));
    const missing = DEBIAN.length - sources.length;
    if (missing) process.stderr.write(`${missing} wallpaper(s) missing from the installed packages; going on without them\n`);
    if (!sources.length) throw new Error('none of the wallpapers is installed; use --from DIR');
  }

  rmSync(CORPUS_DIR, { recursive: true, force: true });
  mkdirSync(PHOTOS_DIR, { recursive: true });
  const rows = ['name\tbytes\tsize\tformat\tsha256\tsource'];
  let total = 0;
  let refused = 0;
  for (const [name, src] of sources) {
    const data = readFileSync(src);
    const meta = await sharp(data).metadata().catch(() => undefined);
    if (!meta?.width) {
      process.stderr.write(`skipped ${src}: not an image sharp can read\n`);
      refused++;
      continue;
    }
    copyFileSync(src, path.join(PHOTOS_DIR, name));
    const sha = createHash('sha256').update(data).digest('hex');
    rows.push([name, data.length, `${meta.width}x${meta.height}`, `${meta.format}/${meta.channels}ch`, sha, src].join('\t'));
    total += data.length;
  }
  writeFileSync(path.join(CORPUS_DIR, 'MANIFEST.tsv'), rows.join('\n') + '\n');
  const count = rows.length - 1;
  if (!count) throw new Error('no image could be read; the corpus is empty');
  console.log(`corpus: ${count} images (${refused} skipped), ${(total / 1048576).toFixed(1)} MiB in ${path.relative(process.cwd(), PHOTOS_DIR) || PHOTOS_DIR}`);
}
