import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, endOfGap, instantsAt, offsetAt, wallClock } from './tz.js';

const H = 3_600_000;

describe('tz', () => {
  it('offsets, including half-hour zones and DST', () => {
    expect(offsetAt(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Warsaw')).toBe(1 * H);
    expect(offsetAt(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Warsaw')).toBe(2 * H);
    expect(offsetAt(Date.parse('2026-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * H);
    expect(offsetAt(Date.parse('2026-07-15T12:00:00Z'), 'Australia/Lord_Howe')).toBe(10.5 * H);
    // Exactly at a change and just before it (not on an hour boundary cached as stable).
    expect(offsetAt(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Warsaw')).toBe(2 * H);
    expect(offsetAt(Date.parse('2026-03-29T00:59:59Z'), 'Europe/Warsaw')).toBe(1 * H);
    expect(offsetAt(Date.parse('2026-10-03T15:29:59Z'), 'Australia/Lord_Howe')).toBe(10.5 * H);
    expect(offsetAt(Date.parse('2026-10-03T15:30:00Z'), 'Australia/Lord_Howe')).toBe(11 * H);
  });

  it('maps wall times to 0, 1 or 2 instants', () => {
    expect(wallClock(Date.parse('2026-07-15T12:00:00.250Z'), 'Europe/Warsaw')).toBe(Date.UTC(2026, 6, 15, 14, 0, 0, 250));
    expect(instantsAt(Date.UTC(2026, 6, 15, 14), 'Europe/Warsaw')).toEqual([Date.parse('2026-07-15T12:00:00Z')]);
    expect(instantsAt(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Warsaw')).toEqual([]);
    expect(instantsAt(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Warsaw')).toEqual([Date.parse('2026-10-25T00:30:00Z'), Date.parse('2026-10-25T01:30:00Z')]);
    expect(endOfGap(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Warsaw')).toBe(Date.parse('2026-03-29T01:00:00Z'));
    expect(endOfGap(Date.UTC(2026, 9, 4, 2, 15), 'Australia/Lord_Howe')).toBe(Date.parse('2026-10-03T15:30:00Z'));
  });

  it('canonical zone names', () => {
    expect(canonicalTimeZone('europe/warsaw')).toBe('Europe/Warsaw');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Europe/Kiev')).toBe('Europe/Kiev');
    expect(canonicalTimeZone('Mars/Olympus')).toBeNull();
    expect(canonicalTimeZone('+02:00')).toBeNull();
  });
});
