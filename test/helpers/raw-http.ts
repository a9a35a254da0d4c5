// HTTP over a raw TCP socket (node:net), for what fetch cannot do: send raw bytes in multipart
// headers, stop half-way through a body, end a body without its closing boundary, reset the connection.
import net from 'node:net';

export interface RawPart {
  field: string;
  /** Bytes as they go on the wire (a Buffer for invalid UTF-8); omitted for a plain field. */
  filename?: string | Buffer;
  /** Sent as `filename*=` (RFC 5987) instead of `filename=` when set. */
  filenameStar?: string;
  data: Buffer | string;
  type?: string;
}

export const BOUNDARY = '----selerRawBoundary7MA4YWxkTrZu0gW';

/** A multipart body; `closing: false` leaves out the closing boundary. */
export function multipartBody(parts: RawPart[], options: { closing?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition: (string | Buffer)[] = [`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.field}"`];
    if (p.filenameStar !== undefined) disposition.push(`; filename*=${p.filenameStar}`);
    else if (p.filename !== undefined) disposition.push('; filename="', p.filename, '"');
    disposition.push('\r\n');
    if (p.filename !== undefined || p.filenameStar !== undefined) disposition.push(`Content-Type: ${p.type ?? 'application/octet-stream'}\r\n`);
    disposition.push('\r\n');
    chunks.push(...disposition.map((d) => (typeof d === 'string' ? Buffer.from(d, 'latin1') : d)));
    chunks.push(typeof p.data === 'string' ? Buffer.from(p.data) : p.data, Buffer.from('\r\n'));
  }
  if (options.closing !== false) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const out: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const lineEnd = body.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = parseInt(body.subarray(at, lineEnd).toString(), 16);
      if (!size) break;
      out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(out);
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: body.toString('utf8') };
}

export interface RawSendOptions {
  path?: string;
  headers?: Record<string, string>;
  /** Content-Length to announce (default: the body's length). */
  contentLength?: number;
  /** Send the body with Transfer-Encoding: chunked (64 KB chunks) and no Content-Length. */
  chunked?: boolean;
  /** Send only this many bytes of the body. */
  sendBytes?: number;
  /** After sending: 'wait' for the response (default), 'destroy' the socket, 'reset' it (RST), 'end' (half-close, then wait). */
  then?: 'wait' | 'destroy' | 'reset' | 'end';
  /** Milliseconds to pause before destroying, so the server has read what was sent. */
  pauseMs?: number;
  timeoutMs?: number;
}

/** Sends a POST by hand; resolves with the response, or undefined when the socket was torn down on purpose. */
export function rawPost(baseUrl: string, body: Buffer, options: RawSendOptions = {}): Promise<RawResponse | undefined> {
  const url = new URL(baseUrl);
  let sent = body.subarray(0, options.sendBytes ?? body.length);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(options.contentLength ?? body.length) }),
    connection: 'close',
    ...options.headers,
  };
  if (options.chunked) {
    const framed: Buffer[] = [];
    for (let at = 0; at < sent.length; at += 65536) {
      const piece = sent.subarray(at, at + 65536);
      framed.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    if (options.sendBytes === undefined) framed.push(Buffer.from('0\r\n\r\n'));
    sent = Buffer.concat(framed);
  }
  const head = `POST ${options.path ?? '/api/v1/thumbnails'} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${options.timeoutMs ?? 15_000} ms`));
    }, options.timeoutMs ?? 15_000);
    socket.on('data', (d) => received.push(d));
    socket.on('error', (err) => {
      // A server that answers early and closes may reset a socket still sending: keep what arrived.
      if (then === 'wait' || then === 'end') {
        const res = parseResponse(Buffer.concat(received));
        if (res) return finish(res);
      }
      if (then === 'destroy' || then === 'reset') return finish(undefined);
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => finish(then === 'wait' || then === 'end' ? parseResponse(Buffer.concat(received)) : undefined));
    const then = options.then ?? 'wait';
    let done = false;
    function finish(value: RawResponse | undefined) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(value);
    }
    socket.on('connect', () => {
      socket.write(head);
      socket.write(sent, () => {
        if (then === 'end') socket.end();
        if (then !== 'destroy' && then !== 'reset') return;
        setTimeout(() => {
          if (then === 'reset') socket.resetAndDestroy();
          else socket.destroy();
          finish(undefined);
        }, options.pauseMs ?? 50);
      });
    });
  });
}
