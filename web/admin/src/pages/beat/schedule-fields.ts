// The schedule part of the periodic-task form: a kind selector (interval | crontab | solar | clocked)
// showing only that kind's fields, and a live preview from POST /schedules/preview under it (the
// schedule in words, the next five runs in its zone and in UTC), with field errors shown as you type.
import { api, ApiError } from '../../api.js';
import { h } from '../../ui/dom.js';
import { clearErrors, field, input, select, showErrors } from '../../ui/form.js';
import { relativeTime } from '../../ui/format.js';
import {
  KIND_LABELS, SCHEDULE_KINDS, SOLAR_EVENTS, browserZone, fromLocalInput, specOf, kindOf, toLocalInput,
  type Preview, type Schedule, type ScheduleKind, type SolarEvent,
} from './types.js';

export interface ScheduleFields {
  element: HTMLElement;
  kind(): ScheduleKind;
  /** The schedule as the API takes it (values as typed: the server names what is wrong). */
  value(): Schedule;
  /** Fetches the preview again now (after the start time changed, say). */
  refreshPreview(): void;
}

const PERIODS = [
  { value: 'seconds', label: 'seconds' },
  { value: 'minutes', label: 'minutes' },
  { value: 'hours', label: 'hours' },
  { value: 'days', label: 'days' },
];

const CRON_FIELDS: { key: 'minute' | 'hour' | 'dayOfWeek' | 'dayOfMonth' | 'monthOfYear'; label: string; help: string }[] = [
  { key: 'minute', label: 'Minute', help: '0–59, e.g. "5", "*/15", "0,30"' },
  { key: 'hour', label: 'Hour', help: '0–23, e.g. "15", "9-17", "*/2"' },
  { key: 'dayOfWeek', label: 'Day of week', help: '0–6 (Sunday = 0) or names, e.g. "mon-fri", "sat,sun"' },
  { key: 'dayOfMonth', label: 'Day of month', help: '1–31, e.g. "1", "1,15"' },
  { key: 'monthOfYear', label: 'Month of year', help: '1–12 or names, e.g. "jan", "*/3"' },
];

const PRESETS: { label: string; values: [string, string, string, string, string] }[] = [
  { label: 'Every minute', values: ['*', '*', '*', '*', '*'] },
  { label: 'Every 15 minutes', values: ['*/15', '*', '*', '*', '*'] },
  { label: 'Every hour', values: ['0', '*', '*', '*', '*'] },
  { label: 'Every day at midnight', values: ['0', '0', '*', '*', '*'] },
  { label: 'Weekdays at 07:30', values: ['30', '7', 'mon-fri', '*', '*'] },
  { label: 'Every Monday at 09:00', values: ['0', '9', 'mon', '*', '*'] },
  { label: 'First day of the month at 00:00', values: ['0', '0', '*', '1', '*'] },
];

let zoneList: HTMLDataListElement | undefined;
/** One datalist of every IANA zone the browser knows, shared by the forms. */
function timeZoneList(): HTMLDataListElement {
  if (zoneList?.isConnected) return zoneList;
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  zoneList = h('datalist', { id: 'time-zones' }, ...['UTC', ...zones.filter((z) => z !== 'UTC')].map((z) => h('option', { value: z })));
  return zoneList;
}

const numberOrRaw = (el: HTMLInputElement): number | string | null => {
  const v = el.value.trim();
  if (v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
};

function formatIn(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

export function scheduleFields(options: { initial?: Schedule; startTime: () => string | null; readOnly?: boolean; idPrefix?: string }): ScheduleFields {
  const initial = options.initial;
  const initialKind: ScheduleKind = initial ? kindOf(initial) : 'interval';
  const spec = (initial ? specOf(initial) : {}) as Record<string, unknown>;
  const str = (k: string, fallback = '') => (spec[k] === undefined || spec[k] === null ? fallback : String(spec[k]));
  const is = (kind: ScheduleKind) => initial !== undefined && initialKind === kind;

  // The kind selector: a segmented group of radio buttons (one schedule kind per task).
  const radios = SCHEDULE_KINDS.map((kind) => {
    const radio = h('input', { type: 'radio', name: 'scheduleKind', value: kind, 'data-testid': `kind-${kind}` });
    radio.checked = kind === initialKind;
    return { kind, radio, label: h('label', { class: 'segment' }, radio, h('span', {}, KIND_LABELS[kind])) };
  });
  const kindGroup = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Schedule kind', id: `${options.idPrefix ?? 'f'}-schedule-kind`, tabindex: -1 }, ...radios.map((r) => r.label));

  // Interval
  const every = input('every', { type: 'number', min: 1, step: 1, value: is('interval') ? str('every') : '10', class: 'narrow', 'data-testid': 'interval-every' });
  const period = select('period', PERIODS, is('interval') ? str('period', 'seconds') : 'seconds', { 'data-testid': 'interval-period' });
  const intervalBox = h(
    'div',
    { class: 'kind-fields', 'data-kind': 'interval' },
    field({ name: 'schedule.interval.every', label: 'Every', required: true, control: every, help: 'How many periods between runs (a whole number, at least 1).' }),
    field({ name: 'schedule.interval.period', label: 'Period', required: true, control: period }),
  );

  // Crontab
  const cron = Object.fromEntries(
    CRON_FIELDS.map((f) => [f.key, input(f.key, { value: is('crontab') ? str(f.key, '*') : f.key === 'minute' ? '0' : '*', placeholder: '*', class: 'mono cron', spellcheck: false, autocomplete: 'off', 'data-testid': `crontab-${f.key}` })]),
  ) as Record<(typeof CRON_FIELDS)[number]['key'], HTMLInputElement>;
  const zone = input('timezone', { value: is('crontab') ? str('timezone') : '', list: 'time-zones', placeholder: 'the installation’s time zone', autocomplete: 'off', 'data-testid': 'crontab-timezone' });
  const preset = select('preset', [{ value: '', label: 'Fill from a common schedule…' }, ...PRESETS.map((p, i) => ({ value: String(i), label: p.label }))], '', { 'aria-label': 'Common crontab schedules', class: 'preset' });
  preset.addEventListener('change', () => {
    const p = PRESETS[Number(preset.value)];
    if (!p) return;
    CRON_FIELDS.forEach((f, i) => (cron[f.key].value = p.values[i]!));
    preset.value = '';
    schedulePreview();
  });
  const zoneHelp = h('span', {}, 'An IANA zone such as Europe/Warsaw; daylight-saving changes are followed. Your browser is in ', h('code', {}, browserZone()), '.');
  const crontabBox = h(
    'div',
    { class: 'kind-fields', 'data-kind': 'crontab' },
    h('div', { class: 'field presets' }, h('span', {}), h('div', { class: 'control' }, preset)),
    ...CRON_FIELDS.map((f) => field({ name: `schedule.crontab.${f.key}`, label: f.label, control: cron[f.key], help: f.help })),
    field({ name: 'schedule.crontab.timezone', label: 'Time zone', control: zone, help: zoneHelp }),
    timeZoneList(),
  );

  // Solar
  const event = select('event', SOLAR_EVENTS, is('solar') ? str('event', 'sunrise') : 'sunrise', { 'data-testid': 'solar-event' });
  const latitude = input('latitude', { type: 'number', step: 'any', min: -90, max: 90, value: is('solar') ? str('latitude') : '', placeholder: 'e.g. 52.2297', class: 'narrow', 'data-testid': 'solar-latitude' });
  const longitude = input('longitude', { type: 'number', step: 'any', min: -180, max: 180, value: is('solar') ? str('longitude') : '', placeholder: 'e.g. 21.0122', class: 'narrow', 'data-testid': 'solar-longitude' });
  const solarBox = h(
    'div',
    { class: 'kind-fields', 'data-kind': 'solar' },
    field({ name: 'schedule.solar.event', label: 'Solar event', required: true, control: event }),
    field({ name: 'schedule.solar.latitude', label: 'Latitude', required: true, control: latitude, help: 'Degrees north (negative: south), −90 to 90.' }),
    field({ name: 'schedule.solar.longitude', label: 'Longitude', required: true, control: longitude, help: 'Degrees east (negative: west), −180 to 180.' }),
  );

  // Clocked
  const at = input('at', { type: 'datetime-local', step: 1, value: is('clocked') ? toLocalInput(str('at')) : '', 'data-testid': 'clocked-at' });
  const clockedBox = h(
    'div',
    { class: 'kind-fields', 'data-kind': 'clocked' },
    field({ name: 'schedule.clocked.at', label: 'Clocked time', required: true, control: at, help: `Runs once at this moment (your browser’s time, ${browserZone()}).` }),
  );

  const boxes: Record<ScheduleKind, HTMLElement> = { interval: intervalBox, crontab: crontabBox, solar: solarBox, clocked: clockedBox };
  const preview = h('div', { class: 'schedule-preview', 'data-testid': 'schedule-preview', 'aria-live': 'polite' });
  const element = h(
    'fieldset',
    { class: 'schedule' },
    h('legend', {}, 'Schedule'),
    field({ name: 'schedule', label: 'Kind', required: true, control: kindGroup, help: 'A periodic task has exactly one schedule.' }),
    intervalBox,
    crontabBox,
    solarBox,
    clockedBox,
    preview,
  );

  const kind = (): ScheduleKind => (radios.find((r) => r.radio.checked)?.kind ?? 'interval');
  const showKind = () => {
    for (const k of SCHEDULE_KINDS) boxes[k].hidden = k !== kind();
    for (const r of radios) r.label.classList.toggle('checked', r.radio.checked);
  };
  showKind();

  const value = (): Schedule => {
    switch (kind()) {
      case 'interval':
        return { interval: { every: numberOrRaw(every) as number, period: period.value as 'seconds' } };
      case 'crontab': {
        const c = Object.fromEntries(CRON_FIELDS.map((f) => [f.key, cron[f.key].value.trim() || '*'])) as Record<string, string>;
        const tz = zone.value.trim();
        return { crontab: { ...c, ...(tz ? { timezone: tz } : {}) } as never };
      }
      case 'solar':
        return { solar: { event: event.value as SolarEvent, latitude: numberOrRaw(latitude) as number, longitude: numberOrRaw(longitude) as number } };
      case 'clocked':
        return { clocked: { at: fromLocalInput(at.value) ?? (at.value || (null as unknown as string)) } };
    }
  };

  // The live preview: debounced, and only the latest answer is shown.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sequence = 0;
  /** A required value not filled in yet: no request, just a hint (errors are for what was typed). */
  const missing = (): string | undefined => {
    const empty = (el: HTMLInputElement) => el.value.trim() === '' && !el.validity.badInput;
    if (kind() === 'interval' && empty(every)) return 'Enter how often it runs to see when it runs next.';
    if (kind() === 'solar' && (empty(latitude) || empty(longitude))) return 'Enter the latitude and longitude to see when it runs next.';
    if (kind() === 'clocked' && empty(at)) return 'Choose the moment to see when it runs.';
    return undefined;
  };

  async function loadPreview(): Promise<void> {
    const mine = ++sequence;
    const hint = missing();
    if (hint) {
      clearErrors(element);
      preview.replaceChildren(h('p', { class: 'muted' }, hint));
      return;
    }
    const body: Record<string, unknown> = { schedule: value() };
    const start = options.startTime();
    if (start) body.startTime = start;
    preview.classList.add('loading');
    try {
      // errors=inline: a schedule still being typed is an answer, not a failed request in the console.
      const result = await api.post<Preview>('/api/v1/admin/schedules/preview?errors=inline', body);
      if (mine !== sequence || !element.isConnected) return;
      if (result.invalid) {
        const e = new ApiError(400, result.invalid.code, result.invalid.message, result.invalid.fields ?? {});
        showErrors(element, e, { quiet: true });
        const unplaced = Object.entries(e.fields).filter(([path]) => !path.startsWith('schedule')).map(([, m]) => m);
        preview.replaceChildren(h('p', { class: 'preview-invalid' }, unplaced.length ? unplaced.join(' ') : 'Correct the schedule to see when it runs.'));
        return;
      }
      clearErrors(element);
      renderPreview(result);
    } catch (err) {
      if (mine !== sequence || !element.isConnected) return;
      preview.replaceChildren(h('p', { class: 'error' }, `The preview is not available: ${(err as Error).message}`));
    } finally {
      if (mine === sequence) preview.classList.remove('loading');
    }
  }

  function renderPreview(p: Preview): void {
    if (p.kind === 'crontab' && !zone.value.trim()) zone.placeholder = `the installation’s: ${p.timezone}`;
    // A schedule kept in UTC needs no second UTC column.
    const inUtc = p.timezone === 'UTC' || p.timezone === 'Etc/UTC';
    const rows = p.next.map((n, i) =>
      h(
        'tr',
        {},
        h('td', { class: 'num' }, String(i + 1)),
        h('td', {}, h('time', { datetime: n.at }, formatIn(n.at, n.timezone))),
        ...(inUtc ? [] : [h('td', { class: 'muted' }, formatIn(n.at, 'UTC'))]),
        h('td', { class: 'muted' }, relativeTime(n.at)),
      ),
    );
    preview.replaceChildren(
      h('p', { class: 'in-words' }, h('span', { class: 'label' }, 'In words: '), h('strong', { 'data-testid': 'schedule-description' }, p.description)),
      rows.length
        ? h(
            'table',
            { class: 'list next-runs', 'data-testid': 'next-runs' },
            h('caption', {}, `Next ${rows.length === 1 ? 'run' : `${rows.length} runs`}`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, p.timezone), ...(inUtc ? [] : [h('th', { scope: 'col' }, 'UTC')]), h('th', { scope: 'col' }, ''))),
            h('tbody', {}, ...rows),
          )
        : h('p', { class: 'muted' }, 'It will not run again (the moment has passed, or the sun does not cross this event there soon).'),
    );
  }

  function schedulePreview(delay = 350): void {
    clearTimeout(timer);
    timer = setTimeout(() => void loadPreview(), delay);
  }

  for (const r of radios)
    r.radio.addEventListener('change', () => {
      showKind();
      schedulePreview(0);
    });
  for (const box of Object.values(boxes)) {
    box.addEventListener('input', () => schedulePreview());
    box.addEventListener('change', () => schedulePreview());
  }
  if (options.readOnly) for (const c of element.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) c.disabled = true;
  schedulePreview(0);

  return { element, kind, value, refreshPreview: () => schedulePreview() };
}
