// One pino JSON line as a line a person reads: `14:02:03.123 INFO  connected to Redis  redis=… version=7.0.15`,
// with an error's stack on the lines below. Small on purpose: seler's lines are flat objects.

const LEVEL_COLORS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
// Always present or of no use to a reader at a terminal.
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

export function formatLogLine(line: string, options: { color?: boolean } = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (code: string | undefined, text: string) => (options.color && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  let stack = '';
  const fields: string[] = [];
  for (const [key, v] of Object.entries(entry)) {
    if (HIDDEN.has(key) || v === undefined) continue;
    if (key === 'err' && v && typeof v === 'object' && 'stack' in v) {
      const err = v as { message?: string; stack?: string };
      fields.push(`err=${value(err.message ?? '')}`);
      stack = `\n${String(err.stack).replace(/^/gm, '    ')}`;
      continue;
    }
    fields.push(`${key}=${value(v)}`);
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${paint('90', time)} ${paint(LEVEL_COLORS[level], level.toUpperCase().padEnd(5))} ${msg}${fields.length ? `  ${paint('90', fields.join(' '))}` : ''}${stack}\n`;
}
