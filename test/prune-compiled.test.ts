// tsc never deletes what it compiled, so the build (scripts/prune-compiled.mjs) removes from dist/ the
// compiled files of a module no longer in src/: a renamed or deleted module is neither loadable nor packed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-info.js';

interface PruneCompiled {
  pruneCompiled(root: string): { status: number; stderr?: string };
}
const prune = () => import(pathToFileURL(path.join(packageRoot, 'scripts', 'prune-compiled.mjs')).href) as Promise<PruneCompiled>;

describe('the build prunes compiled files of removed modules', () => {
  const sandbox = mkdtempSync(path.join(tmpdir(), 'seler-prune-'));
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));
  const put = (rel: string) => {
    mkdirSync(path.dirname(path.join(sandbox, rel)), { recursive: true });
    writeFileSync(path.join(sandbox, rel), '');
  };
  const distFiles = () =>
    readdirSync(path.join(sandbox, 'dist'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(path.join(sandbox, 'dist'), path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();

  it('removes .js, .js.map and .d.ts without a src/ module, and keeps the rest of dist/', async () => {
    for (const rel of ['src/feat/kept.ts', 'src/feat/lua/a-1.lua', 'src/main.ts']) put(rel);
    const kept = ['.build-stamp', '.tsbuildinfo', 'feat/kept.d.ts', 'feat/kept.js', 'feat/kept.js.map', 'feat/lua/a-1.lua', 'main.js', 'web/assets/page.js', 'web/index.html'];
    const removed = ['feat/renamed.d.ts', 'feat/renamed.js', 'feat/renamed.js.map', 'gone/module.js', 'kept.js'];
    for (const rel of [...kept, ...removed]) put(`dist/${rel}`);
    const { pruneCompiled } = await prune();
    expect(pruneCompiled(sandbox)).toEqual({ status: 0 });
    expect(distFiles()).toEqual(kept.sort());
    expect(pruneCompiled(sandbox)).toEqual({ status: 0 }); // nothing left to do: still a success
  });

  it('answers a failure the way the build reports a step’s (no stack); no dist/ yet is no failure', async () => {
    const { pruneCompiled } = await prune();
    expect(pruneCompiled(path.join(sandbox, 'never-built'))).toEqual({ status: 0 });
    mkdirSync(path.join(sandbox, 'broken'), { recursive: true });
    writeFileSync(path.join(sandbox, 'broken', 'dist'), 'a file where the dist folder should be');
    const result = pruneCompiled(path.join(sandbox, 'broken'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/dist/);
    expect(existsSync(path.join(sandbox, 'broken', 'dist'))).toBe(true);
  });
});
