// The build ships the Lua scripts: tsc copies no .lua file, so scripts/copy-lua.mjs (a build step) puts
// each next to its compiled module in dist/, and the compiled modules find them there.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-info.js';

const luaUnder = (dir: string) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.lua'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();

interface CopyLua {
  copyLuaScripts(root: string): { status: number; stderr?: string };
}
const copyLua = () => import(pathToFileURL(path.join(packageRoot, 'scripts', 'copy-lua.mjs')).href) as Promise<CopyLua>;

describe('the build and the Lua scripts', () => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'seler-lua-build-'));
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  it('copies every .lua under src/ to the same place under dist/, and removes one no longer in src/', async () => {
    const put = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(sandbox, rel)), { recursive: true });
      writeFileSync(path.join(sandbox, rel), text);
    };
    put('src/feat/lua/a-1.lua', 'return 1');
    put('src/feat/lua/includes/x.lua', 'local x = 1');
    put('src/other/lua/b-n.lua', 'return 2');
    put('src/feat/module.ts', 'not copied');
    put('dist/feat/lua/a-1.lua', 'an older version');
    put('dist/gone/lua/old-1.lua', 'a script since removed');
    put('dist/feat/module.js', 'kept');
    const { copyLuaScripts } = await copyLua();
    expect(copyLuaScripts(sandbox)).toEqual({ status: 0 });
    expect(luaUnder(path.join(sandbox, 'dist'))).toEqual(luaUnder(path.join(sandbox, 'src')));
    expect(readFileSync(path.join(sandbox, 'dist/feat/lua/a-1.lua'), 'utf8')).toBe('return 1');
    expect(existsSync(path.join(sandbox, 'dist/feat/module.js'))).toBe(true);
    expect(existsSync(path.join(sandbox, 'dist/feat/module.ts'))).toBe(false);
  });

  it('answers a failure the way the build reports a step’s (no stack)', async () => {
    const broken = mkdtempSync(path.join(sandbox, 'broken-'));
    mkdirSync(path.join(broken, 'src/feat/lua'), { recursive: true });
    writeFileSync(path.join(broken, 'src/feat/lua/a-1.lua'), 'return 1');
    writeFileSync(path.join(broken, 'dist'), 'a file where the dist folder should be');
    const { copyLuaScripts } = await copyLua();
    const result = copyLuaScripts(broken);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/dist/);
  });

  it('after the build, dist/ holds exactly src/’s scripts, byte for byte, and the compiled modules load them', async () => {
    // Builds only when a source is newer than the last build (npm test has just done so).
    await promisify(execFile)(process.execPath, [path.join(packageRoot, 'scripts', 'build-if-needed.mjs')], { cwd: packageRoot, timeout: 280_000 });
    const src = path.join(packageRoot, 'src');
    const dist = path.join(packageRoot, 'dist');
    const scripts = luaUnder(src);
    expect(scripts.length).toBeGreaterThanOrEqual(12);
    expect(luaUnder(dist)).toEqual(scripts);
    for (const rel of scripts) expect(readFileSync(path.join(dist, rel), 'utf8'), rel).toBe(readFileSync(path.join(src, rel), 'utf8'));

    const { readLua } = (await import(pathToFileURL(path.join(dist, 'platform', 'lua.js')).href)) as typeof import('../src/platform/lua.js');
    const modules = ['monitoring/scripts.js', 'tasks/job-snapshot.js', 'tasks/events.js', 'tasks/rate-limit.js', 'thumbnails/upload-budget.js'];
    const loaded: string[] = [];
    for (const module of modules) {
      const text = readFileSync(path.join(dist, module), 'utf8');
      for (const m of text.matchAll(/luaScript\(import\.meta\.url, '([^']+)'\)/g)) {
        const file = path.resolve(path.dirname(path.join(dist, module)), m[1]!);
        expect(readLua(file), `${module} → ${m[1]}`).toMatch(/return/);
        loaded.push(path.relative(dist, file));
      }
    }
    expect(loaded.sort()).toEqual(scripts.filter((rel) => !rel.split(path.sep).includes('includes')));
  }, 300_000);
});
