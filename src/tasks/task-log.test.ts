import { describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { TASK_LOG_MAX_LINE_CHARS, droppedLine, logLine, logText, makeTaskLog } from './task-log.js';

describe('task log lines', () => {
  it('reads pino’s argument forms', () => {
    expect(logText(['copied %d of %s', 3, 'files'])).toBe('copied 3 of files');
    expect(logText([{ n: 1 }, 'done %s', 'now'])).toBe('done now {"n":1}');
    expect(logText([{}, 'only the message'])).toBe('only the message');
    expect(logText([{ n: 1 }])).toBe('{"n":1}');
    expect(logText([new TypeError('bad thing'), 'while %s', 'copying'])).toBe('TypeError: bad thing while copying');
    expect(logText([{ err: new Error('inner') }, 'failed'])).toBe('failed {"err":"Error: inner"}');
    expect(logText([{ big: 10n }])).toBe('{"big":"10"}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(logText([circular, 'loop'])).toBe('loop [unserializable]');
    expect(logText([])).toBe('');
  });

  it('stamps the time and level, and cuts a long line', () => {
    const at = Date.UTC(2026, 11, 7, 12, 0, 0);
    expect(logLine(undefined, ['hello'], at)).toBe('2026-12-07T12:00:00.000Z hello');
    expect(logLine('warn', ['careful'], at)).toBe('2026-12-07T12:00:00.000Z WARN careful');
    const long = logLine(undefined, ['y'.repeat(5000)], at);
    expect(long).toHaveLength(TASK_LOG_MAX_LINE_CHARS);
    expect(long.endsWith('y…')).toBe(true);
    expect(droppedLine(7, at)).toBe('2026-12-07T12:00:00.000Z … 7 more line(s) not kept (at most 200 per run)');
  });

  it('is a function and the worker’s logger at once; only info and above are kept', () => {
    const kept: string[] = [];
    let asked = 0;
    const logger = createLogger('silent');
    const log = makeTaskLog(() => (asked++, logger), (line) => kept.push(line));
    expect(asked).toBe(0); // nothing made until something logs
    log('one %d', 1);
    log.info({ a: 1 }, 'two');
    log.debug('not kept');
    log.trace('not kept');
    log.error(new Error('three'));
    expect(kept.map((l) => l.slice(25))).toEqual(['one 1', 'INFO two {"a":1}', 'ERROR Error: three']);
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.level).toBe('silent');
    expect(typeof log.child({ x: 1 }).info).toBe('function');
    expect('warn' in log).toBe(true);
    // Without a keeper (no job to keep them with) the lines only go to the logger.
    expect(() => makeTaskLog(() => logger, undefined)('fine')).not.toThrow();
  });
});
