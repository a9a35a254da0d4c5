import { describe, expect, it } from 'vitest';
import { signalDeduper, wantsAllocatorRelaunch, glibcVersion } from './allocator.js';

describe('the allocator relaunch', () => {
  it('is for worker and start only, never over the user’s own MALLOC_ARENA_MAX, never twice', () => {
    const glibc = glibcVersion() !== undefined;
    expect(wantsAllocatorRelaunch(['node', 'seler', 'worker'], {})).toBe(glibc);
    expect(wantsAllocatorRelaunch(['node', 'seler', 'start'], {})).toBe(glibc);
    for (const argv of [['node', 'seler', 'web'], ['node', 'seler', 'call', 'x'], ['node', 'seler', 'worker', '--help'], ['node', 'seler']]) {
      expect(wantsAllocatorRelaunch(argv, {}), argv.join(' ')).toBe(false);
    }
    expect(wantsAllocatorRelaunch(['node', 'seler', 'worker'], { MALLOC_ARENA_MAX: '8' })).toBe(false);
    expect(wantsAllocatorRelaunch(['node', 'seler', 'worker'], { SELER_RELAUNCHED: '1' })).toBe(false);
  });

  it('a signal that came both directly and through the wrapper counts once; two from one source count twice', () => {
    const seen: string[] = [];
    const deliver = signalDeduper((s) => seen.push(s));
    deliver('SIGTERM', 'direct');
    deliver('SIGTERM', 'wrapper'); // systemd signalled both processes: the same event
    expect(seen).toEqual(['SIGTERM']);
    deliver('SIGTERM', 'wrapper');
    deliver('SIGTERM', 'wrapper'); // a user's second request
    expect(seen).toEqual(['SIGTERM', 'SIGTERM', 'SIGTERM']);
    deliver('SIGINT', 'direct');
    expect(seen).toHaveLength(4);
  });
});
