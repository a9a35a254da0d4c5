// tsc never deletes what it compiled: a module removed or renamed in src/ would leave its .js, .js.map and
// .d.ts in dist/, still loadable and packed by `npm pack`. The build removes every compiled file under dist/
// whose src/ module is gone (dist/web is Vite's, which empties it itself).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const COMPILED = /\.(?:js|js\.map|d\.ts)$/;

/** Removes root/dist's compiled files without a root/src module; answers like spawnSync ({status, stderr}). */
export function pruneCompiled(root) {
  const src = path.join(root, 'src');
  const dist = path.join(root, 'dist');
  try {
    if (!existsSync(dist)) return { status: 0 };
    for (const entry of readdirSync(dist, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !COMPILED.test(entry.name)) continue;
      const rel = path.relative(dist, path.join(entry.parentPath, entry.name));
      if (rel.split(path.sep)[0] === 'web') continue;
      if (!existsSync(path.join(src, rel.replace(COMPILED, '.ts')))) rmSync(path.join(dist, rel));
    }
    return { status: 0 };
  } catch (err) {
    return { status: 1, stderr: `${err.message}\n` };
  }
}
