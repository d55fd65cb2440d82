import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { histogramSvg } from '../../src/plot/histogram.js';
import { allText, findAll, hasClass, parseSvg, readAxis } from './svg-reader.js';

test('histogramSvg: each bar spans its bin edges and its height is its count, read through the axes', () => {
  const bins = [-3, -2.5, -2, -1.5, -1, -0.5, 0];
  const counts = [5, 0, 12, 381, 7, 1];
  const svg = parseSvg(histogramSvg({ title: 'Hist title', subtitle: 'sub', bins, counts, xLabel: 'value bins', yLabel: 'how many' }));
  for (const t of ['Hist title', 'sub', 'value bins', 'how many']) assert.ok(allText(svg).includes(t), t);
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y');
  const bars = findAll(svg, hasClass('bar')).map((b) => ['x', 'y', 'width', 'height'].map((k) => Number(b.attrs[k])));
  assert.equal(bars.length, counts.length);
  const unitsPerPixelX = x.unitsPerPixel(0);
  bars.forEach(([bx, by, w, h], i) => {
    assert.ok(Math.abs(x.valueAt(bx) - bins[i]) <= 0.012 * unitsPerPixelX, `bar ${i} starts at ${x.valueAt(bx)}, bin edge ${bins[i]}`);
    assert.ok(Math.abs(x.valueAt(bx + w) - bins[i + 1]) <= 0.02 * unitsPerPixelX, `bar ${i} ends at ${x.valueAt(bx + w)}, bin edge ${bins[i + 1]}`);
    assert.ok(Math.abs(h * y.unitsPerPixel(0) - counts[i]) <= 0.02 * y.unitsPerPixel(0), `bar ${i} is ${h * y.unitsPerPixel(0)} high, count ${counts[i]}`);
    assert.ok(Math.abs(y.valueAt(by + h)) <= 0.012 * y.unitsPerPixel(0), `bar ${i} stands on 0`);
  });
  // The x axis spans the bins exactly: its first and last labels are the outer edges.
  assert.deepEqual([x.ticks[0][1], x.ticks[x.ticks.length - 1][1]], [-3, 0]);
});

test('histogramSvg: edges that are not one more than the counts are a ShapeError naming both', () => {
  assert.throws(() => histogramSvg({ title: 't', bins: [0, 1], counts: [1, 2], xLabel: 'x' }), (e: unknown) => e instanceof ShapeError && /2 bin edges for 2 counts/.test(e.message));
});
