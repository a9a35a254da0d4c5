// Time-zone arithmetic on Node's Intl. A "wall" time is a local clock reading stored as the epoch
// milliseconds of the UTC date with the same fields (2026-03-29 02:30 local → Date.UTC(2026, 2, 29, 2, 30)).

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The canonical spelling of a time zone Intl knows (case fixed), or null. UTC offsets like "+01:00" are refused. */
export function canonicalTimeZone(name: string): string | null {
  if (!/^[A-Za-z]/.test(name)) return null;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    // Intl also maps aliases (EST → America/Panama); keep what the user wrote unless only the case differs.
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return null;
  }
}

function intlOffset(instantMs: number, timeZone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const f: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(whole)) {
    if (p.type !== 'literal') f[p.type] = Number(p.value);
  }
  return Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!) - whole;
}

// Intl is slow (tens of µs a call) and offsets change a few times a year: remember the offset at
// each whole UTC hour; an hour whose two ends agree has that offset throughout.
const hourOffsets = new Map<string, Map<number, number>>();
const MAX_CACHED_HOURS = 100_000;

function offsetAtHour(hour: number, timeZone: string): number {
  let zone = hourOffsets.get(timeZone);
  if (!zone) hourOffsets.set(timeZone, (zone = new Map()));
  let o = zone.get(hour);
  if (o === undefined) {
    if (zone.size >= MAX_CACHED_HOURS) zone.clear();
    zone.set(hour, (o = intlOffset(hour * HOUR, timeZone)));
  }
  return o;
}

/** The zone's UTC offset at an instant, in milliseconds (+2 h in Warsaw summer). */
export function offsetAt(instantMs: number, timeZone: string): number {
  const hour = Math.floor(instantMs / HOUR);
  const start = offsetAtHour(hour, timeZone);
  return start === offsetAtHour(hour + 1, timeZone) ? start : intlOffset(instantMs, timeZone);
}

/** The local clock reading of an instant, as a wall time. */
export function wallClock(instantMs: number, timeZone: string): number {
  return instantMs + offsetAt(instantMs, timeZone);
}

/**
 * Every instant whose local clock reads `wall`, earliest first: one normally, two when the clocks
 * go back over it, none when they spring forward over it.
 */
export function instantsAt(wall: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wall - DAY, timeZone), offsetAt(wall, timeZone), offsetAt(wall + DAY, timeZone)]);
  const found = new Set<number>();
  for (const o of offsets) {
    if (offsetAt(wall - o, timeZone) === o) found.add(wall - o);
  }
  return [...found].sort((a, b) => a - b);
}

/** For a wall time skipped by a spring-forward, the instant the clocks jump (the first valid local time after the gap). */
export function endOfGap(wall: number, timeZone: string): number {
  const offsets = [offsetAt(wall - DAY, timeZone), offsetAt(wall, timeZone), offsetAt(wall + DAY, timeZone)];
  // Readings before the jump are below `wall`, readings from it on are above: bisect on whole seconds.
  let lo = Math.floor((wall - Math.max(...offsets)) / 1000);
  let hi = Math.ceil((wall - Math.min(...offsets)) / 1000);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(mid * 1000, timeZone) > wall) hi = mid;
    else lo = mid + 1;
  }
  return lo * 1000;
}
