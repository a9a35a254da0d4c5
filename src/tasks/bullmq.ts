// BullMQ, loaded with require and only when first used. require: importing a CommonJS package from ESM makes
// Node first scan every file it re-exports for export names, doubling its load time (see platform/redis.ts).
// Lazily: `seler result` and `seler inspect` read Redis directly and never need it. Types come from 'bullmq'.
import { createRequire } from 'node:module';
import type * as BullMQ from 'bullmq';

let loaded: typeof BullMQ | undefined;

export function bullmq(): typeof BullMQ {
  loaded ??= createRequire(import.meta.url)('bullmq') as typeof BullMQ;
  return loaded;
}

export type { FlowJob, FlowProducer, IQueueBackend, Job, JobsOptions, Queue, Worker } from 'bullmq';
