import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChartSvg } from '../../src/plot/line-chart.js';
import { allText, assertPointsClose, findAll, hasClass, parseSvg, readAxis, readSeries, toData } from './svg-reader.js';

test('lineChartSvg: the plotted points are the data, read back through the axes\' tick labels', () => {
  const alpha: [number, number][] = [[0.5, 3.2], [7, -1.5], [12.25, 8], [13, 0.01]];
  const beta: [number, number][] = [[2, 5.5], [9.75, -2.25]];
  const svg = parseSvg(lineChartSvg({ title: 't', x: { label: 'x' }, series: [{ name: 'alpha', points: alpha }, { name: 'beta', points: beta }] }));
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y');
  for (const [name, data] of [['alpha', alpha], ['beta', beta]] as const) {
    const s = readSeries(svg, name);
    assert.equal(s.lines.length, 1, `${name}: one unbroken line`);
    assertPointsClose(toData(s.lines[0], x, y), data, x, y, name);
    assert.equal(s.dots.length, 0, 'no dots unless asked for');
  }
  // A linear y axis starts from 0 when the data are all positive (magnitudes read true).
  const positive = parseSvg(lineChartSvg({ title: 't', x: { label: 'x' }, series: [{ name: 'a', points: [[0, 16], [1, 17]] }] }));
  assert.equal(readAxis(positive, 'axis-y').ticks[0][1], 0);
});

test('lineChartSvg: x labels in k and M read back as the tokens they mark', () => {
  const points: [number, number][] = [[1024, 110], [512000, 9.5], [1996800, 3.9]];
  const svg = parseSvg(lineChartSvg({ title: 't', x: { label: 'tokens' }, series: [{ name: 'loss', points }] }));
  const x = readAxis(svg, 'axis-x');
  assert.ok(x.ticks.some(([, v]) => v === 1e6), `a tick at 1M: ${x.ticks.map(([, v]) => v)}`);
  assertPointsClose(toData(readSeries(svg, 'loss').lines[0], x, readAxis(svg, 'axis-y')), points, x, readAxis(svg, 'axis-y'), 'loss');
});

test('lineChartSvg: a log y axis puts decades equally apart and the points at their log10', () => {
  const points: [number, number][] = [[0, 250], [1, 30], [2, 0.7], [3, 0.003]];
  const svg = parseSvg(lineChartSvg({ title: 't', x: { label: 'x' }, yScale: 'log', series: [{ name: 'a', points }] }));
  const y = readAxis(svg, 'axis-y', 'log');
  // Hand-written: the decades enclosing 0.003 … 250, each labelled once, in order.
  assert.deepEqual(y.ticks.map(([, v]) => v), [0.001, 0.01, 0.1, 1, 10, 100, 1000]);
  const gaps = y.ticks.slice(1).map(([p], i) => y.ticks[i][0] - p);
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 0.02 && g > 0, `decade gaps ${gaps}`);
  const x = readAxis(svg, 'axis-x');
  assertPointsClose(toData(readSeries(svg, 'a').lines[0], x, y), points, x, y, 'a');
});

test('lineChartSvg: undrawable points (y ≤ 0 on a log axis, NaN) break the line; a lone point is a dot', () => {
  const svg = parseSvg(lineChartSvg({
    title: 't', x: { label: 'x' }, yScale: 'log',
    series: [{ name: 'a', points: [[0, 4], [1, 0], [2, 1], [3, 2], [4, Number.NaN], [5, 0.5], [6, -1]] }],
  }));
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y', 'log');
  const s = readSeries(svg, 'a');
  assert.equal(s.lines.length, 1);
  assertPointsClose(toData(s.lines[0], x, y), [[2, 1], [3, 2]], x, y, 'the run between the breaks');
  assertPointsClose(toData(s.dots, x, y), [[0, 4], [5, 0.5]], x, y, 'the lone points');
});

test('lineChartSvg: points: true draws a dot at every data point', () => {
  const data: [number, number][] = [[4, 0.77], [8, 0.81], [16, 0.83]];
  const svg = parseSvg(lineChartSvg({ title: 't', x: { label: 'L0' }, points: true, series: [{ name: 'topk', points: data }] }));
  const x = readAxis(svg, 'axis-x');
  const y = readAxis(svg, 'axis-y');
  assertPointsClose(toData(readSeries(svg, 'topk').dots, x, y), data, x, y, 'dots');
});

test('lineChartSvg: a right-axis series is read against its own axis, which keeps the domain given', () => {
  const left: [number, number][] = [[0, 10], [1, 20], [2, 16]];
  const right: [number, number][] = [[0, 0.1], [1, 0.25], [2, 0.05]];
  const svg = parseSvg(lineChartSvg({
    title: 'Two axes', x: { label: 'x' }, y: { label: 'left label' }, y2: { label: 'right label', domain: [0, 1] },
    series: [{ name: 'a', points: left }, { name: 'b', points: right, axis: 'right', dashed: true }],
  }));
  const x = readAxis(svg, 'axis-x');
  const y2 = readAxis(svg, 'axis-y2');
  assert.deepEqual([y2.ticks[0][1], y2.ticks[y2.ticks.length - 1][1]], [0, 1]);
  assertPointsClose(toData(readSeries(svg, 'a').lines[0], x, readAxis(svg, 'axis-y')), left, x, readAxis(svg, 'axis-y'), 'left series');
  const b = readSeries(svg, 'b');
  assertPointsClose(toData(b.lines[0], x, y2), right, x, y2, 'right series');
  assert.equal(b.path[0].attrs['stroke-dasharray'], '5 3');
  assert.equal(readSeries(svg, 'a').path[0].attrs['stroke-dasharray'], undefined);
});

test('lineChartSvg: title, subtitle and axis titles are shown; a legend names several series in order, one series needs none', () => {
  const series = [{ name: 'mse', points: [[0, 1], [1, 2]] as [number, number][] }, { name: 'total & more', points: [[0, 2], [1, 3]] as [number, number][], dashed: true }];
  const svg = parseSvg(lineChartSvg({ title: 'Loss <curve>', subtitle: 'sub', x: { label: 'tokens seen' }, y: { label: 'loss value' }, series }));
  const text = allText(svg);
  for (const t of ['Loss <curve>', 'sub', 'tokens seen', 'loss value']) assert.ok(text.includes(t), `"${t}" in ${JSON.stringify(text)}`);
  const entries = findAll(svg, hasClass('legend-entry'));
  assert.deepEqual(entries.map((e) => allText(e).join('')), ['mse', 'total & more']);
  // Each entry's swatch is drawn as its line is: same colour, dashed only for the dashed series.
  entries.forEach((e, i) => {
    const swatch = e.children.find((c) => c.name === 'line')!;
    const path = readSeries(svg, series[i].name).path[0];
    assert.equal(swatch.attrs.stroke, path.attrs.stroke);
    assert.equal(swatch.attrs['stroke-dasharray'], path.attrs['stroke-dasharray']);
  });
  assert.notEqual(entries[0].children[0].attrs.stroke, entries[1].children[0].attrs.stroke, 'series have distinct colours');
  const single = parseSvg(lineChartSvg({ title: 't', x: { label: 'x' }, series: [series[0]] }));
  assert.equal(findAll(single, hasClass('legend-entry')).length, 0);
});
