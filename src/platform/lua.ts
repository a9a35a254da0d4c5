// Seler's Lua scripts: one file per script in its feature's lua/ folder, named `<name>-<nkeys>.lua`
// (`<name>-n.lua` when the key count varies and the caller passes it), with a KEYS/ARGV header as BullMQ
// writes them. Each is run through ioredis defineCommand, which sends EVALSHA and falls back to EVAL on
// NOSCRIPT, on a single server, Sentinel or Cluster alike (a Cluster routes the call by its first key,
// so a script's keys share one hash tag). `--- @include "includes/x"` inlines includes/x.lua (BullMQ's form).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from './redis.js';

const FILE_NAME = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)-(\d+|n)\.lua$/;
const INCLUDE = /^--- @include "([^"]+)"\s*$/gm;

const sources = new Map<string, string>();

/** A script file's text with its includes inlined, read once per process. */
export function readLua(file: string): string {
  let source = sources.get(file);
  if (source === undefined) {
    source = readFileSync(file, 'utf8').replace(INCLUDE, (_, include: string) => readLua(path.join(path.dirname(file), `${include}.lua`)));
    sources.set(file, source);
  }
  return source;
}

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

/** Which file each command name was given to: two files with one name would silently run the first one's script. */
const commandFiles = new Map<string, string>();

export class LuaScript {
  /** The ioredis command name: `lua:<feature>/<name>`. */
  readonly command: string;
  /** From the file name; undefined for `-n` (the caller's key count is sent). */
  readonly numberOfKeys: number | undefined;

  constructor(readonly file: string) {
    const match = FILE_NAME.exec(path.basename(file));
    if (!match) throw new Error(`Lua script file name ${path.basename(file)} is not <name>-<number of keys>.lua`);
    this.numberOfKeys = match[2] === 'n' ? undefined : Number(match[2]);
    this.command = `lua:${path.basename(path.dirname(path.dirname(file)))}/${match[1]}`;
    const owner = commandFiles.get(this.command);
    if (owner !== undefined && owner !== file) throw new Error(`Lua scripts ${owner} and ${file} have the same command name ${this.command}`);
    commandFiles.set(this.command, file);
  }

  async run<T = unknown>(redis: Redis, keys: string[], args: (string | number)[]): Promise<T> {
    if (this.numberOfKeys !== undefined && keys.length !== this.numberOfKeys) {
      throw new Error(`${path.basename(this.file)} takes ${this.numberOfKeys} keys, not ${keys.length}`);
    }
    const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
    if (typeof commands[this.command] !== 'function') {
      redis.defineCommand(this.command, { lua: readLua(this.file), ...(this.numberOfKeys === undefined ? {} : { numberOfKeys: this.numberOfKeys }) });
    }
    const call = commands[this.command]!;
    const reply = this.numberOfKeys === undefined ? call.call(redis, keys.length, ...keys, ...args) : call.call(redis, ...keys, ...args);
    return (await reply) as T;
  }
}

/** The script `relative` to the module at `moduleUrl` (its import.meta.url): found in src/ and in dist/ alike. */
export function luaScript(moduleUrl: string, relative: string): LuaScript {
  return new LuaScript(fileURLToPath(new URL(relative, moduleUrl)));
}
