import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearScale, logScale } from '../../src/plot/scale.js';
import { Prng } from '../../src/model/sampling/prng.js';
import { readLabel } from './svg-reader.js';

const labels = (s: { ticks: readonly { label: string }[] }): string[] => s.ticks.map((t) => t.label);

test('linearScale: hand-worked ticks and labels (no float drift, true minus, k/M from 10,000)', () => {
  // 0 … 0.7 in ~5 steps: raw step 0.14 rounds to 0.1 (0.3 prints as 0.3, not 0.30000000000000004).
  assert.deepEqual(labels(linearScale([0.1, 0.7], [0, 100], 5)), ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7']);
  // 1024 … 1,996,800 tokens in ~7 steps: raw 285,111 rounds to 200k; the domain widens to 0 … 2M.
  const tokens = linearScale([1024, 1996800], [0, 560], 7);
  assert.deepEqual(tokens.domain, [0, 2e6]);
  assert.deepEqual(labels(tokens), ['0', '0.2M', '0.4M', '0.6M', '0.8M', '1M', '1.2M', '1.4M', '1.6M', '1.8M', '2M']);
  // Bin edges −8 … 0 without widening: steps of 1, and the ends stay where they are.
  const edges = linearScale([-8, 0], [0, 560], 9, false);
  assert.deepEqual(edges.domain, [-8, 0]);
  assert.deepEqual(labels(edges), ['\u22128', '\u22127', '\u22126', '\u22125', '\u22124', '\u22123', '\u22122', '\u22121', '0']);
  assert.deepEqual(labels(linearScale([0, 47000], [0, 100], 5)), ['0', '10k', '20k', '30k', '40k', '50k']);
});

test('linearScale laws: steps of 1, 2 or 5 × 10^k, evenly spaced, enclosing the data, about as many as asked, labels read back', () => {
  const prng = new Prng(7);
  const rand = (): number => prng.nextFloat();
  for (let trial = 0; trial < 500; trial++) {
    const scale = 10 ** Math.floor(rand() * 16 - 8);
    const a = (rand() * 2 - 1) * scale;
    const b = a + rand() * scale * 10 + scale * 1e-3;
    const count = 2 + Math.floor(rand() * 10);
    const s = linearScale([a, b], [0, 500], count);
    const v = s.ticks.map((t) => t.value);
    const step = v[1] - v[0];
    const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${step} for [${a}, ${b}]`);
    for (let i = 1; i < v.length; i++) assert.ok(Math.abs(v[i] - v[i - 1] - step) <= 1e-9 * Math.abs(step) * (1 + Math.abs(v[i] / step)), `uneven ticks ${v}`);
    assert.ok(s.domain[0] <= a && s.domain[1] >= b, `domain ${s.domain} encloses [${a}, ${b}]`);
    assert.equal(v[0], s.domain[0]);
    assert.equal(v[v.length - 1], s.domain[1]);
    // The nice step is the raw one (span / count) times a factor in (√0.4, √2.5]: the worst cases
    // are raw = √10 × 10^k rounded down to 2 × 10^k and rounded up to 5 × 10^k.
    const intervals = v.length - 1;
    assert.ok(intervals >= count / Math.sqrt(2.5) - 1e-9 && intervals < count / Math.sqrt(0.4), `${intervals} intervals for ${count}`);
    for (const t of s.ticks) assert.ok(Math.abs(readLabel(t.label) - t.value) <= Math.abs(step) * 1e-6, `label ${t.label} for ${t.value}`);
    assert.ok(Math.abs(s.at(s.domain[0])) < 1e-9);
    assert.ok(Math.abs(s.at(s.domain[1]) - 500) < 1e-9);
  }
});

test('linearScale: degenerate data still give an axis (one value, none)', () => {
  const one = linearScale([16, 16], [300, 0], 8);
  assert.ok(one.domain[0] < 16 && one.domain[1] > 16, `${one.domain}`);
  assert.deepEqual(linearScale([Number.NaN, Number.NaN], [0, 1], 5).domain, [0, 1]);
  assert.deepEqual(linearScale([0, 0], [0, 1], 5).domain, [0, 1]);
});

test('logScale: whole decades, labelled as written by hand, at equal distances; 2 and 5 labelled on short axes', () => {
  const s = logScale([0.003, 250], [300, 0]);
  assert.deepEqual(s.domain, [0.001, 1000]);
  assert.deepEqual(labels(s), ['0.001', '0.01', '0.1', '1', '10', '100', '1000']);
  s.ticks.forEach((t, i) => assert.ok(Math.abs(s.at(t.value) - (300 - 50 * i)) < 1e-9, `${t.label} at ${s.at(t.value)}`));
  // Between decades the grid follows log paper: 2…9 × 10^k at log10 distances.
  assert.equal(s.minor.length, 6 * 8);
  assert.ok(Math.abs(s.at(2) - (150 - 50 * Math.log10(2))) < 1e-9);
  assert.deepEqual(labels(logScale([2, 8], [0, 100])), ['1', '2', '5', '10']);
  const wide = logScale([1e-6, 1e6], [0, 100]);
  assert.deepEqual(labels(wide).slice(0, 3), ['1e\u22126', '1e\u22125', '0.0001']);
  assert.equal(wide.minor.length, 0, 'no minor grid over twelve decades');
  assert.deepEqual(logScale([Number.NaN, Number.NaN], [0, 1]).domain, [1, 10]);
});
