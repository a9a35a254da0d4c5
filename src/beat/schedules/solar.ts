import { getTimes } from 'suncalc';
import type { SolarEvent, SolarSpec } from './types.js';

const DAY = 86_400_000;
const SEARCH_DAYS = 367;

/** django-celery-beat's event names → SunCalc's (dawn_civil is SunCalc's `dawn`, the sun 6° below the horizon, …). */
const SUNCALC_NAME: Record<SolarEvent, string> = {
  sunrise: 'sunrise',
  sunset: 'sunset',
  dawn_astronomical: 'nightEnd',
  dawn_nautical: 'nauticalDawn',
  dawn_civil: 'dawn',
  dusk_astronomical: 'night',
  dusk_nautical: 'nauticalDusk',
  dusk_civil: 'dusk',
  solar_noon: 'solarNoon',
};

/** The event on the solar day SunCalc associates with that UTC date, or null when it does not happen (polar day or night). */
export function solarEventOn(spec: SolarSpec, utcDate: Date): Date | null {
  const times = getTimes(utcDate, spec.latitude, spec.longitude);
  const t = times[SUNCALC_NAME[spec.event]];
  return t instanceof Date ? t : null;
}

/**
 * The first occurrence after `after`. Days on which the event does not happen are skipped; if it
 * does not happen for a year (e.g. astronomical dusk at the pole), it never will: null.
 */
export function nextSolar(spec: SolarSpec, after: Date): Date | null {
  const firstDay = Math.floor(after.getTime() / DAY) * DAY - DAY;
  for (let d = 0; d <= SEARCH_DAYS; d++) {
    const t = solarEventOn(spec, new Date(firstDay + d * DAY + DAY / 2));
    if (t && t.getTime() > after.getTime()) return t;
  }
  return null;
}
