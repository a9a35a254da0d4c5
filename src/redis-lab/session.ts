// One exercise's run: its recorded steps, its extra connections and the cleanup of its keys.
import { performance } from 'node:perf_hooks';
import { connectRedis, type Redis } from '../platform/redis.js';
import { errorMessage } from '../platform/errors.js';
import { formatCommand } from './render.js';
import type { Arg, LabClient, LabContext, LabEvent, LabSettings, Step } from './types.js';

/** Keys that outlive a single run and must survive the cleanup (see keyspace.ts). */
export const PRESERVED_KEYS = new Set(['lab:keyspace:lock']);

export async function openLabConnection(settings: LabSettings, label: string): Promise<Redis> {
  // One retry at most: a learner wants a clear failure, not a client quietly retrying for a minute.
  return connectRedis(settings.redisUrl, {
    name: `seler-lab-${label}`,
    connectTimeoutMs: settings.connectTimeoutMs,
    maxRetriesPerRequest: 1,
  });
}

export class Session implements LabContext {
  readonly steps: Step[] = [];
  readonly main: LabClient;
  readonly db: number;
  private readonly extra: Redis[] = [];

  constructor(
    readonly settings: LabSettings,
    readonly exercise: string,
    mainRedis: Redis,
  ) {
    this.main = this.client(mainRedis);
    this.db = mainRedis.options.db ?? 0;
  }

  get signal(): AbortSignal {
    return this.settings.signal;
  }

  get keyPrefix(): string {
    return `${this.settings.prefix}:${this.exercise}:`;
  }

  key(...parts: string[]): string {
    return this.keyPrefix + parts.join(':');
  }

  async connect(label: string): Promise<LabClient> {
    const redis = await openLabConnection(this.settings, label);
    this.extra.push(redis);
    return this.client(redis, label);
  }

  note(text: string): void {
    this.steps.push({ note: text });
    this.emit({ type: 'note', text });
  }

  emit(event: LabEvent): void {
    this.settings.onEvent?.(event);
  }

  /** Closes the extra connections and deletes every key under the exercise's prefix. */
  async cleanup(): Promise<void> {
    for (const redis of this.extra.splice(0)) redis.disconnect();
    await deleteByPrefix(this.main.redis, this.keyPrefix);
  }

  client(redis: Redis, label?: string): LabClient {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the methods of the client below have a `this` of their own
    const session = this;
    const record = (shown: { line: string; script?: string }): Step => {
      const step: Step = { ...(label ? { client: label } : {}), command: shown.line, ...(shown.script ? { script: shown.script } : {}) };
      session.steps.push(step);
      session.emit({ type: 'send', client: label, command: shown.line, script: shown.script });
      return step;
    };
    const finish = (step: Step, started: number, outcome: { reply?: unknown; error?: unknown }) => {
      step.ms = Math.round((performance.now() - started) * 10) / 10;
      if (outcome.error !== undefined) step.error = errorMessage(outcome.error);
      else step.reply = outcome.reply;
      session.emit({ type: 'reply', client: label, reply: step.reply, error: step.error, ms: step.ms });
    };
    const call = async (buffer: boolean, command: string, args: Arg[]) => {
      const step = record(formatCommand(command, args));
      const started = performance.now();
      try {
        const reply = buffer ? await redis.callBuffer(command, ...args) : await redis.call(command, ...args);
        finish(step, started, { reply });
        return reply;
      } catch (error) {
        finish(step, started, { error });
        throw error;
      }
    };
    return {
      redis,
      label,
      send: (command, ...args) => call(false, command, args),
      sendBuffer: (command, ...args) => call(true, command, args),
      async attempt(command, ...args) {
        try {
          return { reply: await call(false, command, args) };
        } catch (error) {
          return { error: error instanceof Error ? error : new Error(String(error)) };
        }
      },
      async run(shown, action, toReply = (value) => value) {
        const step = record({ line: shown });
        const started = performance.now();
        try {
          const value = await action();
          finish(step, started, { reply: toReply(value) });
          return value;
        } catch (error) {
          finish(step, started, { error });
          throw error;
        }
      },
      received(reply) {
        const step: Step = { ...(label ? { client: label } : {}), reply };
        session.steps.push(step);
        session.emit({ type: 'reply', client: label, reply });
      },
    };
  }
}

/** SCAN (never KEYS) for the prefix and UNLINK what matches, sparing PRESERVED_KEYS. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  const doomed = (await keysByPrefix(redis, prefix)).filter((key) => !PRESERVED_KEYS.has(key));
  for (let i = 0; i < doomed.length; i += 500) await redis.unlink(...doomed.slice(i, i + 500));
}

export async function keysByPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const pattern = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}
