// The Lua script files: named <name>-<nkeys>.lua with a KEYS/ARGV header that matches what the script
// reads, each loaded by a module, and the loader refusing what would run the wrong script.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../package-info.js';
import { LuaScript, readLua } from './lua.js';

const srcDir = path.join(packageRoot, 'src');

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => path.join(e.parentPath, e.name));
}

const scripts = filesUnder(srcDir, '.lua').filter((f) => !f.split(path.sep).includes('includes'));
const includes = filesUnder(srcDir, '.lua').filter((f) => f.split(path.sep).includes('includes'));

/** The header's declared keys: `KEYS[n]` lines of the leading --[[ ]] comment, and whether it ends with `KEYS[n…]`. */
function header(source: string): { keys: number[]; variadic: boolean; input: boolean } {
  const match = /^--\[\[([\s\S]*?)\]\]/.exec(source);
  if (!match) return { keys: [], variadic: false, input: false };
  const keys = [...match[1]!.matchAll(/^\s*KEYS\[(\d+)\]/gm)].map((m) => Number(m[1]));
  return { keys, variadic: /^\s*KEYS\[\d+…\]/m.test(match[1]!), input: /^\s*Input:/m.test(match[1]!) };
}

/** KEYS[n] the code reads (comments removed, includes inlined). */
function keysRead(file: string): number[] {
  const code = readLua(file)
    .replace(/--\[\[[\s\S]*?\]\]/g, '')
    .replace(/--[^\n]*/g, '');
  return [...code.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
}

describe('Lua script files', () => {
  it('finds the scripts of every feature (the search itself is not empty)', () => {
    const features = new Set(scripts.map((f) => path.relative(srcDir, f).split(path.sep)[0]));
    expect([...features].sort()).toEqual(['monitoring', 'tasks', 'thumbnails']);
    expect(scripts.length).toBeGreaterThanOrEqual(12);
  });

  it.each(scripts.map((f) => [path.relative(srcDir, f), f]))('%s: its name says its key count, and its header and code agree', (_, file) => {
    const name = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(\d+|n)\.lua$/.exec(path.basename(file));
    expect(name, 'file name <name>-<nkeys>.lua').not.toBeNull();
    expect(path.basename(path.dirname(file))).toBe('lua');
    const source = readFileSync(file, 'utf8');
    const declared = header(source);
    expect(declared.input, 'a --[[ ]] header with an Input: section').toBe(true);
    // Declared as KEYS[1], KEYS[2], … in order.
    expect(declared.keys).toEqual(declared.keys.map((_, i) => i + 1));
    const read = keysRead(file);
    if (name![1] === 'n') {
      expect(declared.variadic, 'a -n script declares KEYS[k…]').toBe(true);
      for (const k of read) expect(k).toBeLessThanOrEqual(declared.keys.length);
    } else {
      const nkeys = Number(name![1]);
      expect(declared.variadic).toBe(false);
      expect(declared.keys.length, 'KEYS declared in the header').toBe(nkeys);
      for (const k of read) expect(k, `KEYS[${k}] read by the code`).toBeLessThanOrEqual(nkeys);
      expect(readLua(file)).not.toMatch(/#KEYS/);
    }
  });

  it('every script is loaded by a module, and every module loads a script that exists', () => {
    const referenced = new Set<string>();
    for (const module of filesUnder(srcDir, '.ts').filter((f) => !f.endsWith('.test.ts'))) {
      for (const m of readFileSync(module, 'utf8').matchAll(/luaScript\(import\.meta\.url, '([^']+)'\)/g)) {
        const file = path.resolve(path.dirname(module), m[1]!);
        expect(scripts, `${path.relative(srcDir, module)} loads ${m[1]}`).toContain(file);
        referenced.add(file);
      }
    }
    expect([...referenced].sort()).toEqual([...scripts].sort());
  });

  it('every include is used, and no script is left with an unresolved @include', () => {
    const used = new Set<string>();
    for (const file of scripts) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^--- @include "([^"]+)"/gm)) used.add(path.join(path.dirname(file), `${m[1]}.lua`));
      expect(readLua(file)).not.toMatch(/@include/);
    }
    expect([...used].sort()).toEqual([...includes].sort());
  });

  it('no Lua is left in TypeScript: no EVAL, EVALSHA or defineCommand outside the loader (the Redis lab teaches them on purpose)', () => {
    for (const module of filesUnder(srcDir, '.ts').filter((f) => !f.endsWith('.test.ts') && !f.includes(`${path.sep}redis-lab${path.sep}`))) {
      if (module === path.join(srcDir, 'platform', 'lua.ts')) continue;
      const text = readFileSync(module, 'utf8');
      expect(text, path.relative(srcDir, module)).not.toMatch(/KEYS\[|ARGV\[|\.evalsha\(|\.eval\(|defineCommand\(|'EVAL/);
    }
  });
});

describe('the loader', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seler-lua-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
    return path.join(dir, rel);
  };

  it('reads the key count from the file name, and refuses a name without one', () => {
    expect(new LuaScript(write('feat/lua/ok-3.lua', 'return 1')).numberOfKeys).toBe(3);
    expect(new LuaScript(write('feat/lua/any-n.lua', 'return 1')).numberOfKeys).toBeUndefined();
    for (const bad of ['nokeys.lua', 'Upper-1.lua', 'x-1.txt', 'x--1.lua', 'x-1.5.lua']) {
      expect(() => new LuaScript(write(`feat/lua/${bad}`, 'return 1')), bad).toThrow(/is not <name>-<number of keys>\.lua/);
    }
  });

  it('refuses two files that would share one command name (the second would run the first one’s script)', () => {
    const first = new LuaScript(write('a/feat/lua/same-1.lua', 'return 1'));
    expect(first.command).toBe('lua:feat/same');
    expect(new LuaScript(first.file).command).toBe(first.command);
    expect(() => new LuaScript(write('b/feat/lua/same-1.lua', 'return 2'))).toThrow(/same command name lua:feat\/same/);
  });

  it('inlines includes, nested, and fails on a missing one', () => {
    write('inc/lua/includes/inner.lua', 'local inner = 1');
    write('inc/lua/includes/outer.lua', '--- @include "inner"\nlocal outer = inner + 1');
    const file = write('inc/lua/uses-0.lua', '--- @include "includes/outer"\nreturn outer');
    expect(readLua(file)).toBe('local inner = 1\nlocal outer = inner + 1\nreturn outer');
    expect(() => readLua(write('inc/lua/missing-0.lua', '--- @include "includes/nope"\nreturn 1'))).toThrow(/ENOENT/);
  });
});
