// R15: keyspace notifications. The server publishes an event for every change, once switched on.
import { randomUUID } from 'node:crypto';
import type { Redis } from '../../platform/redis.js';
import { errorMessage } from '../../platform/errors.js';
import { LabRefusal, type Exercise, type LabClient, type LabContext } from '../types.js';
import { Inbox, LabTimeout, redisCliCommand, sleep, untilAborted } from './support.js';

const SETTING = 'notify-keyspace-events';
/** Shared by every run against this Redis, whatever its --prefix: the setting is server-wide. */
export const LOCK_KEY = 'lab:keyspace:lock';
const LOCK_TTL_MS = 30_000;

export const keyspace: Exercise = {
  name: 'keyspace',
  rows: 'R15',
  summary: 'notify-keyspace-events K$ on one key, then E$ on every SET; the old setting is restored',
  listens: true,
  async run(ctx) {
    const c = ctx.main;
    const probe = await c.attempt('CONFIG', 'GET', SETTING);
    if (probe.error) throw refusal(probe.error);

    const lock = await acquireKeyspaceLock(c.redis, ctx.settings.timeoutMs, ctx.signal);
    try {
      // Read again under the lock: another run may have changed the setting while we waited.
      const previous = await currentSetting(c.redis);
      try {
        return { previous, ...(await demonstrate(ctx, previous)) };
      } finally {
        // Only if it changed: a server refusing CONFIG SET must not turn into a second error here.
        if ((await currentSetting(c.redis)) !== previous) {
          await c.send('CONFIG', 'SET', SETTING, previous);
          ctx.note(`restored ${SETTING} to "${previous}"`);
        }
      }
    } finally {
      await lock.release();
    }
  },
};

async function currentSetting(redis: Redis): Promise<string> {
  const reply = (await redis.call('CONFIG', 'GET', SETTING)) as string[];
  return String(reply[1] ?? '');
}

async function demonstrate(ctx: LabContext, previous: string) {
  const c = ctx.main;
  const watched = ctx.key('watched');
  const spaceChannel = `__keyspace@${ctx.db}__:${watched}`;
  const subscriber = await ctx.connect('subscriber');
  const inbox = new Inbox<[string, string]>();
  subscriber.redis.on('message', (channel: string, message: string) => inbox.push([channel, message]));
  const next = async (what: string) => {
    const [channel, message] = await inbox.next(ctx.settings.timeoutMs, what, ctx.signal);
    subscriber.received(['message', channel, message]);
    return message;
  };

  // Flags are added to the old setting, so an application relying on it keeps its events meanwhile.
  const set = await c.attempt('CONFIG', 'SET', SETTING, `${previous}K$`);
  if (set.error) throw refusal(set.error);
  ctx.note('K = keyspace channel (__keyspace@<db>__:<key>, the message is the command), $ = string commands');
  await subscriber.run(`SUBSCRIBE ${spaceChannel}`, () => subscriber.redis.subscribe(spaceChannel), (n) => ['subscribe', spaceChannel, n]);

  const keyspaceEvents: string[] = [];
  await c.send('SET', watched, 15);
  keyspaceEvents.push(await next('the "set" event'));
  await c.send('APPEND', watched, 11);
  keyspaceEvents.push(await next('the "append" event'));
  await c.send('DEL', watched);
  await c.send('LPUSH', watched, 'x');
  ctx.note('DEL and LPUSH sent no event: DEL is a generic command (g), LPUSH a list command (l), and only $ is on');
  await c.send('CONFIG', 'SET', SETTING, `${previous}K$l`);
  await c.send('LPUSH', watched, 'y');
  keyspaceEvents.push(await next('the "lpush" event'));
  await subscriber.run(`UNSUBSCRIBE ${spaceChannel}`, () => subscriber.redis.unsubscribe(spaceChannel), (n) => ['unsubscribe', spaceChannel, n]);

  const eventChannel = `__keyevent@${ctx.db}__:set`;
  await c.send('CONFIG', 'SET', SETTING, `${previous}E$`);
  ctx.note('E = keyevent channel (__keyevent@<db>__:<command>, the message is the key): every SET in this database');
  await subscriber.run(`SUBSCRIBE ${eventChannel}`, () => subscriber.redis.subscribe(eventChannel), (n) => ['subscribe', eventChannel, n]);
  const setKeys = [ctx.key('a'), ctx.key('b')];
  const keyeventKeys: string[] = [];
  for (const key of setKeys) await c.send('SET', key, 'v');
  let foreign = 0;
  while (keyeventKeys.length < setKeys.length) {
    const [channel, key] = await inbox.next(ctx.settings.timeoutMs, `the "set" event for ${setKeys[keyeventKeys.length]}`, ctx.signal);
    if (!key.startsWith(ctx.key(''))) {
      foreign++; // other clients' SETs in the same database: not ours to show
      continue;
    }
    subscriber.received(['message', channel, key]);
    keyeventKeys.push(key);
  }
  if (foreign) ctx.note(`${foreign} SET events of other clients' keys were not shown`);
  const during = await currentSetting(c.redis);
  await subscriber.run(`UNSUBSCRIBE ${eventChannel}`, () => subscriber.redis.unsubscribe(eventChannel), (n) => ['unsubscribe', eventChannel, n]);

  if (ctx.settings.listen) await listen(ctx, subscriber, watched, previous);
  return { keyspaceEvents, keyeventKeys, settingDuring: during, foreignEvents: foreign };
}

async function listen(ctx: LabContext, subscriber: LabClient, watched: string, previous: string) {
  await ctx.main.send('CONFIG', 'SET', SETTING, `${previous}KEA`);
  const pattern = `__keyspace@${ctx.db}__:${ctx.key('*')}`;
  subscriber.redis.removeAllListeners('message');
  await subscriber.run(`PSUBSCRIBE ${pattern}`, () => subscriber.redis.psubscribe(pattern), (n) => ['psubscribe', pattern, n]);
  subscriber.redis.on('pmessage', (_p: string, channel: string, message: string) => {
    if (!channel.endsWith(`:${LOCK_KEY}`)) subscriber.received(['pmessage', pattern, channel, message]);
  });
  ctx.note(`listening to every change of ${ctx.key('*')} (Ctrl-C stops and restores the setting); from another terminal:`);
  ctx.note(`  ${redisCliCommand(ctx.settings.redisUrl, ctx.db)} SET ${watched} 1`);
  await untilAborted(ctx.signal);
}

function refusal(error: Error): LabRefusal {
  return new LabRefusal(
    `This Redis refuses CONFIG (${errorMessage(error)}), which keyspace notifications need to be switched on; ` +
      `managed services often disable it: set ${SETTING} in the provider's settings or use a Redis you run. Nothing was changed.`,
  );
}

/** One keyspace run per server at a time, or two runs would each restore the other's setting. */
export async function acquireKeyspaceLock(redis: Redis, timeoutMs: number, signal: AbortSignal) {
  const token = randomUUID();
  const deadline = Date.now() + timeoutMs;
  while ((await redis.set(LOCK_KEY, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline)
      throw new LabTimeout(`another "seler lab keyspace" has been running against this Redis for more than ${timeoutMs} ms (lock ${LOCK_KEY}); try again when it ends`);
    await sleep(50, signal);
  }
  // Long --listen sessions keep the lock alive; a crashed run frees it after LOCK_TTL_MS.
  const renew = setInterval(() => void redis.call('EVAL', RENEW, 1, LOCK_KEY, token, LOCK_TTL_MS).catch(() => {}), LOCK_TTL_MS / 3);
  return {
    async release() {
      clearInterval(renew);
      await redis.call('EVAL', RELEASE, 1, LOCK_KEY, token);
    },
  };
}

/** KEYS[1]: lock. ARGV[1]: our token, ARGV[2]: ttl ms. Returns 1 if still ours and extended, else 0. */
const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
/** KEYS[1]: lock. ARGV[1]: our token. Returns 1 if it was ours and is deleted, else 0. */
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
