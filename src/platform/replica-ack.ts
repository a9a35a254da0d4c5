// REDIS_URL=…?waitReplicas=N (Sentinel or Cluster): a new task counts as acknowledged only once N
// replicas hold it. Redis replicates asynchronously, so without this a failover can promote a replica
// that never received tasks the old master already acknowledged (min-replicas-to-write narrows that
// window but does not close it: measured 2 lost of ~10,000 with it set to the number of replicas).
import type { Cluster } from 'ioredis';
import { RedisUnavailableError, isCluster, type Redis } from './redis.js';

/** How long a write waits for its replicas before the caller is told it may not survive a failover. */
export const WAIT_REPLICAS_TIMEOUT_MS = 1000;
/** One WAIT of a worker's hand-over check (see awaitReplicas). */
const WAIT_STEP_MS = 50;
/** How long replicas found lagging are taken to be still lagging, so each task does not wait again. */
const LAGGING_MEMORY_MS = 5000;

/** Bumped on every (re)connection of a server connection: a WAIT on a new connection says nothing about a write sent on the old one. */
const connections = new WeakMap<Redis, { count: number }>();
function connectionCount(node: Redis): { count: number } {
  let counter = connections.get(node);
  if (!counter) {
    const created = { count: 0 };
    node.on('ready', () => created.count++);
    connections.set(node, created);
    counter = created;
  }
  return counter;
}

export class ReplicaAcknowledgement {
  /**
   * @param slotKey on a Cluster, a key of seler's hash tag: WAIT goes to the master that owns its slot
   *   (WAIT names no key, so the Cluster client would otherwise send it to any node).
   */
  constructor(
    private readonly redis: Redis,
    readonly replicas: number,
    private readonly slotKey = '{seler}',
  ) {}

  private slot: number | undefined;

  /**
   * Runs `write` (commands on this connection) and then WAIT. When fewer replicas confirm in time, or
   * the connection (or, on a Cluster, the slot's master) changed meanwhile, the caller gets a 503-class
   * error: the task may still exist and run, but it was not acknowledged, so a retry with the same
   * idempotency key is the safe answer.
   */
  async write<T>(write: () => Promise<T>): Promise<T> {
    if (this.replicas === 0) return write();
    const node = await this.server();
    const connection = node ? connectionCount(node).count : 0;
    const result = await write();
    const after = await this.server();
    if (!node || after !== node || connectionCount(node).count !== connection)
      throw new RedisUnavailableError('Redis changed master while the task was being written, so it may not survive; try again.');
    const confirmed = Number(await node.call('WAIT', this.replicas, WAIT_REPLICAS_TIMEOUT_MS));
    if (connectionCount(node).count !== connection) throw new RedisUnavailableError('Redis changed master while the task was being written, so it may not survive; try again.');
    if (confirmed < this.replicas)
      throw new RedisUnavailableError(
        `only ${confirmed} of the ${this.replicas} replicas REDIS_URL's waitReplicas asks for confirmed the task within ${WAIT_REPLICAS_TIMEOUT_MS} ms, so a failover could lose it; try again.`,
      );
    return result;
  }

  private laggingSince: { connection: number; at: number } | undefined;

  /**
   * Waits until the replicas hold this connection's writes so far (a worker asks it of the write that handed
   * it a task). 'lost': the connection dropped first, so those writes went to a master that is gone or being
   * demoted (Sentinel drops a demoted master's clients; a failover undoes its last writes); 'timed-out': the
   * same master, but its replicas did not catch up within `giveUpAfterMs`. WAIT is asked in short steps: the
   * connection also renews the locks of the tasks running, which must not queue behind a long WAIT. While
   * the replicas have been lagging for a while on this connection (a replica down), it does not wait again.
   */
  async awaitReplicas(giveUpAfterMs: number): Promise<'confirmed' | 'lost' | 'timed-out'> {
    if (this.replicas === 0) return 'confirmed';
    const node = await this.server();
    if (!node) return 'lost';
    const connection = connectionCount(node).count;
    const lagging = this.laggingSince?.connection === connection && Date.now() - this.laggingSince.at < LAGGING_MEMORY_MS;
    const deadline = Date.now() + (lagging ? 0 : giveUpAfterMs);
    for (;;) {
      const confirmed = await node.call('WAIT', this.replicas, WAIT_STEP_MS).then(Number, () => -1);
      if (confirmed < 0 || connectionCount(node).count !== connection || (await this.server()) !== node) return 'lost';
      if (confirmed >= this.replicas) {
        this.laggingSince = undefined;
        return 'confirmed';
      }
      if (Date.now() >= deadline) {
        if (!lagging) this.laggingSince = { connection, at: Date.now() };
        return 'timed-out';
      }
    }
  }

  /** The connection the writes went through: the client itself, or on a Cluster the slot owner's. */
  private async server(): Promise<Redis | undefined> {
    if (!isCluster(this.redis)) return this.redis;
    const cluster = this.redis as unknown as Cluster;
    this.slot ??= Number(await cluster.call('CLUSTER', 'KEYSLOT', this.slotKey));
    const owner = cluster.slots[this.slot]?.[0];
    return cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner) as Redis | undefined;
  }
}
