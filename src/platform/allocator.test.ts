import { describe, expect, it } from 'vitest';
import { allocatorEnv, signalDeduper, wantsAllocatorRelaunch, glibcVersion } from './allocator.js';

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

  it('the relaunched worker gets fixed mmap and trim thresholds, except those the user set', () => {
    const env = allocatorEnv({ PATH: '/bin' });
    expect(env).toMatchObject({ PATH: '/bin', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '65536', SELER_RELAUNCHED: '1' });
    const own = allocatorEnv({ MALLOC_MMAP_THRESHOLD_: '1048576' });
    expect(own.MALLOC_MMAP_THRESHOLD_).toBe('1048576');
    expect(own.MALLOC_TRIM_THRESHOLD_).toBe('65536');
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
