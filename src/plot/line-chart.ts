/**
 * Line charts as SVG strings (training curves, the SAE frontier): one line per series, a linear
 * or log y axis, an optional second y axis on the right, and a legend when there are several series.
 */
import { chartSvg, DASH, el, num, PALETTE } from './chart-frame.js';
import type { LegendEntry } from './chart-frame.js';
import { linearScale, logScale } from './scale.js';
import type { Scale } from './scale.js';

export interface LineSeries {
  name: string;
  /**
   * [x, y] pairs, joined in the order given. A pair that cannot be drawn (non-finite, or y ≤ 0 on
   * a log axis) breaks the line there rather than being bridged; a lone point left between two
   * breaks is drawn as a dot.
   */
  points: readonly (readonly [number, number])[];
  /** Which y axis the series is read against; 'right' gives the chart a second, independent y axis. */
  axis?: 'left' | 'right';
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  x: { label: string };
  y?: { label?: string };
  /** The right-hand y axis (used by series with axis: 'right'); always linear, widened to the data if they leave the domain. */
  y2?: { label?: string; domain?: readonly [number, number] };
  series: readonly LineSeries[];
  /** The left y axis; a linear one always includes 0. */
  yScale?: 'linear' | 'log';
  /** Draw a dot at every data point as well as the line (for sparse series such as a sweep). */
  points?: boolean;
  /** Plot area size in pixels (the margins come on top). */
  width?: number;
  height?: number;
}

const DEFAULT_WIDTH = 560;
const DEFAULT_HEIGHT = 300;
/** Pixels per tick: x labels need room for "1.5M"; y labels are one line high. */
const X_TICK_SPACING = 80;
const Y_TICK_SPACING = 40;

type Point = readonly [number, number];

/** The series' points split into the runs that are drawn as one unbroken line each. */
function runs(points: readonly Point[], drawable: (p: Point) => boolean): Point[][] {
  const out: Point[][] = [[]];
  for (const p of points) {
    if (drawable(p)) out[out.length - 1].push(p);
    else if (out[out.length - 1].length) out.push([]);
  }
  return out.filter((r) => r.length > 0);
}

/** [min, max] of the values (NaN for none); a loop, as a training log can outgrow Math.min(...spread). */
function extent(values: readonly number[]): [number, number] {
  let lo = Number.NaN;
  let hi = Number.NaN;
  for (const v of values) {
    if (!(v >= lo)) lo = v;
    if (!(v <= hi)) hi = v;
  }
  return [lo, hi];
}

export function lineChartSvg(o: LineChartOptions): string {
  const width = o.width ?? DEFAULT_WIDTH;
  const height = o.height ?? DEFAULT_HEIGHT;
  const log = o.yScale === 'log';
  const isRight = (s: LineSeries): boolean => s.axis === 'right';
  const drawableOn = (s: LineSeries) => ([x, y]: Point): boolean => Number.isFinite(x) && Number.isFinite(y) && !(log && !isRight(s) && y <= 0);
  const lines = o.series.map((s) => runs(s.points, drawableOn(s)));
  // The axes span what is drawn: every x, and the y values of the series read against each side.
  const xs: number[] = [];
  const leftYs: number[] = [];
  const rightYs: number[] = [...(o.y2?.domain ?? [])];
  lines.forEach((r, k) => {
    for (const [x, y] of r.flat()) {
      xs.push(x);
      (isRight(o.series[k]) ? rightYs : leftYs).push(y);
    }
  });

  const xScale = linearScale(extent(xs), [0, width], Math.max(2, Math.round(width / X_TICK_SPACING)));
  const yTicks = Math.max(2, Math.round(height / Y_TICK_SPACING));
  const [ylo, yhi] = extent(leftYs);
  const yScale = log ? logScale([ylo, yhi], [height, 0]) : linearScale([Math.min(0, ylo), Math.max(0, yhi)], [height, 0], yTicks);
  let y2Scale: Scale | undefined;
  if (o.series.some(isRight)) {
    const [lo, hi] = extent(rightYs);
    y2Scale = linearScale(o.y2?.domain ? [lo, hi] : [Math.min(0, lo), Math.max(0, hi)], [height, 0], yTicks);
  }

  const marks = o.series.map((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const ys = isRight(s) && y2Scale ? y2Scale : yScale;
    const at = ([x, y]: Point): [string, string] => [num(xScale.at(x)), num(ys.at(y))];
    const parts: string[] = [];
    for (const run of lines[k]) {
      if (run.length > 1) {
        const d = run.map((p, i) => `${i ? 'L' : 'M'}${at(p).join(' ')}`).join('');
        parts.push(el('path', { class: 'line', d, fill: 'none', stroke: color, 'stroke-width': 1.75, 'stroke-linejoin': 'round', 'stroke-dasharray': s.dashed ? DASH : undefined }));
      }
      if (o.points || run.length === 1) {
        for (const p of run) parts.push(el('circle', { class: 'point', cx: xScale.at(p[0]), cy: ys.at(p[1]), r: o.points ? 3 : 2, fill: color }));
      }
    }
    return el('g', { class: 'series', 'data-series': s.name }, ...parts);
  });

  const legend: LegendEntry[] | undefined = o.series.length > 1
    ? o.series.map((s, k) => ({ name: s.name, color: PALETTE[k % PALETTE.length], dashed: s.dashed, point: o.points }))
    : undefined;
  return chartSvg({
    title: o.title,
    subtitle: o.subtitle,
    width,
    height,
    x: { scale: xScale, label: o.x.label },
    y: { scale: yScale, label: o.y?.label ?? '' },
    y2: y2Scale ? { scale: y2Scale, label: o.y2?.label ?? '' } : undefined,
    legend,
    marks: marks.join(''),
  });
}
