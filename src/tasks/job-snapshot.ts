// A task as of one moment: its job hash and where BullMQ keeps it, read by one script (one command:
// a status read, once per SSE event, costs Redis one call instead of a MULTI of eleven).
// BullMQ's Job.fromId and queue.getJobState are two commands. A worker in another process can finish
// the job between them, and the reader then sees a finished state with the hash of the running job:
// SUCCESS without its result, FAILURE without its error. (After a Redis restart the state script is
// not cached yet, so its EVALSHA fails with NOSCRIPT and the EVAL comes one round trip later: a wide
// window, exactly when a worker runs the tasks that waited for the restart.)
import { luaScript } from '../platform/lua.js';
import type { Redis } from '../platform/redis.js';
import { JOB_FIELD as F, LEGACY_ATTEMPTS_MADE_FIELD, QUEUE_KEY as K, type QueueKeyType } from './bull-layout.js';

const SNAPSHOT = luaScript(import.meta.url, './lua/job-snapshot-10.lua');

/** BullMQ's state names, as queue.getJobState() gives them. */
export type BullState = 'completed' | 'failed' | 'delayed' | 'prioritized' | 'active' | 'waiting' | 'waiting-children' | 'unknown';

export interface JobSnapshot {
  state: BullState;
  name: string;
  data: unknown;
  timestamp: number;
  attemptsMade: number;
  progress: unknown;
  processedOn?: number;
  finishedOn?: number;
  returnvalue: unknown;
  failedReason?: string;
  stacktrace: string[];
  /** The job hash as stored, for fields seler writes itself. */
  fields: Record<string, string>;
  /** In the sorted set `revokedKey` (when given). */
  revoked: boolean;
}

/** Where a job of each state is, in the order of BullMQ's getStateV2 script (lua/job-snapshot-10.lua: its keys 2 to 9, the lists at 6 to 8). */
const STATE_KEY_TYPES: readonly (readonly [QueueKeyType, BullState])[] = [
  [K.completed, 'completed'],
  [K.failed, 'failed'],
  [K.delayed, 'delayed'],
  [K.prioritized, 'prioritized'],
  [K.active, 'active'],
  [K.wait, 'waiting'],
  [K.paused, 'waiting'],
  [K.waitingChildren, 'waiting-children'],
];

/** Reads job `id` of `queue` and its state (and whether it is in `revokedKey`) atomically; undefined when there is no such job. */
export async function readJobSnapshot(redis: Redis, queue: { toKey(type: string): string }, id: string, revokedKey?: string): Promise<JobSnapshot | undefined> {
  const jobKey = queue.toKey(id);
  const keys = [jobKey, ...STATE_KEY_TYPES.map(([type]) => queue.toKey(type)), revokedKey ?? jobKey];
  const reply = await SNAPSHOT.run<[number, number, string[]] | []>(redis, keys, [id, revokedKey ? '1' : '0']);
  if (reply.length === 0) return undefined;
  const [stateIndex, revoked, list] = reply;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) fields[list[i]!] = list[i + 1]!;
  return {
    state: STATE_KEY_TYPES[stateIndex - 1]?.[1] ?? 'unknown',
    name: fields[F.name] ?? '',
    data: parseJson(fields[F.data], {}),
    timestamp: Number(fields[F.timestamp]),
    attemptsMade: Number(fields[LEGACY_ATTEMPTS_MADE_FIELD] || fields[F.attemptsMade] || 0),
    progress: parseJson(fields[F.progress], 0),
    processedOn: fields[F.processedOn] ? Number(fields[F.processedOn]) : undefined,
    finishedOn: fields[F.finishedOn] ? Number(fields[F.finishedOn]) : undefined,
    returnvalue: fields[F.returnvalue] === undefined ? null : parseJson(fields[F.returnvalue], undefined),
    failedReason: fields[F.failedReason],
    stacktrace: traces(fields[F.stacktrace]),
    fields,
    revoked: revoked === 1,
  };
}

/** Parsed as BullMQ parses it; `fallback` for a missing or malformed value. */
function parseJson(raw: string | undefined, fallback: unknown): unknown {
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return fallback;
  }
}

function traces(raw: string | undefined): string[] {
  const parsed = parseJson(raw, []);
  return Array.isArray(parsed) ? (parsed as string[]) : [];
}
