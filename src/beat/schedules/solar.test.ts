import { describe, expect, it } from 'vitest';
import { nextRun, SOLAR_EVENTS, upcomingRuns, type SolarEvent } from './index.js';
import { solarEventOn } from './solar.js';

const warsaw = (event: SolarEvent) => ({ solar: { event, latitude: 52.23, longitude: 21.01 } });
const tromso = (event: SolarEvent) => ({ solar: { event, latitude: 69.65, longitude: 18.96 } });
const MIN = 60_000;

function near(actual: Date | null, expected: string, toleranceMs = 2 * MIN) {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual!.getTime() - Date.parse(expected))).toBeLessThanOrEqual(toleranceMs);
}

describe('solar', () => {
  it('Warsaw on 2026-06-21: sunrise ≈ 04:14 CEST, sunset ≈ 21:01 CEST (published values)', () => {
    near(nextRun(warsaw('sunrise'), new Date('2026-06-20T12:00:00Z')), '2026-06-21T02:14:00Z');
    near(nextRun(warsaw('sunset'), new Date('2026-06-21T00:00:00Z')), '2026-06-21T19:01:00Z');
  });

  it('events of one day come in their natural order (Warsaw, equinox)', () => {
    const order: SolarEvent[] = [
      'dawn_astronomical', 'dawn_nautical', 'dawn_civil', 'sunrise', 'solar_noon',
      'sunset', 'dusk_civil', 'dusk_nautical', 'dusk_astronomical',
    ];
    expect(new Set(order)).toEqual(new Set(SOLAR_EVENTS));
    const times = order.map((e) => nextRun(warsaw(e), new Date('2026-03-20T00:00:00Z'))!.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)! - times[0]!).toBeLessThan(24 * 60 * MIN);
  });

  it('is strictly after `after` and then daily', () => {
    const first = nextRun(warsaw('sunrise'), new Date('2026-06-20T12:00:00Z'))!;
    const next = nextRun(warsaw('sunrise'), first)!;
    expect(next.getTime() - first.getTime()).toBeGreaterThan(23 * 60 * MIN);
    expect(next.getTime() - first.getTime()).toBeLessThan(25 * 60 * MIN);
    expect(upcomingRuns(warsaw('sunset'), new Date('2026-06-21T00:00:00Z'), 5)).toHaveLength(5);
  });

  it('polar night in Tromsø: December sunrise skips to mid-January', () => {
    expect(solarEventOn(tromso('sunrise').solar, new Date('2026-12-10T12:00:00Z'))).toBeNull();
    const next = nextRun(tromso('sunrise'), new Date('2026-12-10T00:00:00Z'))!;
    expect(next.toISOString() > '2027-01-10').toBe(true);
    expect(next.toISOString() < '2027-01-20').toBe(true);
    // Solar noon happens every day, even in polar night.
    near(nextRun(tromso('solar_noon'), new Date('2026-12-10T00:00:00Z')), '2026-12-10T10:37:00Z');
  });

  it('midnight sun in Tromsø: June sunset skips to late July', () => {
    const next = nextRun(tromso('sunset'), new Date('2026-06-21T00:00:00Z'))!;
    expect(next.toISOString().slice(0, 7)).toBe('2026-07');
  });

  it('no astronomical night in Warsaw around midsummer: dusk_astronomical skips to late July', () => {
    const next = nextRun(warsaw('dusk_astronomical'), new Date('2026-06-21T00:00:00Z'))!;
    expect(next.toISOString() > '2026-07-15').toBe(true);
  });

  it('an event that does not happen for a year is null', () => {
    const pole = { solar: { event: 'sunrise' as const, latitude: 90, longitude: 0 } };
    expect(nextRun(pole, new Date('2026-06-21T00:00:00Z'))).toBeNull();
  });
});
