// R14: Lua scripts run on the server, atomically, next to the data.
import { createHash, randomUUID } from 'node:crypto';
import type { Exercise, LabClient, LabContext } from '../types.js';
import { COUNT_CALLS, ECHO_ARGS, GRANT_TO_GROUP, HELLO, JSON_SUM, READ_COMPUTE_WRITE, SQUARES } from './lua-scripts.js';

export const lua: Exercise = {
  name: 'lua',
  rows: 'R14',
  summary: 'EVAL, KEYS/ARGV, tables, cjson, read-compute-write, the permissions script, EVALSHA with a NOSCRIPT fallback',
  async run(ctx) {
    const c = ctx.main;
    const hello = await c.send('EVAL', HELLO, 0);
    const echoed = await c.send('EVAL', ECHO_ARGS, 2, ctx.key('first'), ctx.key('second'), 'alpha', 'beta');
    ctx.note('the number after the script says how many of the arguments are KEYS; the rest are ARGV');
    const squares = await c.send('EVAL', SQUARES, 0, 5);
    ctx.note('a Lua table with indexes 1..n comes back as an array');
    const jsonSum = await c.send('EVAL', JSON_SUM, 0, '{"a":1,"b":6}');

    const key1 = ctx.key('key1');
    const key2 = ctx.key('key2');
    await c.send('SET', key1, 10);
    await c.send('EVAL', READ_COMPUTE_WRITE, 2, key1, key2, 5);
    const key2Value = await c.send('GET', key2);
    ctx.note('read, compute and write happened in one step: no other command could run in between');

    const permissions = await permissionsPart(ctx);
    const evalsha = await evalshaPart(ctx);
    return { hello, echoed, squares, jsonSum, key2: key2Value, permissions, evalsha };
  },
};

async function permissionsPart(ctx: LabContext) {
  const c = ctx.main;
  const known = ctx.key('permissions');
  const editors = ctx.key('group', 'editors');
  const userPrefix = ctx.key('user', '');
  const users = ['ala', 'bartek', 'celina'];
  ctx.note('permissions and groups: grant a permission to every user of a group, only if the permission exists');
  await c.send('SADD', known, 'read', 'write', 'publish');
  await c.send('SADD', editors, 'ala', 'bartek');
  await c.send('SADD', userPrefix + 'celina', 'read');
  const grant = (permission: string) => c.send('EVAL', GRANT_TO_GROUP, 2, known, editors, permission, userPrefix);

  const granted = isTrue(await grant('publish'));
  for (const user of users) await c.send('SMEMBERS', userPrefix + user);
  ctx.note('ala and bartek (the editors) have publish now; celina, who is not an editor, does not');
  const refused = !isTrue(await grant('fly'));
  ctx.note('"fly" is not a known permission: the script answered false (nil on RESP2) and granted nothing');
  const holders = async (permission: string) => {
    const out: string[] = [];
    for (const user of users) if (Number(await c.redis.sismember(userPrefix + user, permission)) === 1) out.push(user);
    return out;
  };
  return { granted, grantedTo: await holders('publish'), refusedUnknown: refused, unknownGrantedTo: await holders('fly') };
}

/** Lua `true` is 1 on RESP2 and true on RESP3; `false` is nil or false. */
function isTrue(reply: unknown): boolean {
  return reply === 1 || reply === true;
}

async function evalshaPart(ctx: LabContext) {
  const c = ctx.main;
  const calls = ctx.key('calls');
  const sha = String(await c.send('SCRIPT', 'LOAD', COUNT_CALLS));
  ctx.note('SCRIPT LOAD caches the script and answers its SHA1; EVALSHA then sends 40 characters instead of the script');
  await c.send('EVALSHA', sha, 1, calls);

  let script = COUNT_CALLS;
  if (ctx.settings.flushScripts) {
    await c.send('SCRIPT', 'FLUSH');
    ctx.note('SCRIPT FLUSH emptied the script cache of the whole server, as a restart or a failover does');
  } else {
    // A script this server has surely never seen, so EVALSHA meets NOSCRIPT without flushing anyone's cache.
    script = `${COUNT_CALLS} -- lab ${randomUUID()}`;
    ctx.note('a script this server has never seen (as after a restart, a failover or SCRIPT FLUSH); its SHA1 computed here:');
  }
  const target = createHash('sha1').update(script).digest('hex');
  const outcome = await evalWithFallback(c, script, target, [calls], ctx);
  return { sha, flushed: ctx.settings.flushScripts, ...outcome };
}

/** EVALSHA, and on NOSCRIPT load the script and try once more: what every client of EVALSHA must do. */
export async function evalWithFallback(c: LabClient, script: string, sha: string, keys: string[], ctx: LabContext) {
  const first = await c.attempt('EVALSHA', sha, keys.length, ...keys);
  if (!first.error) return { noscriptSeen: false, reply: first.reply };
  if (!first.error.message.startsWith('NOSCRIPT')) throw first.error;
  ctx.note('NOSCRIPT: the cache does not have it; the fallback loads the script and retries');
  const loaded = await c.send('SCRIPT', 'LOAD', script);
  if (loaded !== sha) throw new Error(`SCRIPT LOAD answered ${String(loaded)}, expected ${sha}`);
  return { noscriptSeen: true, reply: await c.send('EVALSHA', sha, keys.length, ...keys) };
}
