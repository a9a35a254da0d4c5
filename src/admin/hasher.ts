// scrypt in dedicated worker threads, never on libuv's threadpool: Node's async crypto.scrypt runs
// there, next to every fs call, so a log-in flood used to starve uploads and file serving. The
// workers run scryptSync on their own threads; the queue in front of them is bounded, and a full
// queue answers 503 `busy` (with Retry-After) instead of piling up work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { adminError } from './errors.js';

export interface ScryptJob {
  password: string;
  salt: Buffer;
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

// Plain CommonJS evaluated as the worker: no file to locate (works from src/ under vitest and from dist/).
const WORKER_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const key = scryptSync(job.password, Buffer.from(job.salt), job.keyLength, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    parentPort.postMessage({ id: job.id, key, threadId });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String(err && err.message || err), threadId });
  }
});
`;

interface Pending {
  id: number;
  job: ScryptJob;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

export interface HasherStats {
  /** Derivations finished (successfully or not). */
  completed: number;
  /** Thread ids the derivations ran on (never 0, the main thread). */
  threadIds: Set<number>;
  /** Jobs waiting right now, and refused because the queue was full. */
  queued: number;
  refused: number;
}

export class Hasher {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly alive = new Set<Worker>();
  private nextId = 1;
  readonly stats: HasherStats = { completed: 0, threadIds: new Set(), queued: 0, refused: 0 };

  constructor(
    readonly size = Math.max(1, Math.min(2, availableParallelism() - 1)),
    readonly maxQueue = 64,
  ) {}

  derive(job: ScryptJob): Promise<Buffer> {
    if (this.queue.length >= this.maxQueue) {
      this.stats.refused++;
      return Promise.reject(adminError.busy());
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.stats.queued = this.queue.length;
      this.pump();
    });
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref(); // an idle thread never keeps the process alive
    this.alive.add(worker);
    worker.on('message', (msg: { id: number; key?: Uint8Array; error?: string; threadId: number }) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      this.stats.completed++;
      this.stats.threadIds.add(msg.threadId);
      if (pending) {
        if (msg.error !== undefined || !msg.key) pending.reject(new Error(`scrypt failed: ${msg.error}`));
        else pending.resolve(Buffer.from(msg.key.buffer, msg.key.byteOffset, msg.key.byteLength));
      }
      worker.unref();
      this.idle.push(worker);
      this.pump();
    });
    const gone = (err: Error) => {
      // A dead worker fails its job, leaves the pool, and a new one is made on demand.
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.alive.delete(worker);
      pending?.reject(err);
      this.pump();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the hashing thread exited (code ${code})`)));
    return worker;
  }

  private pump(): void {
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.alive.size < this.size ? this.spawn() : undefined);
      if (!worker) break;
      const pending = this.queue.shift()!;
      this.stats.queued = this.queue.length;
      this.busy.set(worker, pending);
      worker.ref(); // a job in flight keeps the process alive (e.g. `seler createsuperuser`)
      const { job } = pending;
      worker.postMessage({ id: pending.id, password: job.password, salt: job.salt, N: job.N, r: job.r, p: job.p, keyLength: job.keyLength, maxmem: 256 * job.N * job.r + 1024 * 1024 });
    }
  }

  /** Stops the threads (tests; the process does not need it, the threads are unref'd). */
  async close(): Promise<void> {
    const all = [...this.alive];
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }
}

/** The process's hasher: every password hash and check goes through it. */
export const hasher = new Hasher();
