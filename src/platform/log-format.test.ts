import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-format.js';
import { logFormat } from './logger.js';

describe('log lines for people', () => {
  it('shows time, level, message and the fields, without pid', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-12-07T14:02:03.123Z', pid: 42, role: 'all', msg: 'connected to Redis', redis: 'unix:///d/redis.sock', version: '7.0.15' });
    expect(formatLogLine(line)).toBe('14:02:03.123 INFO  connected to Redis  role=all redis=unix:///d/redis.sock version=7.0.15\n');
  });

  it('quotes values with spaces, writes objects as JSON, and puts an error stack under the line', () => {
    const line = JSON.stringify({ level: 'error', time: '2026-12-07T14:02:03.123Z', msg: 'task failed', reason: 'no space', queues: ['a', 'b'], err: { message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' } });
    expect(formatLogLine(line)).toBe('14:02:03.123 ERROR task failed  reason="no space" queues=["a","b"] err=boom\n    Error: boom\n        at x (y.js:1:1)\n');
  });

  it('colours the level on a terminal, and passes a line that is not JSON through', () => {
    expect(formatLogLine(JSON.stringify({ level: 'warn', time: '2026-12-07T14:02:03.123Z', msg: 'careful' }), { color: true })).toBe('\x1b[90m14:02:03.123\x1b[0m \x1b[33mWARN \x1b[0m careful\n');
    expect(formatLogLine('plain text')).toBe('plain text\n');
  });

  it('is pretty on a terminal and JSON otherwise, unless SELER_LOG_FORMAT says which', () => {
    expect(logFormat({ isTTY: true }, undefined)).toBe('pretty');
    expect(logFormat({ isTTY: false }, undefined)).toBe('json');
    expect(logFormat({ isTTY: true }, 'json')).toBe('json');
    expect(logFormat({}, 'pretty')).toBe('pretty');
  });
});
