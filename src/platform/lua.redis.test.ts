// The Lua loader on a real Redis: a fixed and a variable key count, the key count checked before Redis
// is asked, and one script on several connections.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, testRedis, uniquePrefix } from '../../test/helpers/redis.js';
import { LuaScript } from './lua.js';
import type { Redis } from './redis.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seler-lua-redis-'));
mkdirSync(path.join(dir, 'feat', 'lua', 'includes'), { recursive: true });
const script = (name: string, text: string) => {
  writeFileSync(path.join(dir, 'feat', 'lua', name), text);
  return new LuaScript(path.join(dir, 'feat', 'lua', name));
};

const prefix = uniquePrefix('lua');
let redis: Redis;
let other: Redis;
beforeAll(async () => {
  redis = await testRedis();
  other = await testRedis();
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
  other.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('LuaScript.run', () => {
  it('sends the keys and arguments of a fixed key count, with includes inlined', async () => {
    writeFileSync(path.join(dir, 'feat', 'lua', 'includes', 'add.lua'), "local function add(k, n) return redis.call('INCRBY', k, n) end");
    const incr = script('incr-two-2.lua', '--- @include "includes/add"\nreturn {add(KEYS[1], ARGV[1]), add(KEYS[2], ARGV[2])}');
    expect(await incr.run(redis, [`${prefix}:a`, `${prefix}:b`], [3, 4])).toEqual([3, 4]);
    expect(await incr.run(other, [`${prefix}:a`, `${prefix}:b`], [1, 1])).toEqual([4, 5]);
    expect(await incr.run(redis, [`${prefix}:a`, `${prefix}:b`], [1, 1])).toEqual([5, 6]);
  });

  it('sends the caller’s key count for a -n script', async () => {
    const count = script('count-keys-n.lua', 'return {#KEYS, #ARGV, KEYS[#KEYS]}');
    expect(await count.run(redis, [`${prefix}:x`], ['a', 'b'])).toEqual([1, 2, `${prefix}:x`]);
    expect(await count.run(redis, [`${prefix}:x`, `${prefix}:y`, `${prefix}:z`], [])).toEqual([3, 0, `${prefix}:z`]);
    // KEYS[0] is nil, which ends a Lua array reply.
    expect(await count.run(redis, [], ['only-argv'])).toEqual([0, 1]);
  });

  it('refuses a wrong number of keys before Redis runs anything (an argument taken as a key would be written)', async () => {
    const set = script('set-one-1.lua', "return redis.call('SET', KEYS[1], ARGV[1])");
    await expect(set.run(redis, [`${prefix}:k`, `${prefix}:v`], [])).rejects.toThrow('set-one-1.lua takes 1 keys, not 2');
    await expect(set.run(redis, [], [`${prefix}:k`, 'v'])).rejects.toThrow('set-one-1.lua takes 1 keys, not 0');
    expect(await redis.exists(`${prefix}:k`, `${prefix}:v`)).toBe(0);
  });

  it('surfaces a script error as a rejection', async () => {
    const bad = script('bad-0.lua', "return redis.call('NOSUCHCOMMAND')");
    await expect(bad.run(redis, [], [])).rejects.toThrow(/Unknown Redis command|unknown command/i);
  });
});
