import { describe, expect, it } from 'vitest';
import { argsPreview } from './store.js';

describe('the argument preview of the task list', () => {
  it('shows args and kwargs as the call was made', () => {
    expect(argsPreview('{"args":[1,2],"kwargs":{}}')).toBe('[1,2]');
    expect(argsPreview('{"args":[1],"kwargs":{"to":"x"}}')).toBe('[1] {"to":"x"}');
    expect(argsPreview(null)).toBe('');
  });

  it('shows a text the index cut at 300 characters the same way, without the {"args": wrapper', () => {
    const long = JSON.stringify({ args: ['x'.repeat(400)], kwargs: {} }).slice(0, 300);
    expect(argsPreview(long)).toBe(`${long.slice('{"args":'.length)}…`);
    expect(argsPreview(long)).toMatch(/^\["x{10}/);
    const inKwargs = JSON.stringify({ args: [1], kwargs: { note: 'y'.repeat(400) } }).slice(0, 300);
    expect(argsPreview(inKwargs)).toBe(`[1] {"note":"${'y'.repeat(300 - '{"args":[1],"kwargs":{"note":"'.length)}…`);
    // Text that is not seler's wrapper at all is shown as it is.
    expect(argsPreview('not json')).toBe('not json…');
  });
});
