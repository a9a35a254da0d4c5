// tsc copies no `.lua` file, so the build does: src/x/lua/a-1.lua goes to dist/x/lua/a-1.lua, next to the
// compiled module that loads it, and a script no longer in src/ leaves dist/.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Every `.lua` file under `dir`, as paths relative to it. */
export function luaFiles(dir, under = '') {
  if (!existsSync(path.join(dir, under))) return [];
  return readdirSync(path.join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(under, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : luaFiles(dir, rel);
    return entry.name.endsWith('.lua') ? [rel] : [];
  });
}

/** Copies root/src's Lua scripts to root/dist; answers like spawnSync ({status, stderr}) for the build's steps. */
export function copyLuaScripts(root) {
  const src = path.join(root, 'src');
  const dist = path.join(root, 'dist');
  try {
    const wanted = new Set(luaFiles(src));
    for (const rel of wanted) {
      mkdirSync(path.dirname(path.join(dist, rel)), { recursive: true });
      copyFileSync(path.join(src, rel), path.join(dist, rel));
    }
    for (const rel of luaFiles(dist)) if (!wanted.has(rel)) rmSync(path.join(dist, rel));
    return { status: 0 };
  } catch (err) {
    return { status: 1, stderr: `${err.message}\n` };
  }
}
