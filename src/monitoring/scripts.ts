// The monitor index's Lua scripts (lua/; keys in keys.ts). Each runs atomically, so several web processes
// can index, trim and read at once. Every key they touch shares the `{prefix}` hash tag (one Redis Cluster
// slot); the job hashes' layout comes from the task layer.
import { luaScript } from '../platform/lua.js';

export const APPLY = luaScript(import.meta.url, './lua/apply-1.lua');
export const BACKFILL = luaScript(import.meta.url, './lua/backfill-2.lua');
export const TRIM = luaScript(import.meta.url, './lua/trim-1.lua');
export const SWEEP = luaScript(import.meta.url, './lua/sweep-1.lua');
export const FORGET_IDS = luaScript(import.meta.url, './lua/forget-ids-1.lua');
/** The task list's page (store.ts). */
export const LIST = luaScript(import.meta.url, './lua/list-n.lua');
