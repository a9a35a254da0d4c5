// Seler's Lua scripts get BullMQ's names from bull-layout.ts (as KEYS and ARGV). A script that names one
// itself must name one the layout lists, so that bull-layout.redis.test.ts checks it against BullMQ.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { QueueKeys } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../package-info.js';
import * as layout from './bull-layout.js';

/** BullMQ's names for a queue's key types and for the fields of a job's hash, as the installed BullMQ has them. */
function bullmqNames(): Set<string> {
  const keyTypes = Object.keys(new QueueKeys().getKeys('q')).filter(Boolean);
  // The job hash's fields: what BullMQ's own decoding of a raw hash reads (rawToJobJson, `raw.<field>`).
  const backend = path.join(path.dirname(createRequire(import.meta.url).resolve('bullmq')), 'classes', 'redis-queue-backend.js');
  const decoder = /function rawToJobJson\(raw\) \{([\s\S]*?)\n\}/.exec(readFileSync(backend, 'utf8'));
  if (!decoder) throw new Error(`rawToJobJson is no longer in ${backend}: find where this BullMQ decodes a job hash and read its fields from there`);
  const fields = [...decoder[1]!.matchAll(/raw\.(\w+)/g)].map((m) => m[1]!);
  expect(fields, 'the job hash fields found in BullMQ').toEqual(expect.arrayContaining(['name', 'data', 'finishedOn']));
  return new Set([...keyTypes, ...fields]);
}

/** Every name bull-layout.ts lists. */
function layoutNames(): Set<string> {
  const names = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === 'string') names.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const [exported, value] of Object.entries(layout)) if (exported !== 'BULLMQ_CHECKED') collect(value);
  return names;
}

/** The string literals of a Lua source outside comments ('…' and "…"; seler's scripts use no long strings). */
function luaStrings(source: string): string[] {
  const code = source.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--[^\n]*/g, '');
  return [...code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"/g)].map((m) => m[1] ?? m[2]!);
}

/** BullMQ names a Lua source spells out (whole, or as a `:`-separated part of a key) that the layout does not list. */
function unlistedBullNames(source: string, bull: Set<string>, listed: Set<string>): string[] {
  const found = new Set<string>();
  for (const literal of luaStrings(source)) for (const part of [literal, ...literal.split(':')]) if (bull.has(part) && !listed.has(part)) found.add(part);
  return [...found].sort();
}

const luaFiles = readdirSync(path.join(packageRoot, 'src'), { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile() && e.name.endsWith('.lua'))
  .map((e) => path.relative(packageRoot, path.join(e.parentPath, e.name)))
  .sort();

describe('Lua scripts and the BullMQ layout', () => {
  const bull = bullmqNames();
  const listed = layoutNames();

  it('finds the scripts, including the monitor and task ones', () => {
    expect(luaFiles).toEqual(expect.arrayContaining(['src/tasks/lua/job-snapshot-10.lua', 'src/monitoring/lua/apply-1.lua', 'src/monitoring/lua/includes/count.lua']));
  });

  it.each(luaFiles)('%s names no BullMQ key type or job field that bull-layout.ts does not list', (file) => {
    expect(unlistedBullNames(readFileSync(path.join(packageRoot, file), 'utf8'), bull, listed)).toEqual([]);
  });

  it('catches a script that reads a job field or key the layout does not list, not one in a comment', () => {
    const script = [
      '-- stc: the stalled counter, only mentioned',
      "local stalled = redis.call('HGET', KEYS[1], 'stc')",
      'local dedup = redis.call("HGET", KEYS[1], "deid")',
      "local repeatKey = ARGV[1] .. ':' .. ARGV[2] .. ':rjk'",
      "local fine = redis.call('HGET', KEYS[1], 'finishedOn')",
    ].join('\n');
    expect(unlistedBullNames(script, bull, listed)).toEqual(['deid', 'rjk', 'stc']);
  });
});
