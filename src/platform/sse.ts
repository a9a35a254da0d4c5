// Server-sent events over a Fastify reply: the headers, the client's retry delay, keep-alive comments,
// and an end when the client goes away or the server shuts down. What the events say is the caller's.
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Reconnect delay the client is told (ms). */
const RETRY_MS = 2000;
/** A comment line this often keeps proxies from closing an idle stream. */
const DEFAULT_HEARTBEAT_MS = 15_000;

export interface EventStream {
  /** Sends one message (`id:` when given, `event:`, `data:` as JSON); nothing once the stream has ended. */
  write(event: string, data: unknown, id?: string): void;
  /** Ends the stream (once; later calls do nothing). */
  close(): void;
  /** True once close() ran (the client left, the server is shutting down, or the caller closed it). */
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
  /** Runs once when the stream ends, before the response is ended (unsubscribe here). */
  onClose?: () => void;
}

/** Takes the reply over (hijack), sends the event-stream headers and the retry delay, and starts the keep-alive. */
export function openEventStream(reply: FastifyReply, options: EventStreamOptions): EventStream {
  let isClosed = false;
  let finish!: () => void;
  const closed = new Promise<void>((resolve) => (finish = resolve));
  const stream: EventStream = {
    write(event, data, id) {
      if (isClosed || reply.raw.writableEnded) return;
      reply.raw.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      options.streams.delete(stream);
      clearInterval(heartbeat);
      options.onClose?.();
      reply.raw.end();
      finish();
    },
    get isClosed() {
      return isClosed;
    },
    closed,
  };
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  reply.raw.write(`retry: ${RETRY_MS}\n\n`);
  const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  reply.raw.on('close', () => stream.close());
  options.streams.add(stream);
  return stream;
}
