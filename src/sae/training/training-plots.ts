/**
 * The plots written next to a trained SAE: loss.svg (loss terms vs tokens, log y), l0.svg (L0 and
 * dead fraction vs tokens) and feature_density.svg (histogram of log10 firing density, the same
 * bins as `sae eval`'s feature_density_histogram). Each file is written atomically.
 */
import { join } from 'node:path';
import { histogramSvg } from '../../plot/histogram.js';
import { lineChartSvg } from '../../plot/line-chart.js';
import type { LineSeries } from '../../plot/line-chart.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { DensityHistogram } from '../eval/feature-density.js';
import { summarizeDensity } from '../eval/feature-density.js';
import type { TrainingLogEntry } from './trainer.js';

export const LOSS_PLOT_FILE = 'loss.svg';
export const L0_PLOT_FILE = 'l0.svg';
export const DENSITY_PLOT_FILE = 'feature_density.svg';

/**
 * loss.svg: mse, the sparsity penalty, the auxiliary loss and their total vs tokens (log y; a step
 * whose term is 0 leaves a gap in that term's line; all-zero terms are left out). The total is
 * drawn last and dashed: without a penalty it equals mse and would otherwise hide it.
 */
export function lossPlotSvg(history: readonly TrainingLogEntry[], title = 'SAE training loss'): string {
  const terms = ['mse', 'sparsity', 'aux', 'total'] as const;
  const series: LineSeries[] = [];
  for (const key of terms) {
    // Always draw total and mse; the sparsity and aux terms only where the architecture has them.
    if (key !== 'total' && key !== 'mse' && !history.some((e) => e[key] > 0)) continue;
    series.push({ name: key, points: history.map((e) => [e.tokens, e[key]] as const), dashed: key === 'total' });
  }
  return lineChartSvg({ title, subtitle: 'loss terms per step (coefficients included)', x: { label: 'training tokens' }, y: { label: 'loss' }, yScale: 'log', series });
}

/** l0.svg: mean L0 (left axis) and the dead-latent fraction (right axis, dashed) vs tokens. */
export function l0PlotSvg(history: readonly TrainingLogEntry[], title = 'SAE sparsity'): string {
  return lineChartSvg({
    title,
    subtitle: 'L0 (left axis); dead fraction (right axis, dashed)',
    x: { label: 'training tokens' },
    y: { label: 'L0 (active latents per token)' },
    y2: { label: 'dead fraction', domain: [0, 1] },
    series: [
      { name: 'L0', points: history.map((e) => [e.tokens, e.l0] as const) },
      { name: 'dead fraction', points: history.map((e) => [e.tokens, e.dead_fraction] as const), axis: 'right', dashed: true },
    ],
  });
}

/** feature_density.svg from a DensityHistogram (dead latents, density 0, are named in the subtitle). */
export function densityPlotSvg(h: DensityHistogram, title = 'Feature density'): string {
  const total = h.counts.reduce((a, b) => a + b, 0) + h.dead;
  return histogramSvg({
    title,
    subtitle: `${total} latents; ${h.dead} never fired (density 0, not shown)`,
    bins: h.log10_bin_edges,
    counts: h.counts,
    xLabel: 'log10 feature density (fraction of tokens a latent fires on)',
    yLabel: 'latents',
  });
}

/** The feature_density.svg that `sae eval` writes: the density histogram of the held-out eval contexts. */
export function heldOutDensityPlotSvg(h: DensityHistogram, contexts: number): string {
  return densityPlotSvg(h, `Feature density (${contexts} held-out contexts)`);
}

/** Writes loss.svg, l0.svg and feature_density.svg into dir; returns their paths. */
export function writeTrainingPlots(dir: string, history: readonly TrainingLogEntry[], featureDensity: ArrayLike<number>): string[] {
  const files: [string, string][] = [
    [LOSS_PLOT_FILE, lossPlotSvg(history)],
    [L0_PLOT_FILE, l0PlotSvg(history)],
    [DENSITY_PLOT_FILE, densityPlotSvg(summarizeDensity(featureDensity).feature_density_histogram, 'Feature density over training')],
  ];
  const paths: string[] = [];
  for (const [name, svg] of files) {
    const path = join(dir, name);
    writeFileAtomic(path, svg);
    paths.push(path);
  }
  return paths;
}
