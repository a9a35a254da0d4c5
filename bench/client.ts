// A Thumbnailer client that shares no code with the server: its own multipart body, its own SSE
// reader (or polling of the status URL), the archive downloaded and checked with zlib (every entry
// inflated and its CRC-32 compared; the entry count against the request). What a user's page does.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { crc32, inflateRawSync } from 'node:zlib';

export interface UploadTiming {
  /** Upload start → 202 received. */
  uploadMs: number;
  /** 202 → the task said SUCCESS. */
  waitMs: number;
  /** SUCCESS → archive downloaded and checked. */
  downloadMs: number;
  totalMs: number;
  archiveBytes: number;
  entries: number;
}

export interface UploadRequest {
  name: string;
  data: Buffer;
  sizes: string;
  format?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(base: URL, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** multipart/form-data written by hand: text fields, then the file. */
export function multipartBody(fields: Record<string, string>, file: { field: string; name: string; data: Buffer }): { body: Buffer; contentType: string } {
  const boundary = `----bench${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

interface TaskJson {
  status: string;
  result?: { archiveUrl?: string };
  error?: { message?: string };
}
const FINISHED = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** Reads `event: task` messages of an SSE stream until one says the task finished. */
function waitBySse(base: URL, eventsUrl: string): Promise<TaskJson> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path: eventsUrl, headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events answered ${res.statusCode}`));
      let buffered = '';
      let last: TaskJson | undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const lines = message.split('\n');
          if (!lines.includes('event: task')) continue;
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          last = JSON.parse(data) as TaskJson;
          if (FINISHED.has(last.status)) {
            req.destroy();
            resolve(last);
            return;
          }
        }
      });
      res.on('end', () => (last && FINISHED.has(last.status) ? resolve(last) : reject(new Error(`event stream ended at ${last?.status ?? 'nothing'}`))));
      res.on('error', reject);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

async function waitByPolling(base: URL, statusUrl: string, intervalMs: number): Promise<TaskJson> {
  for (;;) {
    const res = await request(base, 'GET', statusUrl);
    if (res.status !== 200) throw new Error(`status answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
    const task = JSON.parse(res.body.toString()) as TaskJson;
    if (FINISHED.has(task.status)) return task;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Checks a zip from its central directory: every entry inflates to its size and CRC-32; returns the entry count. */
export function checkZip(zip: Buffer): number {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`central directory entry ${n} is malformed`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: local header missing`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : undefined;
    if (!data) throw new Error(`${name}: compression method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new Error(`${name}: CRC mismatch`);
    at += 46 + nameLength + extra + comment;
  }
  return count;
}

export interface ClientOptions {
  wait: 'sse' | 'poll';
  pollMs?: number;
}

/** Upload → wait → download → check, timed; throws on any failure (a wrong entry count included). */
export async function uploadAndFetch(baseUrl: string, upload: UploadRequest, options: ClientOptions): Promise<UploadTiming & { archive: Buffer }> {
  const base = new URL(baseUrl);
  const fields: Record<string, string> = { sizes: upload.sizes };
  if (upload.format) fields.format = upload.format;
  const { body, contentType } = multipartBody(fields, { field: 'images', name: upload.name, data: upload.data });

  const t0 = performance.now();
  const posted = await request(base, 'POST', '/api/v1/thumbnails', { 'content-type': contentType, 'content-length': body.length }, body);
  if (posted.status !== 202) throw new Error(`upload of ${upload.name} answered ${posted.status}: ${posted.body.toString().slice(0, 300)}`);
  const accepted = JSON.parse(posted.body.toString()) as { statusUrl: string; eventsUrl: string };
  const t1 = performance.now();

  const task = options.wait === 'sse' ? await waitBySse(base, accepted.eventsUrl) : await waitByPolling(base, accepted.statusUrl, options.pollMs ?? 50);
  if (task.status !== 'SUCCESS' || !task.result?.archiveUrl) throw new Error(`${upload.name}: ${task.status} ${task.error?.message ?? ''}`);
  const t2 = performance.now();

  const zip = await request(base, 'GET', task.result.archiveUrl);
  if (zip.status !== 200) throw new Error(`archive of ${upload.name} answered ${zip.status}`);
  const entries = checkZip(zip.body);
  const expected = 1 + upload.sizes.split(',').length;
  if (entries !== expected) throw new Error(`archive of ${upload.name} has ${entries} entries, expected ${expected}`);
  const t3 = performance.now();
  return { uploadMs: t1 - t0, waitMs: t2 - t1, downloadMs: t3 - t2, totalMs: t3 - t0, archiveBytes: zip.body.length, entries, archive: zip.body };
}
