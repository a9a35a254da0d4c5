// Celery's canvas on BullMQ flows.
//   chain(a, b, c): each result is prepended to the next task's args; if one fails, the rest fail
//     ("dependency failed") instead of waiting for ever (Celery leaves them PENDING).
//   group(a, b, c): run in parallel; results collected in the order given.
//   chord(group, callback): the callback gets the list of the group's results, in order; if any member
//     fails, the callback fails without running (Celery's ChordError).
// A flow's parent job waits in BullMQ's waiting-children state, which reads as PENDING.
import { randomUUID } from 'node:crypto';
import { bullmq, type FlowJob, type FlowProducer } from './bullmq.js';
import { taskError } from './errors.js';
import type { Keyspace, Redis } from '../platform/redis.js';
import type { ReplicaAcknowledgement } from '../platform/replica-ack.js';
import type { Queue } from './bullmq.js';
import type { TaskView } from './contract.js';
import type { EnqueueOptions, PreparedJob, Retention } from './job-shape.js';
import { isReady } from './states.js';

export interface Signature {
  task: string;
  options?: Omit<EnqueueOptions, 'taskId' | 'idempotencyKey' | 'skipArgsCheck'>;
  /** Celery's immutable signature (`.si()`): do not prepend the previous result. */
  immutable?: boolean;
}

export const signature = (task: string, options: Signature['options'] = {}, immutable = false): Signature => ({ task, options, immutable });

/** What the canvas uses of the task client (its TaskClient, described here so neither module needs the other to load). */
export interface CanvasClient {
  readonly redis: Redis;
  readonly bullPrefix: string;
  readonly keys: Keyspace;
  readonly retention: Retention;
  readonly replicaAck: ReplicaAcknowledgement;
  prepare(name: string, options?: EnqueueOptions): PreparedJob;
  queue(name: string): Queue;
  getTask(id: string): Promise<TaskView | null>;
}

export class Canvas {
  private producer: FlowProducer | undefined;

  constructor(private readonly client: CanvasClient) {}

  private flows(): FlowProducer {
    this.producer ??= new (bullmq().FlowProducer)({ connection: this.client.redis, prefix: this.client.bullPrefix });
    return this.producer;
  }

  private node(sig: Signature, receives: boolean, children: FlowJob[] = [], extra: Partial<PreparedJob['payload']> = {}): { flow: FlowJob; prepared: PreparedJob } {
    const prepared = this.client.prepare(sig.task, { ...sig.options, skipArgsCheck: receives });
    const payload = { ...prepared.payload, ...extra };
    const flow: FlowJob = {
      name: prepared.name,
      queueName: prepared.queue,
      data: payload,
      prefix: this.client.bullPrefix,
      opts: { ...prepared.opts, failParentOnFailure: true },
      ...(children.length ? { children } : {}),
    };
    this.client.queue(prepared.queue); // so results in this queue can be found
    return { flow, prepared };
  }

  /** Returns the id of the last task (its result is the chain's result) and every id, first to last. */
  async chain(signatures: Signature[]): Promise<{ id: string; ids: string[] }> {
    if (signatures.length === 0) throw taskError.empty_chain();
    let child: FlowJob | undefined;
    const prepared: PreparedJob[] = [];
    signatures.forEach((sig, index) => {
      const receives = index > 0 && !sig.immutable;
      const { flow, prepared: p } = this.node(sig, receives, child ? [child] : [], receives ? { receives: { kind: 'chain' } } : {});
      child = flow;
      prepared.push(p);
    });
    await this.client.replicaAck.write(() => this.flows().add(child!));
    return { id: prepared.at(-1)!.id, ids: prepared.map((p) => p.id) };
  }

  /** Queues the tasks in parallel and remembers the group, so its results can be collected in order. */
  async group(signatures: Signature[]): Promise<{ groupId: string; ids: string[] }> {
    if (signatures.length === 0) throw taskError.empty_group();
    const prepared = signatures.map((sig) => this.client.prepare(sig.task, sig.options));
    const groupId = randomUUID();
    await this.client.replicaAck.write(() => Promise.all(prepared.map((p) => this.client.queue(p.queue).add(p.name, p.payload, p.opts))));
    const key = this.client.keys.key('group', groupId);
    await this.client.redis.set(key, JSON.stringify(prepared.map((p) => p.id)), 'EX', this.client.retention.successSeconds);
    return { groupId, ids: prepared.map((p) => p.id) };
  }

  async chord(header: Signature[], callback: Signature): Promise<{ id: string; ids: string[] }> {
    if (header.length === 0) throw taskError.empty_chord();
    const members = header.map((sig) => this.node(sig, false));
    const order = members.map((m) => m.prepared.id);
    const { flow, prepared } = this.node(
      callback,
      !callback.immutable,
      members.map((m) => m.flow),
      callback.immutable ? {} : { receives: { kind: 'chord', order } },
    );
    await this.client.replicaAck.write(() => this.flows().add(flow));
    return { id: prepared.id, ids: order };
  }

  /** The tasks of a group, in the order given; undefined when the group is unknown or expired. */
  async groupResults(groupId: string): Promise<TaskView[] | undefined> {
    const ids = await this.client.redis.get(this.client.keys.key('group', groupId));
    if (!ids) return undefined;
    const views = await Promise.all((JSON.parse(ids) as string[]).map((id) => this.client.getTask(id)));
    return views.filter((v): v is TaskView => v !== null);
  }

  static groupReady(views: TaskView[]): boolean {
    return views.every((v) => isReady(v.status));
  }

  async close(): Promise<void> {
    await this.producer?.close();
  }
}
