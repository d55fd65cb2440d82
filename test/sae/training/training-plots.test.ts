import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TrainingLogEntry } from '../../../src/sae/training/trainer.js';
import { densityPlotSvg, l0PlotSvg, lossPlotSvg, writeTrainingPlots } from '../../../src/sae/training/training-plots.js';
import { allText, assertPointsClose, findAll, hasClass, parseSvg, readAxis, readSeries, toData } from '../../plot/svg-reader.js';

// A run of 2048-token batches whose sparsity term is 0 until step 20 (as under a warm-up) and whose aux loss never fires.
const history: TrainingLogEntry[] = [1, 10, 20, 30, 40].map((step) => ({
  step, tokens: step * 2048, total: 2 / step + 0.1 + (step >= 20 ? 0.05 : 0), mse: 1 / step + 0.1, sparsity: step >= 20 ? 0.05 : 0, aux: 0,
  l0: 30 / step + 4, explained_variance: 1 - 1 / step, dead_fraction: step / 100, lr: 1e-3,
}));
const column = (key: keyof TrainingLogEntry, from = 0): [number, number][] => history.slice(from).map((e) => [e.tokens, e[key]]);
const legendNames = (svg: ReturnType<typeof parseSvg>): string[] => findAll(svg, hasClass('legend-entry')).map((e) => allText(e).join(''));

test('loss.svg plots each loss term of the history against tokens on a log axis; all-zero terms are left out, zero steps are gaps', () => {
  const svg = parseSvg(lossPlotSvg(history));
  for (const t of ['SAE training loss', 'training tokens', 'loss']) assert.ok(allText(svg).includes(t), t);
  assert.deepEqual(legendNames(svg), ['mse', 'sparsity', 'total'], 'aux is 0 throughout');
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y', 'log');
  for (const key of ['mse', 'total'] as const) assertPointsClose(toData(readSeries(svg, key).lines[0], x, y), column(key), x, y, key);
  // The sparsity term is 0 before step 20: not drawn there (log 0), drawn from step 20 on.
  const sparsity = readSeries(svg, 'sparsity');
  assert.equal(sparsity.lines.length, 1);
  assertPointsClose(toData(sparsity.lines[0], x, y), column('sparsity', 2), x, y, 'sparsity');
  assert.equal(readSeries(svg, 'total').path[0].attrs['stroke-dasharray'], '5 3', 'total dashed, so mse shows through where they coincide');
});

test('l0.svg plots L0 on the left axis and the dead fraction on a 0…1 right axis', () => {
  const svg = parseSvg(l0PlotSvg(history));
  assert.deepEqual(legendNames(svg), ['L0', 'dead fraction']);
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y');
  const y2 = readAxis(svg, 'axis-y2');
  assert.deepEqual([y2.ticks[0][1], y2.ticks[y2.ticks.length - 1][1]], [0, 1]);
  assertPointsClose(toData(readSeries(svg, 'L0').lines[0], x, y), column('l0'), x, y, 'L0');
  assertPointsClose(toData(readSeries(svg, 'dead fraction').lines[0], x, y2), column('dead_fraction'), x, y2, 'dead fraction');
});

test('writeTrainingPlots: feature_density.svg bars are the latents per log10-density bin, counted by hand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-plots-'));
  try {
    // log10 densities: −0.30 (bin [−0.5, 0)), −1.70 and −1.52 (bin [−2, −1.5)), −9 (below −8: the first bin), and one dead latent.
    const paths = writeTrainingPlots(dir, history, [0.5, 0.02, 0.03, 1e-9, 0]);
    assert.deepEqual(paths.map((p) => p.slice(dir.length + 1)), ['loss.svg', 'l0.svg', 'feature_density.svg']);
    const svg = parseSvg(readFileSync(join(dir, 'feature_density.svg'), 'utf8'));
    assert.ok(allText(svg).includes('5 latents; 1 never fired (density 0, not shown)'));
    const y = readAxis(svg, 'axis-y');
    const heights = findAll(svg, hasClass('bar')).map((b) => Number(b.attrs.height) * y.unitsPerPixel(0));
    for (const h of heights) assert.ok(Math.abs(h - Math.round(h)) < 0.05, `bar height ${h} counts`);
    const expected = new Array(16).fill(0);
    expected[0] = 1;
    expected[12] = 2;
    expected[15] = 1;
    assert.deepEqual(heights.map(Math.round), expected);
    // loss.svg and l0.svg on disk plot the history.
    const loss = parseSvg(readFileSync(join(dir, 'loss.svg'), 'utf8'));
    const [lx, ly] = [readAxis(loss, 'axis-x'), readAxis(loss, 'axis-y', 'log')];
    assertPointsClose(toData(readSeries(loss, 'mse').lines[0], lx, ly), column('mse'), lx, ly, 'loss.svg mse');
    const l0 = parseSvg(readFileSync(join(dir, 'l0.svg'), 'utf8'));
    const [x, y0] = [readAxis(l0, 'axis-x'), readAxis(l0, 'axis-y')];
    assertPointsClose(toData(readSeries(l0, 'L0').lines[0], x, y0), column('l0'), x, y0, 'l0.svg L0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('densityPlotSvg names every latent in its subtitle, the dead ones included', () => {
  const svg = parseSvg(densityPlotSvg({ log10_bin_edges: [-2, -1, 0], counts: [3, 4], dead: 1 }));
  assert.ok(allText(svg).includes('8 latents; 1 never fired (density 0, not shown)'));
});
