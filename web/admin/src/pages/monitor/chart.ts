// A per-minute time-series chart drawn with uPlot (bundled by Vite; no CDN). Colours come from the
// console's CSS variables, so the chart follows the light or dark theme, and it is rebuilt when the
// OS theme changes. uPlot styles its own elements through the CSSOM, which the console's CSP allows.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../ui/dom.js';
import { formatNumber } from '../../ui/format.js';

export interface SeriesSpec {
  label: string;
  /** A CSS variable of monitor.css (`--series-ok`) or a colour. */
  color: string;
}

export interface MinuteChart {
  element: HTMLElement;
  /** x: minute starts in Unix seconds; ys: one array per series, same length. */
  setData(x: number[], ys: number[][]): void;
  destroy(): void;
}

function cssColor(el: Element, value: string): string {
  if (!value.startsWith('--')) return value;
  return getComputedStyle(el).getPropertyValue(value).trim() || '#888';
}

function alpha(color: string, a: number): string {
  // #rrggbb → rgba(); anything else is left as it is (no fill then is fine).
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${a})`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * A line chart of per-minute counts with a legend (values under the cursor, click to hide a series).
 * It follows its container's width; `signal` destroys it when the page goes away.
 */
export function minuteChart(o: {
  title: string;
  series: SeriesSpec[];
  height?: number;
  signal: AbortSignal;
  testId?: string;
  unit?: string;
  /** What the legend's time column says when the cursor is off the chart (the values are then the window's totals). */
  idleLabel?: string;
}): MinuteChart {
  const plot = h('div', { class: 'chart-plot' });
  const element = h('figure', { class: 'chart', 'data-testid': o.testId }, h('figcaption', {}, o.title), plot);
  let chart: uPlot | undefined;
  let data: uPlot.AlignedData = [[], ...o.series.map(() => [])];
  const height = o.height ?? 220;

  const build = () => {
    chart?.destroy();
    const fg = cssColor(element, '--muted');
    const grid = cssColor(element, '--line-soft');
    const width = Math.max(240, plot.clientWidth || element.clientWidth || 600);
    const opts: uPlot.Options = {
      width,
      height,
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      legend: { live: true },
      axes: [
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (_u, splits) => splits.map((s) => timeOfDay.format(new Date(s * 1000))),
          space: 60,
        },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          size: 48,
          values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? formatNumber(s) : '')),
        },
      ],
      series: [
        // Under the cursor: that minute's values; elsewhere: the totals of the window.
        { label: 'Minute', value: (_u, v) => (v === null || v === undefined ? (o.idleLabel ?? 'all') : timeOfDay.format(new Date(v * 1000))) },
        ...o.series.map((s) => {
          const color = cssColor(element, s.color);
          return {
            label: s.label,
            stroke: color,
            fill: alpha(color, 0.12),
            width: 2,
            points: { show: false },
            value: (u: uPlot, v: number | null, sidx: number) => {
              if (v === null || v === undefined) {
                v = 0;
                for (const x of (u.data[sidx] ?? []) as ArrayLike<number | null | undefined> & Iterable<number | null | undefined>) v += x ?? 0;
              }
              return `${formatNumber(v)}${o.unit ?? ''}`;
            },
          } satisfies uPlot.Series;
        }),
      ],
    };
    chart = new uPlot(opts, data, plot);
  };

  const resize = new ResizeObserver(() => {
    if (!chart) return;
    const width = Math.max(240, plot.clientWidth);
    if (Math.abs(width - chart.width) > 2) chart.setSize({ width, height });
  });
  const theme = window.matchMedia('(prefers-color-scheme: dark)');
  const onTheme = () => build();

  // Build once the figure is in the document (its width and the CSS variables are known then).
  const start = () => {
    if (o.signal.aborted || chart) return;
    if (!element.isConnected) return void requestAnimationFrame(start);
    build();
    resize.observe(plot);
    theme.addEventListener('change', onTheme);
  };
  requestAnimationFrame(start);

  const destroy = () => {
    resize.disconnect();
    theme.removeEventListener('change', onTheme);
    chart?.destroy();
    chart = undefined;
  };
  o.signal.addEventListener('abort', destroy);

  return {
    element,
    setData(x, ys) {
      data = [x, ...ys];
      chart?.setData(data);
    },
    destroy,
  };
}
