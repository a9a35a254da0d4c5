// The shapes shared by the lab's exercises, the runner and the printer.
import type { Redis } from '../platform/redis.js';

export type Arg = string | number | Buffer;

/** One command and its reply (or a note): what the learner sees, in order. */
export interface Step {
  /** Which connection sent it, when an exercise uses more than one (`consumer`, `producer`…). */
  client?: string;
  command?: string;
  /** A multi-line argument (a Lua script), shown below the command instead of inline. */
  script?: string;
  reply?: unknown;
  error?: string;
  /** Time from sending to the reply, in milliseconds. */
  ms?: number;
  note?: string;
}

export interface ExerciseResult {
  exercise: string;
  ok: boolean;
  steps: Step[];
  /** Exercise-specific findings (`speedup`, `lostEntries`, …) for --json and for the tests. */
  facts: Record<string, unknown>;
  error?: string;
  durationMs: number;
}

export type LabEvent =
  | { type: 'start'; exercise: Exercise }
  | { type: 'send'; client?: string; command: string; script?: string }
  | { type: 'reply'; client?: string; reply?: unknown; error?: string; ms?: number }
  | { type: 'note'; text: string }
  | { type: 'end'; result: ExerciseResult };

export interface LabSettings {
  redisUrl: string;
  /** Keys are `<prefix>:<exercise>:…`; `lab` unless --prefix says otherwise. */
  prefix: string;
  /** The bound for anything that blocks or listens. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Keep the listener open after the demonstration until the signal aborts. */
  listen: boolean;
  /** Let the lua exercise run SCRIPT FLUSH (server-wide) to show NOSCRIPT for real. */
  flushScripts: boolean;
  /** Benchmark rounds of the pipeline exercise. */
  rounds: number;
  signal: AbortSignal;
  onEvent?: (event: LabEvent) => void;
}

/** A connection that records every command it sends and the reply it gets. */
export interface LabClient {
  readonly redis: Redis;
  readonly label?: string;
  send(command: string, ...args: Arg[]): Promise<unknown>;
  /** Like send, but bulk replies stay raw bytes (Buffers). */
  sendBuffer(command: string, ...args: Arg[]): Promise<unknown>;
  /** For commands expected to fail: the error is recorded and returned, not thrown. */
  attempt(command: string, ...args: Arg[]): Promise<{ reply?: unknown; error?: Error }>;
  /** Records `shown` as the command and whatever `action` returns as its reply. */
  run<T>(shown: string, action: () => Promise<T>, toReply?: (value: T) => unknown): Promise<T>;
  /** Records a reply that arrived without a command (a pub/sub message, a notification). */
  received(reply: unknown): void;
}

export interface LabContext {
  readonly settings: LabSettings;
  readonly exercise: string;
  readonly main: LabClient;
  /** Database number of the connection (keyspace channels name it). */
  readonly db: number;
  /** `<prefix>:<exercise>:<parts…>` */
  key(...parts: string[]): string;
  /** Another connection, closed when the exercise ends. */
  connect(label: string): Promise<LabClient>;
  note(text: string): void;
  readonly signal: AbortSignal;
}

export interface Exercise {
  name: string;
  /** The MISSION rows it covers, e.g. `R5, R10`. */
  rows: string;
  summary: string;
  /** True when --listen changes what it does. */
  listens?: boolean;
  run(ctx: LabContext): Promise<Record<string, unknown>>;
}

/** The server refuses what the exercise needs (CONFIG, ACL…); the message explains why, no stack. */
export class LabRefusal extends Error {
  override name = 'LabRefusal';
}
