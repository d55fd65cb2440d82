/**
 * Small static charts as SVG strings: line charts (training curves) and histograms (feature
 * density). Specs are written in Vega-Lite, compiled to Vega and rendered headless by vega's SVG
 * string renderer — pure JavaScript, no canvas or native code. This module is the only place that
 * touches vega / vega-lite, behind a narrow typed interface.
 *
 * Rendering is asynchronous in vega (View#toSVG returns a Promise), so these functions are too.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface LineSeries {
  name: string;
  /** [x, y] pairs; non-finite values (and, on a log y axis, values ≤ 0) are left out. */
  points: readonly (readonly [number, number])[];
  /** Which y axis the series is read against; 'right' gives the chart a second, independent y axis. */
  axis?: 'left' | 'right';
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  x: { label: string };
  y?: { label?: string };
  /** The right-hand y axis (used by series with axis: 'right'); always linear. */
  y2?: { label?: string; domain?: readonly [number, number] };
  series: readonly LineSeries[];
  yScale?: 'linear' | 'log';
  /** Draw a dot at every data point as well as the line (for sparse series such as a sweep). */
  points?: boolean;
  width?: number;
  height?: number;
}

export interface HistogramOptions {
  title: string;
  subtitle?: string;
  /** Bin edges, one more than counts; bin i spans bins[i] ≤ x < bins[i+1]. */
  bins: readonly number[];
  counts: readonly number[];
  xLabel: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const DEFAULT_WIDTH = 560;
const DEFAULT_HEIGHT = 300;

const CONFIG: vl.TopLevelSpec['config'] = {
  font: 'Helvetica, Arial, sans-serif',
  title: { fontSize: 14, anchor: 'start', subtitleColor: '#555' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'right' },
  view: { stroke: '#bbb' },
};

function titleOf(title: string, subtitle: string | undefined): vl.TopLevelSpec['title'] {
  return subtitle ? { text: title, subtitle } : title;
}

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderVegaLiteSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type LinePoint = { x: number; y: number; series: string };
type LayerUnit = Extract<vl.TopLevelSpec, { layer: unknown }>['layer'][number];

/** A line chart with one line (and one legend entry) per series. */
export function lineChartSvg(o: LineChartOptions): Promise<string> {
  const pointsOf = (side: 'left' | 'right', log: boolean): LinePoint[] => {
    const values: LinePoint[] = [];
    for (const s of o.series) {
      if ((s.axis ?? 'left') !== side) continue;
      for (const [x, y] of s.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y) || (log && y <= 0)) continue;
        values.push({ x, y, series: s.name });
      }
    }
    return values;
  };
  const names = o.series.map((s) => s.name);
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: names }, sort: names } as const;
  const x = { field: 'x', type: 'quantitative', title: o.x.label, axis: { format: '~s' } } as const;
  const mark = { type: 'line', strokeWidth: 1.6, ...(o.points ? { point: true } : {}) } as const;
  const log = o.yScale === 'log';
  const left: LayerUnit = {
    data: { values: pointsOf('left', log) },
    mark,
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: o.y?.label ?? '', scale: log ? { type: 'log' } : { zero: true }, axis: { format: '~g' } },
      color,
    },
  };
  const layer: LayerUnit[] = [left];
  if (o.series.some((s) => s.axis === 'right')) {
    layer.push({
      data: { values: pointsOf('right', false) },
      mark: { ...mark, strokeDash: [5, 3] },
      encoding: { x, y: { field: 'y', type: 'quantitative', title: o.y2?.label ?? '', scale: o.y2?.domain ? { domain: [...o.y2.domain] } : { zero: true }, axis: { orient: 'right', grid: false, format: '~g' } }, color },
    });
  }
  const spec: vl.TopLevelSpec = {
    ...frame(o),
    layer,
    resolve: { scale: { y: 'independent' } },
  };
  return renderVegaLiteSvg(spec);
}

/** What every chart shares: schema, title, size, background and theme. */
function frame(o: { title: string; subtitle?: string; width?: number; height?: number }) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: titleOf(o.title, o.subtitle),
    width: o.width ?? DEFAULT_WIDTH,
    height: o.height ?? DEFAULT_HEIGHT,
    background: 'white',
    padding: 8,
    config: CONFIG,
  };
}

/** A histogram of pre-binned counts (bars between consecutive edges). */
export function histogramSvg(o: HistogramOptions): Promise<string> {
  if (o.bins.length !== o.counts.length + 1) throw new Error(`histogram: ${o.bins.length} bin edges for ${o.counts.length} counts (need counts + 1)`);
  const values = o.counts.map((count, i) => ({ start: o.bins[i], end: o.bins[i + 1], count }));
  const spec: vl.TopLevelSpec = {
    ...frame(o),
    data: { values },
    mark: { type: 'bar', color: '#4c78a8', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: 'binned', title: o.xLabel, axis: { values: [...o.bins], format: '~g', labelOverlap: true } },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: o.yLabel ?? 'count' },
    },
  };
  return renderVegaLiteSvg(spec);
}
