import { describe, expect, it } from 'vitest';
import { bytesRepr, formatCommand, formatReply, textPrinter, toJson } from './render.js';

describe('render', () => {
  it('shows replies the way redis-cli does', () => {
    expect(formatReply('OK')).toEqual(['OK']);
    expect(formatReply('hello')).toEqual(['"hello"']);
    expect(formatReply(null)).toEqual(['(nil)']);
    expect(formatReply(5)).toEqual(['(integer) 5']);
    expect(formatReply([])).toEqual(['(empty array)']);
    expect(formatReply(['a', ['b', 1]])).toEqual(['1) "a"', '2) 1) "b"', '   2) (integer) 1']);
    expect(formatReply(Array.from({ length: 10 }, (_, i) => i))[0]).toBe(' 1) (integer) 0');
  });

  it('shows bytes as Python did', () => {
    expect(bytesRepr(Buffer.from('Cześć'))).toBe("b'Cze\\xc5\\x9b\\xc4\\x87'");
    expect(toJson({ raw: Buffer.from('hi'), err: new Error('x') })).toEqual({ raw: { bytes: '6869' }, err: { error: 'x' } });
  });

  it('quotes arguments only when needed and moves scripts below the command', () => {
    expect(formatCommand('SET', ['lab:strings:greeting', 'hello']).line).toBe('SET lab:strings:greeting hello');
    expect(formatCommand('SET', ['k', 'hello world']).line).toBe('SET k "hello world"');
    const { line, script } = formatCommand('EVAL', ['\nreturn 1\nend', 0]);
    expect(line).toBe('EVAL <script> 0');
    expect(script).toBe('return 1\nend');
  });

  it('prints a command, then its reply, with the client label', () => {
    let out = '';
    const print = textPrinter((text) => (out += text));
    print({ type: 'send', client: 'consumer', command: 'BRPOP q 5' });
    print({ type: 'reply', client: 'consumer', reply: ['q', 'job'], ms: 300 });
    expect(out).toBe('consumer> BRPOP q 5\nconsumer< 1) "q"\n          2) "job"   (after 300 ms)\n');
  });
});
