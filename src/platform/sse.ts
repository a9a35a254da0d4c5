// Server-sent events over a Fastify reply: the headers, the client's retry delay, keep-alive comments,
// and an end when the client goes away or the server shuts down. What the events say is the caller's.
//
// Limits (per web process, see limitEventStreams): a client that stops reading is dropped once the
// bytes waiting for it pass a bound (it reconnects and resumes with Last-Event-ID), and the number of
// open streams is capped per client address and in total; a stream over a cap is refused before it
// opens, with 429 (this client) or 503 (the server) and Retry-After, in the JSON error contract.
import type { Server } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { tooManyRequests, unavailable } from './errors.js';

/** Reconnect delay the client is told (ms). */
const RETRY_MS = 2000;
/** A comment line this often keeps proxies from closing an idle stream. */
const DEFAULT_HEARTBEAT_MS = 15_000;
/** A stream the server ended is given this long to deliver what it still buffers, then its socket is destroyed. */
const FLUSH_GRACE_MS = 10_000;

export interface EventStreamLimits {
  /** Open streams one client address may hold (SELER_SSE_MAX_PER_CLIENT). */
  maxPerClient: number;
  /** Open streams in this process (SELER_SSE_MAX_TOTAL). */
  maxTotal: number;
  /** Bytes that may wait in the server for one client before it is dropped (SELER_SSE_MAX_BUFFER_KB). */
  maxBufferedBytes: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = { maxPerClient: 20, maxTotal: 500, maxBufferedBytes: 512 * 1024 };

/** What the limiter has seen: for /metrics, logs and tests. */
export interface EventStreamStats {
  open: number;
  /** Open streams per client address. */
  perClient: Record<string, number>;
  /** Bytes buffered in the server for all open streams now (the sockets' writableLength). */
  bufferedBytes: number;
  /** The most bytes ever buffered for one stream. */
  maxBufferedSeen: number;
  /** Streams dropped because their client fell behind. */
  dropped: number;
  /** Streams refused by a cap. */
  refused: { perClient: number; total: number };
}

class StreamGate {
  readonly sockets = new Set<FastifyReply['raw']>();
  readonly perClient = new Map<string, number>();
  dropped = 0;
  maxBufferedSeen = 0;
  refused = { perClient: 0, total: 0 };
  constructor(public limits: EventStreamLimits) {}

  /** Takes a slot for `client` or throws the refusal; the returned function gives it back (once). */
  admit(client: string): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxPerClient) {
      this.refused.perClient++;
      throw tooManyRequests(
        'too_many_streams',
        `This client already has ${mine} event streams open (the limit is ${this.limits.maxPerClient}); close one and try again.`,
        RETRY_MS / 1000,
      );
    }
    if (this.sockets.size >= this.limits.maxTotal) {
      this.refused.total++;
      throw unavailable('too_many_streams', `The server has its limit of ${this.limits.maxTotal} event streams open; try again shortly.`, RETRY_MS / 1000);
    }
    this.perClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
  }

  stats(): EventStreamStats {
    let bufferedBytes = 0;
    for (const raw of this.sockets) bufferedBytes += raw.writableLength;
    return {
      open: this.sockets.size,
      perClient: Object.fromEntries(this.perClient),
      bufferedBytes,
      maxBufferedSeen: this.maxBufferedSeen,
      dropped: this.dropped,
      refused: { ...this.refused },
    };
  }
}

// One gate per HTTP server, so every encapsulated Fastify context of one server shares the counts.
const gates = new WeakMap<Server, StreamGate>();

function gateOf(app: FastifyInstance): StreamGate {
  const server = app.server;
  let gate = gates.get(server);
  if (!gate) gates.set(server, (gate = new StreamGate({ ...DEFAULT_EVENT_STREAM_LIMITS })));
  return gate;
}

/** Sets the limits of every event stream of `app`'s server (call before it listens; defaults otherwise). */
export function limitEventStreams(app: FastifyInstance, limits: Partial<EventStreamLimits>): void {
  const gate = gateOf(app);
  gate.limits = { ...gate.limits, ...limits };
}

/** The limiter's counters for `app`'s server. */
export function eventStreamStats(app: FastifyInstance): EventStreamStats {
  return gateOf(app).stats();
}

export interface EventStream {
  /** Sends one message (`id:` when given, `event:`, `data:` as JSON); nothing once the stream has ended. */
  write(event: string, data: unknown, id?: string): void;
  /** Ends the stream (once; later calls do nothing). */
  close(): void;
  /** True once close() ran (the client left, fell behind, the server is shutting down, or the caller closed it). */
  readonly isClosed: boolean;
  /** Settles when the stream has ended: a hijacked handler awaits it. */
  readonly closed: Promise<void>;
}

/** The streams open on one server; they end when it shuts down, or they would hold the shutdown open. */
export type OpenStreams = Set<EventStream>;

/** A set of open streams that a `preClose` hook of `app` ends. */
export function closeStreamsOnShutdown(app: FastifyInstance): OpenStreams {
  const open: OpenStreams = new Set();
  app.addHook('preClose', async () => {
    for (const stream of [...open]) stream.close();
  });
  return open;
}

export interface EventStreamOptions {
  /** Where the stream is listed while open (see closeStreamsOnShutdown). */
  streams: OpenStreams;
  heartbeatMs?: number;
  /**
   * Runs once when the stream ends, before the response is ended (unsubscribe here); also when the
   * stream is refused by a cap (openEventStream then throws the refusal and nothing was sent).
   */
  onClose?: () => void;
}

/**
 * Takes the reply over (hijack), sends the event-stream headers and the retry delay, and starts the
 * keep-alive. Throws a 429 / 503 AppError, before anything is sent, when a cap refuses the stream.
 */
export function openEventStream(reply: FastifyReply, options: EventStreamOptions): EventStream {
  const gate = gateOf(reply.server);
  const raw = reply.raw;
  let release: () => void;
  try {
    release = gate.admit(reply.request.ip ?? 'unknown');
  } catch (err) {
    options.onClose?.();
    throw err;
  }
  gate.sockets.add(raw);

  let isClosed = false;
  let finish!: () => void;
  const closed = new Promise<void>((resolve) => (finish = resolve));
  /** Writes, and drops the client when what waits for it passes the bound (end() would wait for a reader that never reads). */
  const send = (chunk: string) => {
    if (isClosed || raw.writableEnded || raw.destroyed) return;
    const flushed = raw.write(chunk);
    const buffered = raw.writableLength;
    if (buffered > gate.maxBufferedSeen) gate.maxBufferedSeen = buffered;
    if (!flushed && buffered > gate.limits.maxBufferedBytes) {
      gate.dropped++;
      reply.log.warn({ client: reply.request.ip, bufferedBytes: buffered }, 'event stream dropped: the client is not reading (it may resume with Last-Event-ID)');
      stream.close();
      raw.destroy();
    }
  };
  const stream: EventStream = {
    write(event, data, id) {
      send(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      options.streams.delete(stream);
      clearInterval(heartbeat);
      options.onClose?.();
      if (!raw.destroyed) {
        raw.end();
        // A client that does not read what is left would keep the socket (and its buffer) forever.
        if (!raw.writableFinished) setTimeout(() => raw.destroy(), FLUSH_GRACE_MS).unref();
      }
      finish();
    },
    get isClosed() {
      return isClosed;
    },
    closed,
  };
  // The slot is the socket's: it is given back when the connection's response is over, however it ended.
  raw.once('close', () => {
    gate.sockets.delete(raw);
    release();
    stream.close();
  });
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const heartbeat = setInterval(() => send(': keep-alive\n\n'), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  options.streams.add(stream);
  send(`retry: ${RETRY_MS}\n\n`);
  // The client may have gone while the handler was still working: its 'close' has already fired.
  if (!raw.socket || raw.socket.destroyed) {
    gate.sockets.delete(raw);
    release();
    stream.close();
  }
  return stream;
}
