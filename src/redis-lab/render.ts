// Turns commands and replies into the redis-cli look (`> SET k v`, `< OK`, `1) "a"`) and into JSON.
import type { Arg, LabEvent } from './types.js';

const PLAIN = /^[\w:.\-+*$@/#{}[\]=,]+$/;

export function formatArg(arg: Arg): string {
  if (typeof arg === 'number') return String(arg);
  if (Buffer.isBuffer(arg)) return bytesRepr(arg);
  return PLAIN.test(arg) ? arg : JSON.stringify(arg);
}

/** A script (multi-line argument) is shown below the command, the command names it `<script>`. */
export function formatCommand(command: string, args: Arg[]): { line: string; script?: string } {
  let script: string | undefined;
  const shown = args.map((arg) => {
    if (typeof arg === 'string' && arg.includes('\n') && script === undefined) {
      script = arg.replace(/^\n+|\s+$/g, '');
      return '<script>';
    }
    return formatArg(arg);
  });
  return { line: [command, ...shown].join(' '), script };
}

/** Python's repr of bytes, the way the lab's redis-py printed them: b'Cze\xc5\x9b\xc4\x87'. */
export function bytesRepr(bytes: Buffer): string {
  let out = "b'";
  for (const byte of bytes) {
    if (byte === 0x27 || byte === 0x5c) out += '\\' + String.fromCharCode(byte);
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else if (byte === 0x0a) out += '\\n';
    else out += '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out + "'";
}

/** Status replies redis-cli prints bare; the client hands them over as plain strings. */
const STATUS = new Set(['OK', 'QUEUED', 'PONG']);

/** redis-cli's rendering of a reply, one string per line. */
export function formatReply(reply: unknown): string[] {
  if (reply === null || reply === undefined) return ['(nil)'];
  if (reply instanceof Error) return [`(error) ${reply.message}`];
  if (Buffer.isBuffer(reply)) return [bytesRepr(reply)];
  if (typeof reply === 'number') return [Number.isInteger(reply) ? `(integer) ${reply}` : `(double) ${reply}`];
  if (typeof reply === 'boolean') return [reply ? '(true)' : '(false)'];
  if (typeof reply === 'string') return [STATUS.has(reply) ? reply : JSON.stringify(reply)];
  if (Array.isArray(reply)) {
    if (reply.length === 0) return ['(empty array)'];
    const width = String(reply.length).length;
    return reply.flatMap((item, i) => {
      const head = `${String(i + 1).padStart(width)}) `;
      const [first = '', ...rest] = formatReply(item);
      return [head + first, ...rest.map((line) => ' '.repeat(head.length) + line)];
    });
  }
  return [JSON.stringify(toJson(reply))];
}

/** JSON-safe replies: bytes become {bytes: hex}, errors {error: message}. */
export function toJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Milliseconds shown next to a reply only when the wait itself is the point (blocking calls). */
const SHOW_MS_FROM = 50;

/** A live printer: lines appear as the commands are sent and the replies arrive. */
export function textPrinter(write: (text: string) => void): (event: LabEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'start':
        write(`\n== ${event.exercise.name} (${event.exercise.rows}): ${event.exercise.summary}\n`);
        return;
      case 'send': {
        write(`${event.client ?? ''}> ${event.command}\n`);
        if (event.script) write(event.script.split('\n').map((line) => `    | ${line}\n`).join(''));
        return;
      }
      case 'reply': {
        const prefix = `${event.client ?? ''}< `;
        const lines = event.error !== undefined ? [`(error) ${event.error}`] : formatReply(event.reply);
        if (event.ms !== undefined && event.ms >= SHOW_MS_FROM) lines[lines.length - 1] += `   (after ${formatMs(event.ms)})`;
        write(lines.map((line, i) => (i === 0 ? prefix : ' '.repeat(prefix.length)) + line + '\n').join(''));
        return;
      }
      case 'note':
        write(event.text.split('\n').map((line) => `# ${line}\n`).join(''));
        return;
      case 'end':
        return;
    }
  };
}

export function formatMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}
