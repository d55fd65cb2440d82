/**
 * Histograms of pre-binned counts as SVG strings (the feature-density plot): one bar per bin,
 * spanning its two edges, on a linear count axis from 0.
 */
import { ShapeError } from '../errors.js';
import { chartSvg, el, PALETTE } from './chart-frame.js';
import { linearScale } from './scale.js';

export interface HistogramOptions {
  title: string;
  subtitle?: string;
  /** Bin edges, ascending, one more than counts; bin i spans bins[i] ≤ x < bins[i+1]. */
  bins: readonly number[];
  counts: readonly number[];
  xLabel: string;
  yLabel?: string;
  /** Plot area size in pixels (the margins come on top). */
  width?: number;
  height?: number;
}

const DEFAULT_WIDTH = 560;
const DEFAULT_HEIGHT = 300;

export function histogramSvg(o: HistogramOptions): string {
  if (o.bins.length !== o.counts.length + 1) throw new ShapeError(`histogram: ${o.bins.length} bin edges for ${o.counts.length} counts (need counts + 1)`);
  const width = o.width ?? DEFAULT_WIDTH;
  const height = o.height ?? DEFAULT_HEIGHT;
  // The x axis spans the bins exactly (no widening), so the first and last bars meet its ends.
  const x = linearScale([o.bins[0], o.bins[o.bins.length - 1]], [0, width], Math.max(2, Math.round(width / 60)), false);
  const y = linearScale([0, o.counts.reduce((a, b) => Math.max(a, b), 0)], [height, 0], Math.max(2, Math.round(height / 40)));
  const bars = o.counts.map((count, i) => {
    const [x0, x1] = [x.at(o.bins[i]), x.at(o.bins[i + 1])];
    const top = y.at(count);
    return el('rect', { class: 'bar', x: x0, y: top, width: x1 - x0, height: y.at(0) - top, fill: PALETTE[0], stroke: 'white', 'stroke-width': 1 },
      el('title', {}, `[${o.bins[i]}, ${o.bins[i + 1]}): ${count}`));
  });
  return chartSvg({
    title: o.title,
    subtitle: o.subtitle,
    width,
    height,
    x: { scale: x, label: o.xLabel },
    y: { scale: y, label: o.yLabel ?? 'count' },
    xGrid: false,
    marks: el('g', { class: 'bars' }, ...bars),
  });
}
