/**
 * A feature's activation histogram (equal-width bins over (0, max], activation-histogram.ts) as an
 * SVG bar chart: bars are rects with geometry attributes (allowed by the CSP, unlike inline
 * styles), coloured by the stylesheet; one text alternative describes the whole chart.
 */
import type { ActivationHistogram } from '../../sae/feature-index/activation-histogram.js';
import { h } from '../ui/dom.js';
import { formatActivation } from './activation-level.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 64;

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function histogramFigure(hist: ActivationHistogram): HTMLElement {
  const total = hist.counts.reduce((a, b) => a + b, 0);
  const peak = Math.max(1, ...hist.counts);
  const bin = hist.counts.length > 0 ? hist.max / hist.counts.length : 0;
  const modal = hist.counts.indexOf(peak);
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'histogram', role: 'img', preserveAspectRatio: 'none' });
  chart.setAttribute(
    'aria-label',
    total === 0 ? 'Activation histogram: the feature never fired in the corpus.' : `Activation histogram: ${total} firings between 0 and ${formatActivation(hist.max)}, most between ${formatActivation(modal * bin)} and ${formatActivation((modal + 1) * bin)}.`,
  );
  const w = WIDTH / Math.max(1, hist.counts.length);
  hist.counts.forEach((c, i) => {
    if (c === 0) return;
    // At least one pixel high, so a rare bin is still seen.
    const bh = Math.max(1, (c / peak) * (HEIGHT - 2));
    const bar = svg('rect', { x: i * w + 0.5, y: HEIGHT - bh, width: Math.max(0.5, w - 1), height: bh });
    const title = svg('title', {});
    title.textContent = `${c} between ${formatActivation(i * bin)} and ${formatActivation((i + 1) * bin)}`;
    bar.append(title);
    chart.append(bar);
  });
  return h('figure', { class: 'histogram-figure' }, chart, h('figcaption', { class: 'histogram-axis', 'aria-hidden': 'true' }, h('span', {}, '0'), h('span', {}, formatActivation(hist.max))));
}
