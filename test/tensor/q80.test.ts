import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { Prng } from '../../src/model/sampling/prng.js';
import { dequantizeQ80, q80GroupSize, quantizeQ80 } from '../../src/tensor/q80.js';
import { referenceBackend } from '../../src/tensor/reference-backend.js';
import { isQ80, weightBytes } from '../../src/tensor/weight-matrix.js';
import { assertAllClose } from '../helpers/assert-all-close.js';

/** Q8_0 (llama2.c export.py quantize_q80 / GGML q8_0): error bounds, edge cases, and the reference matmul on it. */

function randomMatrix(n: number, seed: number, scale = 1): Float32Array {
  const prng = new Prng(seed);
  return Float32Array.from({ length: n }, () => (prng.nextFloat() * 2 - 1) * scale);
}

test('group size: 32, else the largest power of two dividing the row (export.py backs off by halving)', () => {
  assert.equal(q80GroupSize(64), 32);
  assert.equal(q80GroupSize(768), 32);
  assert.equal(q80GroupSize(288), 32);
  assert.equal(q80GroupSize(172), 4); // stories260K's hidden_dim (w2's rows)
  assert.equal(q80GroupSize(1376), 32);
  assert.equal(q80GroupSize(6), 2);
  assert.equal(q80GroupSize(7), 1);
});

test('every element is within scale/2 of q·scale, scale = max|w|/127 per group, |q| ≤ 127', () => {
  const rows = 12;
  const cols = 96;
  // Groups of very different magnitudes, as real weight rows have.
  const w = randomMatrix(rows * cols, 1);
  for (let i = 0; i < w.length; i++) w[i] *= 10 ** ((Math.floor(i / 32) % 5) - 3);
  const m = quantizeQ80(w, rows, cols);
  assert.equal(m.groupSize, 32);
  assert.equal(m.scales.length, (rows * cols) / 32);
  const back = dequantizeQ80(m);
  for (let g = 0; g < m.scales.length; g++) {
    let max = 0;
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(w[g * 32 + i]));
    assert.equal(m.scales[g], Math.fround(max / 127), `scale of group ${g}`);
    for (let i = g * 32; i < (g + 1) * 32; i++) {
      assert.ok(Math.abs(m.q[i]) <= 127, `|q[${i}]| = ${Math.abs(m.q[i])}`);
      // scale/2 from rounding, plus float32 rounding of w/scale and of q·scale
      const bound = m.scales[g] / 2 + 1e-6 * Math.abs(w[i]);
      assert.ok(Math.abs(back[i] - w[i]) <= bound, `element ${i}: |${back[i]} − ${w[i]}| > ${bound}`);
    }
    // the largest magnitude maps to ±127
    assert.ok(m.q.subarray(g * 32, (g + 1) * 32).some((q) => Math.abs(q) === 127));
  }
});

test('an all-zero group: scale 0, q 0, dequantises to 0 (no NaN); its neighbours are unaffected', () => {
  const w = randomMatrix(2 * 64, 2);
  w.fill(0, 32, 64); // row 0, second group
  w.fill(0, 64, 96); // row 1, first group
  const m = quantizeQ80(w, 2, 64);
  assert.deepEqual([...m.scales.map((s) => (s === 0 ? 0 : 1))], [1, 0, 0, 1]);
  assert.ok(m.q.subarray(32, 96).every((q) => q === 0));
  const back = dequantizeQ80(m);
  assert.ok(back.subarray(32, 96).every((x) => Object.is(x, 0) || x === 0));
  assert.ok(back.every((x) => Number.isFinite(x)));
  assertAllClose(back.subarray(0, 32), w.subarray(0, 32), { atol: m.scales[0] / 2 + 1e-9 });
});

test('values that are already k·scale round-trip exactly', () => {
  const prng = new Prng(3);
  const cols = 64;
  const rows = 4;
  const groups = (rows * cols) / 32;
  // Power-of-two scales: k·scale and (127·scale)/127 are exact in float32, so q = k and the scales come back bit for bit.
  const scales = Float32Array.from({ length: groups }, (_, g) => 2 ** (-3 - g));
  const k = Int8Array.from({ length: rows * cols }, () => Math.floor(prng.nextFloat() * 255) - 127);
  for (let g = 0; g < groups; g++) k[g * 32 + (g % 32)] = g % 2 ? -127 : 127; // each group reaches ±127
  const w = Float32Array.from(k, (q, i) => q * scales[Math.floor(i / 32)]);
  const m = quantizeQ80(w, rows, cols);
  assert.deepEqual(m.q, k);
  assert.deepEqual(m.scales, scales);
  assert.deepEqual(dequantizeQ80(m), w);
  // Any scale: q still recovers k exactly, and the values come back to float32 rounding.
  const w2 = Float32Array.from(k, (q, i) => q * 0.0123 * (1 + Math.floor(i / 32)));
  const m2 = quantizeQ80(w2, rows, cols);
  assert.deepEqual(m2.q, k);
  assertAllClose(dequantizeQ80(m2), w2, { rtol: 1e-6 });
});

test('ties round to even, as torch.round in export.py', () => {
  // max 127 → scale 1 exactly; 2.5 → 2, 3.5 → 4, −2.5 → −2, 0.5 → 0
  const w = new Float32Array(4);
  w.set([127, 2.5, 3.5, -2.5]);
  assert.deepEqual([...quantizeQ80(w, 1, 4, 4).q], [127, 2, 4, -2]);
  w.set([127, 0.5, -0.5, 1.5]);
  assert.deepEqual([...quantizeQ80(w, 1, 4, 4).q], [127, 0, 0, 2]);
});

test('shape errors name the sizes', () => {
  assert.throws(() => quantizeQ80(new Float32Array(10), 2, 4), (e: unknown) => e instanceof ShapeError && /10 values for a \[2, 4\] matrix/.test(e.message));
  assert.throws(() => quantizeQ80(new Float32Array(12), 2, 6, 4), (e: unknown) => e instanceof ShapeError && /group size 4 does not divide 6 columns/.test(e.message));
});

test('Q8_0 matmul on the reference backend equals fp32 matmul of the dequantised matrix (1e-5)', () => {
  for (const [rows, n, d] of [
    [1, 64, 64],
    [5, 64, 172],
    [3, 172, 64],
    [7, 288, 96],
  ]) {
    const w = quantizeQ80(randomMatrix(d * n, 10 + n, 0.1), d, n);
    assert.ok(isQ80(w));
    assert.equal(weightBytes(w), d * n + (4 * d * n) / w.groupSize);
    const x = randomMatrix(rows * n, 20 + d);
    const got = new Float32Array(rows * d);
    const want = new Float32Array(rows * d);
    referenceBackend.matmul(got, x, w, rows, n, d);
    referenceBackend.matmul(want, x, dequantizeQ80(w), rows, n, d);
    assertAllClose(got, want, { atol: 1e-5, rtol: 1e-5 }, `[${rows}×${n}] · [${d}×${n}]ᵀ`);
  }
});
