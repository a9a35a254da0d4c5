import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scrubErrorMessage } from './error-text.js';
import { RESERVED_TASK_IDS, isValidTaskId, taskIdProblem } from './ids.js';
import { cancelTokenMatches, newCancelToken } from './owner.js';

describe('task ids', () => {
  it('accepts what seler makes: UUIDs, periodic-run ids, manual runs', () => {
    for (const id of [randomUUID(), 'beat-7-0123456789abcdef0123456789abcdef', 'beat-7-manual-0123456789abcdef0123456789abcdef', 'report.2026_12', 'x'.repeat(200)])
      expect(isValidTaskId(id), id).toBe(true);
  });

  it('refuses every name BullMQ gives a queue’s own keys, in any case, and anything with odd characters', () => {
    for (const id of ['meta', 'id', 'events', 'failed', 'delayed', 'stalled-check', 'wait', 'active', 'paused', 'completed', 'prioritized', 'marker', 'limiter', 'pc', 'de', 'repeat', 'Meta', 'EVENTS'])
      expect(isValidTaskId(id), id).toBe(false);
    for (const id of RESERVED_TASK_IDS) expect(isValidTaskId(id)).toBe(false);
    for (const id of ['a:b', ':', '../x', '.x', '-x', '_x', 'a b', 'a/b', 'a\\b', 'zadanie-ą', '😀', 'a\u0000', 'a\n', '{seler}', '*', '', 'x'.repeat(201)])
      expect(isValidTaskId(id), JSON.stringify(id)).toBe(false);
    for (const id of [undefined, null, 5, {}]) expect(isValidTaskId(id)).toBe(false);
    expect(taskIdProblem('meta')).toContain('BullMQ');
    expect(taskIdProblem('a:b')).toContain('only letters');
    expect(taskIdProblem(randomUUID())).toBeUndefined();
  });
});

describe('error messages', () => {
  it('lose absolute paths and file: URLs, keep the rest', () => {
    expect(scrubErrorMessage("ENOENT: no such file or directory, open '/srv/seler/data/media/uploads/3f2a'")).toBe("ENOENT: no such file or directory, open '<path>'");
    expect(scrubErrorMessage('Cannot find module /opt/app/dist/x.js imported from file:///opt/app/dist/y.js')).toBe('Cannot find module <path> imported from <path>');
    expect(scrubErrorMessage('C:\\Users\\me\\seler\\x.txt is locked')).toBe('<path> is locked');
    expect(scrubErrorMessage('1/2 images done; see http://example.com/a/b')).toBe('1/2 images done; see http://example.com/a/b');
    expect(scrubErrorMessage('Input buffer contains unsupported image format')).toBe('Input buffer contains unsupported image format');
    expect(scrubErrorMessage('x'.repeat(5000)).length).toBeLessThanOrEqual(2001);
  });
});

describe('cancel tokens', () => {
  it('match only the token they were made with', () => {
    const { token, hash } = newCancelToken();
    const owner = { kind: 'anonymous' as const, cancel: hash };
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(hash).not.toContain(token);
    expect(cancelTokenMatches(owner, token)).toBe(true);
    for (const wrong of [newCancelToken().token, token.slice(1), `${token}x`, token.toUpperCase(), '', hash, undefined, 42, 'x'.repeat(10_000)])
      expect(cancelTokenMatches(owner, wrong)).toBe(false);
  });
});
