import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramSvg, lineChartSvg } from '../../src/plot/svg-chart.js';
import { densityPlotSvg, l0PlotSvg, lossPlotSvg } from '../../src/sae/training/training-plots.js';
import type { TrainingLogEntry } from '../../src/sae/training/trainer.js';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;
/** One <g class="mark-line …"> group per drawn line. */
const lineMarks = (svg: string): number => count(svg, /class="mark-line role-mark/g);

function wellFormed(svg: string): void {
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 80));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(count(svg, /<g\b/g), count(svg, /<\/g>/g), 'balanced groups');
}

test('lineChartSvg: title, axis labels, one line mark and one legend entry per series; log scale drops y ≤ 0', async () => {
  const svg = await lineChartSvg({
    title: 'Loss curve', x: { label: 'tokens seen' }, y: { label: 'loss value' }, yScale: 'log',
    series: [
      { name: 'alpha', points: [[0, 4], [100, 2], [200, 1]] },
      { name: 'beta', points: [[0, 1], [100, 0], [200, 0.25]] },
      { name: 'gamma', points: [[0, 0.5], [100, 0.3], [200, Number.NaN]] },
    ],
  });
  wellFormed(svg);
  for (const t of ['Loss curve', 'tokens seen', 'loss value', 'alpha', 'beta', 'gamma']) assert.ok(svg.includes(t), t);
  assert.equal(lineMarks(svg), 3);
});

test('lineChartSvg: a right-axis series gets its own axis title and line', async () => {
  const svg = await lineChartSvg({
    title: 'Two axes', x: { label: 'x' }, y: { label: 'left label' }, y2: { label: 'right label' },
    series: [{ name: 'a', points: [[0, 10], [1, 20]] }, { name: 'b', points: [[0, 0.1], [1, 0.2]], axis: 'right' }],
  });
  wellFormed(svg);
  for (const t of ['Two axes', 'left label', 'right label']) assert.ok(svg.includes(t), t);
  assert.equal(lineMarks(svg), 2);
});

test('histogramSvg: title, axis labels, one bar per bin; bad edges are refused', async () => {
  const svg = await histogramSvg({ title: 'Hist title', bins: [0, 1, 2, 3], counts: [5, 0, 2], xLabel: 'value bins', yLabel: 'how many' });
  wellFormed(svg);
  for (const t of ['Hist title', 'value bins', 'how many']) assert.ok(svg.includes(t), t);
  assert.equal(count(svg, /aria-roledescription="bar"/g), 3);
  await assert.rejects(async () => histogramSvg({ title: 't', bins: [0, 1], counts: [1, 2], xLabel: 'x' }), /bin edges/);
});

test('training plots: loss (terms present), L0 + dead fraction, density histogram', async () => {
  const history: TrainingLogEntry[] = [1, 10, 20].map((step) => ({
    step, tokens: step * 64, total: 2 / step + 0.1, mse: 1 / step + 0.05, sparsity: 0.05, aux: 0, l0: 30 / step + 4, explained_variance: 1 - 1 / step, dead_fraction: step / 100, lr: 1e-3,
  }));
  const loss = await lossPlotSvg(history);
  wellFormed(loss);
  for (const t of ['SAE training loss', 'training tokens', 'total', 'mse', 'sparsity']) assert.ok(loss.includes(t), t);
  assert.equal(lineMarks(loss), 3, 'aux is all zero and left out');
  const l0 = await l0PlotSvg(history);
  wellFormed(l0);
  for (const t of ['L0', 'dead fraction']) assert.ok(l0.includes(t), t);
  assert.equal(lineMarks(l0), 2);
  const dens = await densityPlotSvg({ log10_bin_edges: [-2, -1, 0], counts: [3, 4], dead: 1 });
  wellFormed(dens);
  assert.ok(dens.includes('8 latents; 1 never fired'));
});
