import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import type { Backend } from '../../src/tensor/backend.js';
import type { AttentionArgs } from '../../src/tensor/model-kernels.js';
import { alignedFloat32Array } from '../../src/tensor/aligned-array.js';
import { cacheLineOffset, nativeBackend, nativeStatus, nativeThreads, setNativeThreads } from '../../src/tensor/native-backend.js';
import { quantizeQ80 } from '../../src/tensor/q80.js';
import { referenceBackend as ref } from '../../src/tensor/reference-backend.js';
import type { WeightMatrix } from '../../src/tensor/weight-matrix.js';

/**
 * Every native kernel against the reference kernels on random data of awkward sizes (1e-4 relative:
 * max |a − b| / max |b|), and bit-identical results for 1 and 2 threads above the threading
 * threshold. Without the addon these tests fail under CI (which builds it) and skip elsewhere.
 */

const status = nativeStatus();
const skip = nativeBackend || process.env.CI ? false : `native addon not available: ${status.available ? '' : status.reason}`;
if (!nativeBackend && process.env.CI) {
  test('the native addon is built in CI', () => assert.fail(`native backend did not load: ${status.available ? '' : status.reason}`));
}
const nat = nativeBackend as Backend;

/** mulberry32: reproducible uniform numbers in [lo, hi). */
function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

function random(len: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: len }, () => r(lo, hi));
}

/** max |a − b| / max |b| must be ≤ tol. */
function assertRelClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
  const rel = err / Math.max(scale, 1e-30);
  assert.ok(rel <= tol, `${what}: relative error ${rel.toExponential(2)} > ${tol} (max |Δ| ${err}, max |ref| ${scale})`);
}

function assertBitIdentical(a: Float32Array | Int32Array, b: Float32Array | Int32Array, what: string): void {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: ${a[i]} (1 thread) vs ${b[i]} (2 threads)`);
}

/** Runs fn with the native kernels on `threads` threads, restoring the previous count. */
function withThreads<T>(threads: number, fn: () => T): T {
  const prev = nativeThreads();
  setNativeThreads(threads);
  try {
    return fn();
  } finally {
    setNativeThreads(prev);
  }
}

function matmulBoth(x: Float32Array, w: WeightMatrix, rows: number, n: number, d: number): [Float32Array, Float32Array] {
  const got = new Float32Array(rows * d).fill(NaN);
  const want = new Float32Array(rows * d);
  nat.matmul(got, x, w, rows, n, d);
  ref.matmul(want, x, w, rows, n, d);
  return [got, want];
}

test('matmul fp32 (x·wᵀ): decode rows and register-tiled prefill, awkward n and d', { skip }, () => {
  const shapes: [number, number][] = [[1, 1], [7, 5], [33, 17], [100, 65], [288, 31], [1000, 37], [17, 1000]];
  for (const rows of [1, 2, 3, 4, 5, 17, 64]) {
    for (const [n, d] of shapes) {
      const x = random(rows * n, rows * 7 + n);
      const w = random(d * n, d * 13 + n);
      const [got, want] = matmulBoth(x, w, rows, n, d);
      assertRelClose(got, want, `matmul rows ${rows}, n ${n}, d ${d}`);
    }
  }
});

test('matmul fp32, small batch (weight rows streamed once for 4–32 input rows): rows and d off the tile edges', { skip }, () => {
  const shapes: [number, number][] = [[7, 5], [33, 17], [288, 31], [300, 258], [288, 1001], [768, 290]];
  for (const rows of [6, 8, 15, 16, 31, 32, 33]) {
    for (const [n, d] of shapes) {
      const [got, want] = matmulBoth(random(rows * n, rows * 5 + n), random(d * n, d * 11 + n), rows, n, d);
      assertRelClose(got, want, `matmul rows ${rows}, n ${n}, d ${d}`);
    }
  }
});

test('matmul fp32 leaves out beyond rows·d untouched and accepts oversized views', { skip }, () => {
  const [rows, n, d] = [5, 40, 9];
  const out = new Float32Array(rows * d + 3).fill(7);
  nat.matmul(out, random(rows * n + 11, 1), random(d * n + 5, 2), rows, n, d);
  assert.deepEqual(Array.from(out.subarray(rows * d)), [7, 7, 7]);
});

test('matmul Q8_0: groups of 32, 16, 8, 4, 2 and 1, decode and prefill rows', { skip }, () => {
  const cases: [number, number, number][] = [
    // [n, d, groupSize]
    [64, 9, 32],
    [96, 33, 32],
    [1024, 20, 32],
    [48, 17, 16],
    [40, 7, 8],
    [36, 21, 4],
    [20, 5, 4],
    [6, 3, 2],
    [7, 4, 1],
  ];
  for (const rows of [1, 3, 17, 64]) {
    for (const [n, d, gs] of cases) {
      const w = quantizeQ80(random(d * n, n + d), d, n, gs);
      assert.equal(w.groupSize, gs);
      const [got, want] = matmulBoth(random(rows * n, rows + n), w, rows, n, d);
      assertRelClose(got, want, `Q8_0 rows ${rows}, n ${n}, d ${d}, group ${gs}`);
    }
  }
  // A NaN activation reaches every output, as in the reference (the int16 decode path must not hide it).
  const x = random(64, 1);
  x[5] = NaN;
  const [got] = matmulBoth(x, quantizeQ80(random(3 * 64, 2), 3, 64), 1, 64, 3);
  assert.ok(got.every(Number.isNaN), `NaN activation gave ${Array.from(got)}`);
});

test('matmulNN and matmulTN: dense and sparse (SAE-like) a, sizes straddling the block edges', { skip }, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 17, 33],
    [17, 300, 70],
    [64, 257, 129],
    [97, 513, 260],
    [1, 600, 40],
    [200, 40, 4500], // several column groups (n > 4096 floats) and row groups, uneven edges
  ];
  for (const [m, k, n] of shapes) {
    for (const density of [1, 0.03]) {
      const r = rng(m * 31 + k + n);
      const a = Float32Array.from({ length: m * k }, () => (r(0, 1) < density ? r() : 0));
      const b = random(k * n, k + n);
      const want = new Float32Array(m * n);
      const got = new Float32Array(m * n).fill(NaN);
      ref.matmulNN(want, a, b, m, k, n);
      nat.matmulNN(got, a, b, m, k, n);
      assertRelClose(got, want, `matmulNN m ${m}, k ${k}, n ${n}, density ${density}`);
      // The same numbers as a [k, m] matrix for the transposed product.
      ref.matmulTN(want, a, b, m, k, n);
      got.fill(NaN);
      nat.matmulTN(got, a, b, m, k, n);
      assertRelClose(got, want, `matmulTN m ${m}, k ${k}, n ${n}, density ${density}`);
    }
  }
});

test('alignedFloat32Array: zeroed arrays that start on a cache line, of every small length', { skip }, () => {
  for (let n = 0; n < 40; n++) {
    const a = alignedFloat32Array(n);
    assert.equal(a.length, n);
    assert.equal((cacheLineOffset!(a.buffer) + a.byteOffset) % 64, 0, `length ${n}`);
    assert.ok(a.every((v) => v === 0));
  }
  assert.throws(() => cacheLineOffset!(new Float32Array(4) as unknown as ArrayBuffer), /buffer must be an ArrayBuffer/);
});

test('topKRows: same indices and values as the reference, ties to the lower index', { skip }, () => {
  for (const [rows, n, k] of [
    [1, 1, 1],
    [3, 17, 5],
    [4, 100, 32],
    [2, 1000, 7],
    [3, 40, 40],
    [2, 33, 1],
    [5, 1024, 32],
    [3, 3000, 40],
    [4, 129, 32],
    [3, 1027, 16],
    [3, 1024, 16], // 1, 2, 4 and 8 vectors of chunk maxima: τ from the sorting network
    [3, 1024, 64],
    [3, 2048, 8],
    [3, 150, 32], // 4k ≤ n < 8k: k maxima, with a tail
    [3, 4100, 512], // many candidates, several rank blocks
    [2, 7, 1], // n ≥ 4k but shorter than a vector
    [3, 32000, 1], // greedy decoding's argmax over a vocabulary (k = 1 has its own path)
    [3, 1027, 1], // k = 1 with a tail after the last vector
  ]) {
    const r = rng(rows + n + k);
    const x = Float32Array.from({ length: rows * n }, () => Math.round(r(-8, 8)) / 4); // many ties
    if (n > 100) x[n + 7] = NaN; // row 1 takes the insertion path, as the reference does with NaN
    if (rows > 2) x.fill(-Infinity, 2 * n, 2 * n + Math.floor(n * 0.9)); // row 2: mostly −∞, ranked among the maxima
    const [gi, gv, wi, wv] = [new Int32Array(rows * k), new Float32Array(rows * k), new Int32Array(rows * k), new Float32Array(rows * k)];
    nat.topKRows(gi, gv, x, rows, n, k);
    ref.topKRows(wi, wv, x, rows, n, k);
    assert.deepEqual(Array.from(gi), Array.from(wi), `indices rows ${rows}, n ${n}, k ${k}`);
    assert.deepEqual(Array.from(gv), Array.from(wv), `values rows ${rows}, n ${n}, k ${k}`);
  }
});

test('encodeRelu: the fused encoder equals matmulNN + addRowVector + positiveEntries on the same backend, and the reference', { skip }, () => {
  for (const [rows, dIn, dSae] of [
    [1, 1, 1],
    [7, 5, 40],
    [70, 64, 1024],
    [33, 300, 130],
  ] as const) {
    const what = `rows ${rows}, ${dIn}×${dSae}`;
    const x = random(rows * dIn, rows + dIn, -2, 2);
    const w = random(dIn * dSae, dSae + 1);
    const bias = random(dSae, dIn + 2, -0.5, 0.5);
    const run = (backend: Backend): [number, Int32Array, Float32Array] => {
      const [idx, val] = [new Int32Array(rows * dSae).fill(-1), new Float32Array(rows * dSae).fill(NaN)];
      const k = backend.encodeRelu(idx, val, x, w, bias, rows, dIn, dSae);
      return [k, idx.subarray(0, rows * k), val.subarray(0, rows * k)];
    };
    const pre = new Float32Array(rows * dSae);
    nat.matmulNN(pre, x, w, rows, dIn, dSae);
    nat.addRowVector(pre, bias, rows, dSae);
    const [wi, wv] = [new Int32Array(rows * dSae), new Float32Array(rows * dSae)];
    const wk = nat.positiveEntries(wi, wv, pre, rows, dSae);
    const [k, gi, gv] = run(nat);
    assert.equal(k, wk, `k, ${what}`);
    assert.deepEqual(gi, wi.subarray(0, rows * wk), `indices, ${what}`);
    assert.deepEqual(gv, wv.subarray(0, rows * wk), `values, ${what}`);
    const [rk, ri, rv] = run(ref);
    assert.equal(k, rk, `k vs reference, ${what}`);
    assert.deepEqual(gi, ri, `indices vs reference, ${what}`);
    assertRelClose(gv, rv, `values vs reference, ${what}`);
  }
});

test('encodeTopK: the fused encoder equals matmulNN + addRowVector + scaling + topKRows on the same backend, and the reference', { skip }, () => {
  for (const [rows, dIn, dSae, k, withScale, nAux, auxK] of [
    [1, 1, 1, 1, false, 0, 0],
    [7, 5, 40, 3, true, 9, 2],
    [70, 64, 1024, 32, false, 0, 0],
    [45, 64, 1024, 32, true, 100, 32],
    [33, 300, 130, 8, false, 130, 5], // two KC slices of d_in; every column in aux
  ] as const) {
    const what = `rows ${rows}, ${dIn}×${dSae}, k ${k}${withScale ? ', scaled' : ''}, aux ${nAux}/${auxK}`;
    const x = random(rows * dIn, rows + dIn, -2, 2);
    const w = random(dIn * dSae, dSae + 1);
    const bias = random(dSae, k + 2, -0.5, 0.5);
    const scale = withScale ? random(dSae, 5, 0.5, 2) : undefined;
    const cols = Int32Array.from({ length: nAux }, (_, i) => Math.floor((i * dSae) / nAux));
    const run = (backend: Backend): Int32Array[] | Float32Array[] => {
      const out = { idx: new Int32Array(rows * k), pre: new Float32Array(rows * k) };
      const aux = { cols, k: auxK, idx: new Int32Array(rows * auxK), pre: new Float32Array(rows * auxK) };
      backend.encodeTopK(out, x, w, bias, rows, dIn, dSae, k, { scale, ...(auxK > 0 && { aux }) });
      return [out.idx, out.pre, aux.idx, aux.pre] as Int32Array[] | Float32Array[];
    };
    // The unfused route on the native backend: the law the fused kernel must keep, bit for bit.
    const pre = new Float32Array(rows * dSae);
    nat.matmulNN(pre, x, w, rows, dIn, dSae);
    nat.addRowVector(pre, bias, rows, dSae);
    const h = scale ? pre.map((v, i) => v * scale[i % dSae]) : pre;
    const [wi, wv] = [new Int32Array(rows * k), new Float32Array(rows * k)];
    nat.topKRows(wi, wv, h, rows, dSae, k);
    const [gi, gp, ai, ap] = run(nat);
    assert.deepEqual(Array.from(gi), Array.from(wi), `indices, ${what}`);
    assert.deepEqual(Array.from(gp), Array.from(wi, (j, r) => pre[Math.floor(r / k) * dSae + j]), `pre at the picks, ${what}`);
    if (auxK > 0) {
      const hd = Float32Array.from({ length: rows * nAux }, (_, q) => h[Math.floor(q / nAux) * dSae + cols[q % nAux]]);
      const [di, dv] = [new Int32Array(rows * auxK), new Float32Array(rows * auxK)];
      nat.topKRows(di, dv, hd, rows, nAux, auxK);
      assert.deepEqual(Array.from(ai), Array.from(di, (q) => cols[q]), `aux indices, ${what}`);
      assert.deepEqual(Array.from(ap), Array.from(ai, (j, r) => pre[Math.floor(r / auxK) * dSae + j]), `aux pre, ${what}`);
    }
    // Against the reference: the same picks (random values leave no near-ties at 1e-4), pre to 1e-4.
    const [ri, rp, rai, rap] = run(ref);
    assert.deepEqual(Array.from(gi), Array.from(ri), `indices vs reference, ${what}`);
    assertRelClose(gp as Float32Array, rp as Float32Array, `pre vs reference, ${what}`);
    assert.deepEqual(Array.from(ai), Array.from(rai), `aux indices vs reference, ${what}`);
    assertRelClose(ap as Float32Array, rap as Float32Array, `aux pre vs reference, ${what}`);
  }
  for (const backend of [nat, ref]) {
    const out = { idx: new Int32Array(4), pre: new Float32Array(4) };
    assert.throws(() => backend.encodeTopK(out, new Float32Array(4), new Float32Array(8), new Float32Array(4), 2, 2, 4, 5), /k = 5 must be in 1\.\.dSae = 4/);
    const aux = { cols: Int32Array.of(0, 1), k: 3, idx: new Int32Array(6), pre: new Float32Array(6) };
    assert.throws(() => backend.encodeTopK(out, new Float32Array(4), new Float32Array(8), new Float32Array(4), 2, 2, 4, 2, { aux }), /aux\.k = 3 exceeds the 2 columns/);
  }
});

test('SAE training passes (scaleInto, subRowVector, squaredError, columnSums, centeredSquares, adamUpdate): bit for bit the reference, on one thread and split over two', { skip }, () => {
  // 700 × 70: above the threading threshold, with blocks that end mid-row; 600 × 64: rows of whole lane groups.
  for (const [rows, n] of [
    [37, 70],
    [700, 70],
    [600, 64],
  ]) {
    const x = random(rows * n, 21, -3, 3);
    const y = random(rows * n, 22, -3, 3);
    const v = random(n, 23);
    const same = (run: (b: Backend) => Float32Array | number, what: string): void => {
      const [a, b] = [run(nat), run(ref)];
      if (typeof a === 'number') assert.equal(a, b, what);
      else assert.deepEqual(a, b, what);
    };
    same((b) => ((out) => (b.scaleInto(out, x, 1 / 3.7, rows * n), out))(new Float32Array(rows * n)), 'scaleInto');
    same((b) => ((out) => (b.subRowVector(out, x, v, rows, n), out))(new Float32Array(rows * n)), 'subRowVector');
    same((b) => ((out) => (b.subRowVector(out, out, v, rows, n), out))(x.slice()), 'subRowVector in place');
    same((b) => b.squaredError(new Float32Array(rows * n), x, y, rows * n, rows), 'squaredError sum');
    same((b) => ((d) => (b.squaredError(d, x, y, rows * n, rows), d))(new Float32Array(rows * n)), 'squaredError gradient');
    same((b) => ((out) => (b.columnSums(out, x, rows, n), out))(new Float32Array(n).fill(9)), 'columnSums');
    same((b) => b.centeredSquares(x, rows, n), 'centeredSquares');
    // Adam from the same moments over three steps with a sign change and a zero gradient.
    same((b) => {
      const [p, m, vv] = [x.slice(), new Float32Array(x.length), new Float32Array(x.length)];
      for (let t = 1; t <= 3; t++) {
        const g = t === 2 ? y.map((e) => -e) : t === 3 ? new Float32Array(y.length) : y;
        b.adamUpdate(p, g, m, vv, { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** t), sqrtC2: Math.sqrt(1 - 0.999 ** t) });
      }
      const all = new Float32Array(3 * p.length);
      all.set(p);
      all.set(m, p.length);
      all.set(vv, 2 * p.length);
      return all;
    }, 'adamUpdate');
    assert.throws(() => nat.columnSums(new Float32Array(3), x, rows, n), new RegExp(`out has 3 elements, needs width = ${n}`));
  }
});

/** An index list [rows, k] into a table of `tableRows` rows, repeats included (several tokens pick one latent). */
function randomIndices(rows: number, k: number, tableRows: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: rows * k }, () => Math.min(tableRows - 1, Math.floor(r(0, tableRows))));
}

test('reluPicks and scatterAddPicks: bit for bit the reference, and a hand-made case', { skip }, () => {
  for (const [len, width] of [
    [1, 1],
    [131072, 1024],
    [37, 5],
  ]) {
    const r = rng(len + width);
    const idx = Int32Array.from({ length: len }, () => Math.floor(r(0, width)));
    const val = Float32Array.from({ length: len }, () => r(-1, 1));
    val[0] = NaN; // not positive: becomes 0
    if (len > 2) val[1] = -0;
    const grad = Float32Array.from({ length: len }, () => r(-2, 2));
    const runs = [nat, ref].map((b) => {
      const [v, counts, out, g, outAll] = [val.slice(), new Int32Array(width), new Float32Array(width).fill(0.25), grad.slice(), new Float32Array(width)];
      const active = b.reluPicks(v, idx, len, counts);
      b.scatterAddPicks(out, idx, g, len, v);
      b.scatterAddPicks(outAll, idx, grad.slice(), len, null);
      return { active, v: Array.from(v), counts: Array.from(counts), out: Array.from(out), g: Array.from(g), outAll: Array.from(outAll) };
    });
    assert.deepEqual(runs[0], runs[1], `len ${len}, width ${width}`);
  }
  for (const b of [nat, ref]) {
    const [val, counts, out] = [Float32Array.of(2, -1, 0.5, 3), new Int32Array(3), new Float32Array(3)];
    assert.equal(b.reluPicks(val, Int32Array.of(2, 0, 2, 1), 4, counts), 3, b.name);
    assert.deepEqual([Array.from(val), Array.from(counts)], [[2, 0, 0.5, 3], [0, 1, 2]], b.name);
    const grad = Float32Array.of(1, 10, 100, 1000);
    b.scatterAddPicks(out, Int32Array.of(2, 0, 2, 1), grad, 4, val);
    assert.deepEqual([Array.from(out), Array.from(grad)], [[0, 1000, 101], [1, 0, 100, 1000]], b.name);
    assert.throws(() => b.reluPicks(new Float32Array(2), Int32Array.of(0, 3), 2, new Int32Array(3)), /idx\[1\] = 3 is outside/, b.name);
    assert.throws(() => b.scatterAddPicks(new Float32Array(2), Int32Array.of(0), new Float32Array(1), 2, null), /idx .*2|len/, b.name);
  }
});

test('positiveEntries: the same padded index list and k as the reference', { skip }, () => {
  for (const [rows, n] of [
    [1, 1],
    [3, 17],
    [64, 1024],
    [5, 33],
    [4, 100],
  ]) {
    const r = rng(rows * n);
    const x = Float32Array.from({ length: rows * n }, () => r(-1, 0.3));
    x[0] = NaN; // not positive
    if (rows > 1) x.fill(-0, n, 2 * n); // row 1: nothing positive, all padding
    if (rows > 2) x.fill(0.5, 2 * n, 3 * n); // row 2: every entry, so k = n
    const lists = [0, 1].map(() => [new Int32Array(rows * n).fill(-7), new Float32Array(rows * n).fill(-7)] as const);
    const k = nat.positiveEntries(lists[0][0], lists[0][1], x, rows, n);
    assert.equal(k, ref.positiveEntries(lists[1][0], lists[1][1], x, rows, n), `k, rows ${rows}, n ${n}`);
    assert.deepEqual(Array.from(lists[0][0].subarray(0, rows * k)), Array.from(lists[1][0].subarray(0, rows * k)), `idx, rows ${rows}, n ${n}`);
    assert.deepEqual(Array.from(lists[0][1].subarray(0, rows * k)), Array.from(lists[1][1].subarray(0, rows * k)), `val, rows ${rows}, n ${n}`);
  }
  for (const b of [nat, ref]) {
    const [idx, val] = [new Int32Array(8).fill(-7), new Float32Array(8).fill(-7)];
    assert.equal(b.positiveEntries(idx, val, Float32Array.of(-1, 2, 0, 3, 0, 0, 5, -2), 2, 4), 2, `${b.name}: the busiest row has 2`);
    assert.deepEqual([Array.from(idx.subarray(0, 4)), Array.from(val.subarray(0, 4))], [[1, 3, 2, 0], [2, 3, 5, 0]], b.name);
  }
  assert.throws(() => nat.positiveEntries(new Int32Array(3), new Float32Array(4), new Float32Array(4), 2, 2), /positiveEntries: idx .* 4/);
});

test('gatherRows, gatheredDots, scatterRows, addRowVector, transpose: as the reference, zero values skipped', { skip }, () => {
  for (const [rows, k, tableRows, width] of [
    [1, 1, 1, 1],
    [3, 5, 7, 17],
    [64, 32, 1024, 64],
    [9, 4, 50, 768],
    [5, 3, 4, 33],
  ]) {
    const what = `rows ${rows}, k ${k}, table ${tableRows}×${width}`;
    const idx = randomIndices(rows, k, tableRows, rows + k);
    const val = random(rows * k, 2).map((v, i) => (i % 3 === 0 ? 0 : v));
    const table = random(tableRows * width, 3);
    const a = random(rows * width, 4);
    const [g, gr] = [new Float32Array(rows * width), new Float32Array(rows * width)];
    nat.gatherRows(g, idx, val, rows, k, table, width);
    ref.gatherRows(gr, idx, val, rows, k, table, width);
    assertRelClose(g, gr, `gatherRows ${what}`);
    const [d, dr] = [new Float32Array(rows * k), new Float32Array(rows * k)];
    nat.gatheredDots(d, a, idx, rows, k, table, width);
    ref.gatheredDots(dr, a, idx, rows, k, table, width);
    assertRelClose(d, dr, `gatheredDots ${what}`);
    // Tables at every float offset from a cache line (rows not aligned to vectors).
    for (const offset of [0, 1, 3]) {
      const [t, tr] = [new Float32Array(offset + table.length), table.slice()];
      t.set(table, offset);
      nat.scatterRows(t.subarray(offset), idx, val, rows, k, a, width);
      ref.scatterRows(tr, idx, val, rows, k, a, width);
      assertRelClose(t.subarray(offset), tr, `scatterRows ${what}, table at float offset ${offset}`);
    }
    const [x, xr] = [a.slice(), a.slice()];
    nat.addRowVector(x, table.subarray(0, width), rows, width);
    ref.addRowVector(xr, table.subarray(0, width), rows, width);
    assertRelClose(x, xr, `addRowVector ${what}`);
    const [tt, ttr] = [new Float32Array(table.length), new Float32Array(table.length)];
    nat.transpose(tt, table, tableRows, width);
    ref.transpose(ttr, table, tableRows, width);
    assert.deepEqual(tt, ttr, `transpose ${what}`);
  }
});

/** SaeKernels.sparseDecodeBackward on a fresh copy of every input; all its outputs. */
function sparseDecode(b: Backend, rows: number, k: number, tableRows: number, width: number, seed: number) {
  const idx = randomIndices(rows, k, tableRows, seed);
  const act = random(rows * k, seed + 1).map((v, i) => (i % 5 === 0 ? -Math.abs(v) : i % 7 === 0 ? 0 : v));
  if (act.length > 3) act[3] = NaN; // not positive: becomes 0, as reluPicks
  const [x, saeIn, wDec, bDec] = [random(rows * width, seed + 2), random(rows * width, seed + 3), random(tableRows * width, seed + 4), random(width, seed + 5)];
  const o = {
    out: new Float32Array(rows * width), dOut: new Float32Array(rows * width), dPre: new Float32Array(rows * k),
    gradDec: new Float32Array(tableRows * width).fill(7), gradEncT: new Float32Array(tableRows * width).fill(7), gradBias: new Float32Array(tableRows).fill(7),
    counts: new Int32Array(tableRows).fill(2), actSums: new Float32Array(tableRows).fill(7),
  };
  const r = b.sparseDecodeBackward(o, { idx, act, rows, k, x, saeIn, wDec, bDec, width, batch: rows + 3, dPreAddend: random(tableRows, seed + 6) });
  return { ...o, act, ...r };
}

test('sparseDecodeBackward and scatterRowsPair: as the reference composition of reluPicks … scatterRows', { skip }, () => {
  for (const [rows, k, tableRows, width] of [
    [1, 1, 1, 1],
    [3, 5, 7, 17],
    [64, 32, 1024, 64],
    [9, 33, 50, 100],
    [5, 3, 4, 768],
  ]) {
    const what = `rows ${rows}, k ${k}, table ${tableRows}×${width}`;
    const [got, want] = [sparseDecode(nat, rows, k, tableRows, width, rows + k), sparseDecode(ref, rows, k, tableRows, width, rows + k)];
    assert.deepEqual(got.act, want.act, `${what}: act after ReLU`);
    assert.deepEqual(got.counts, want.counts, `${what}: counts`);
    assert.equal(got.active, want.active, `${what}: active`);
    assert.ok(Math.abs(got.sse - want.sse) <= 1e-5 * want.sse, `${what}: sse ${got.sse} vs ${want.sse}`);
    for (const name of ['out', 'dOut', 'dPre', 'gradDec', 'gradEncT', 'gradBias', 'actSums'] as const) assertRelClose(got[name], want[name], `${what}: ${name}`);
    const idx = randomIndices(rows, k, tableRows, rows);
    const [val, val2, a, a2] = [random(rows * k, 1).map((v, i) => (i % 3 === 0 ? 0 : v)), random(rows * k, 2), random(rows * width, 3), random(rows * width, 4)];
    const pair = (b: Backend): Float32Array[] => {
      const [t, t2] = [random(tableRows * width, 5), random(tableRows * width, 6)];
      b.scatterRowsPair(t, idx, val, rows, k, a, width, t2, val2, a2);
      return [t, t2];
    };
    const [[t, t2], [tr, t2r]] = [pair(nat), pair(ref)];
    assertRelClose(t, tr, `scatterRowsPair table ${what}`);
    assertRelClose(t2, t2r, `scatterRowsPair table2 ${what}`);
  }
  for (const b of [nat, ref]) {
    const f = (n: number): Float32Array => new Float32Array(n);
    const o = { out: f(8), dOut: f(8), dPre: f(2), gradDec: f(8), gradEncT: f(7), gradBias: f(2), counts: new Int32Array(2) };
    assert.throws(() => b.sparseDecodeBackward(o, { idx: Int32Array.of(0, 1), act: f(2), rows: 2, k: 1, x: f(8), saeIn: f(8), wDec: f(8), bDec: f(4), width: 4, batch: 2 }), /gradEncT has 7 elements/);
  }
});

test('rmsnorm (also in place), swiglu, addInPlace, softmax with an offset', { skip }, () => {
  for (const rows of [1, 3, 17]) {
    for (const size of [1, 5, 16, 33, 288, 1000]) {
      const x = random(rows * size, rows * size, -3, 3);
      const w = random(size, size);
      const [got, want] = [new Float32Array(rows * size), new Float32Array(rows * size)];
      nat.rmsnorm(got, x, w, rows, size, 1e-5);
      ref.rmsnorm(want, x, w, rows, size, 1e-5);
      assertRelClose(got, want, `rmsnorm rows ${rows}, size ${size}`);
      const inPlace = x.slice();
      nat.rmsnorm(inPlace, inPlace, w, rows, size, 1e-5);
      assertRelClose(inPlace, want, `rmsnorm in place rows ${rows}, size ${size}`);
    }
  }
  for (const len of [1, 7, 16, 100, 10_001, 100_003]) {
    const gate = random(len, len, -20, 20);
    const up = random(len, len + 1, -2, 2);
    const [got, want] = [gate.slice(), gate.slice()];
    nat.swiglu(got, up, len);
    ref.swiglu(want, up, len);
    for (let i = 0; i < len; i++) {
      if (!(Math.abs(got[i] - want[i]) <= 1e-5 * Math.abs(want[i]) + 1e-37)) assert.fail(`swiglu[${i}] of g=${gate[i]}: ${got[i]} vs ${want[i]}`);
    }
    const [sumGot, sumWant] = [gate.slice(), gate.slice()];
    nat.addInPlace(sumGot, up, len - 1);
    ref.addInPlace(sumWant, up, len - 1);
    assert.deepEqual(sumGot, sumWant, `addInPlace ${len - 1}`);
  }
  for (const len of [1, 2, 15, 16, 17, 300, 4099]) {
    const x = random(len + 10, len, -30, 30);
    const [got, want] = [x.slice(), x.slice()];
    nat.softmax(got, 3, len);
    ref.softmax(want, 3, len);
    assertRelClose(got, want, `softmax len ${len}`);
    assert.deepEqual(got.subarray(0, 3), x.subarray(0, 3), 'softmax leaves x before offset');
    assert.deepEqual(got.subarray(3 + len), x.subarray(3 + len), 'softmax leaves x after offset+len');
  }
});

test('rope: head sizes 2..128, several heads, arbitrary positions', { skip }, () => {
  for (const headSize of [2, 6, 8, 48, 64, 128]) {
    const maxPos = 50;
    const half = headSize / 2;
    const cosSin = new Float32Array(maxPos * headSize);
    for (let p = 0; p < maxPos; p++) {
      for (let i = 0; i < half; i++) {
        const a = p / Math.pow(10000, (2 * i) / headSize);
        cosSin[(p * half + i) * 2] = Math.cos(a);
        cosSin[(p * half + i) * 2 + 1] = Math.sin(a);
      }
    }
    for (const [rows, heads] of [
      [1, 1],
      [3, 4],
      [17, 3],
    ]) {
      const width = heads * headSize;
      const positions = Int32Array.from({ length: rows }, (_, r) => (r * 7 + headSize) % maxPos);
      const x = random(rows * width, rows * width);
      const [got, want] = [x.slice(), x.slice()];
      nat.rope(got, positions, rows, width, headSize, cosSin);
      ref.rope(want, positions, rows, width, headSize, cosSin);
      assertRelClose(got, want, `rope headSize ${headSize}, rows ${rows}, heads ${heads}`);
    }
  }
});

test('attentionRows over a [batch, capacity, kvDim] cache equals attention() on each row\'s views, on both backends', { skip }, () => {
  const [nHeads, nKvHeads, headSize, capacity] = [8, 2, 24, 50];
  const kvDim = nKvHeads * headSize;
  // Rows out of order, one cache row skipped, prefill (count > 1) beside decode steps (count 1).
  const segs = [
    [0, 1, 13, 2],
    [1, 5, 0, 0],
    [6, 1, 44, 3],
    [7, 3, 20, 5],
  ];
  const tokens = 10;
  const segments = Int32Array.from(segs.flat());
  const keys = random(6 * capacity * kvDim, 71, -2, 2);
  const values = random(6 * capacity * kvDim, 72);
  const q = random(tokens * nHeads * headSize, 73, -2, 2);
  const heads = { nHeads, nKvHeads, headSize };
  for (const threads of [1, 2]) withThreads(threads, () => {
    const [got, want, alone] = [new Float32Array(q.length), new Float32Array(q.length), new Float32Array(q.length)];
    nat.attentionRows(got, q, keys, values, segments, segs.length, capacity, heads, new Float32Array(capacity));
    ref.attentionRows(want, q, keys, values, segments, segs.length, capacity, heads, new Float32Array(capacity));
    for (const [tokenOffset, count, startPos, row] of segs) {
      const view = (a: Float32Array): Float32Array => a.subarray(row * capacity * kvDim, (row + 1) * capacity * kvDim);
      nat.attention(alone, q, view(keys), view(values), { ...heads, tokenOffset, count, startPos }, new Float32Array(capacity));
    }
    assertBitIdentical(got, alone, `attentionRows vs attention per row, ${threads} threads`);
    assertRelClose(got, want, `attentionRows native vs reference, ${threads} threads`);
  });
  const scores = new Float32Array(capacity);
  assert.throws(() => nat.attentionRows(new Float32Array(q.length), q, keys, values, Int32Array.from([0, 1, 49, 6]), 1, capacity, heads, scores), /keys has 14400 elements, needs \(cacheRow\+1\)·capacity·kvDim = \(6\+1\)·50·48/);
  assert.throws(() => nat.attentionRows(new Float32Array(q.length), q, keys, values, Int32Array.from([0, 2, 49, 0]), 1, capacity, heads, scores), /segment 0: startPos\+count = 49\+2 exceeds capacity 50/);
  assert.throws(() => nat.attentionRows(new Float32Array(q.length), q, keys, values, Int32Array.from([0, 1, 0]), 1, capacity, heads, scores), /segments has 3 elements, needs 4·nSeg/);
});

interface AttnCase {
  args: AttentionArgs;
  q: Float32Array;
  keys: Float32Array;
  values: Float32Array;
  tokens: number;
}

function attnCase(nHeads: number, nKvHeads: number, headSize: number, startPos: number, count: number, tokenOffset: number, seed: number): AttnCase {
  const kvDim = nKvHeads * headSize;
  const tokens = tokenOffset + count;
  const capacity = startPos + count + 3;
  return {
    args: { tokenOffset, count, startPos, nHeads, nKvHeads, headSize },
    q: random(tokens * nHeads * headSize, seed, -2, 2),
    keys: random(capacity * kvDim, seed + 1, -2, 2),
    values: random(capacity * kvDim, seed + 2),
    tokens,
  };
}

test('attention with GQA (groups 1, 2, 4), startPos > 0, tokenOffset > 0; pattern + apply equal the fused kernel bit for bit', { skip }, () => {
  let seed = 1;
  for (const [nHeads, nKvHeads] of [
    [4, 4],
    [4, 2],
    [8, 2],
  ]) {
    for (const headSize of [8, 17, 48, 64]) {
      for (const [startPos, count, tokenOffset] of [
        [0, 1, 0],
        [0, 9, 2],
        [13, 1, 1],
        [40, 17, 3],
      ]) {
        const c = attnCase(nHeads, nKvHeads, headSize, startPos, count, tokenOffset, seed++);
        const what = `heads ${nHeads}/${nKvHeads}, headSize ${headSize}, startPos ${startPos}, count ${count}`;
        const width = c.tokens * nHeads * headSize;
        const [got, want] = [new Float32Array(width), new Float32Array(width)];
        nat.attention(got, c.q, c.keys, c.values, c.args, new Float32Array(startPos + count));
        ref.attention(want, c.q, c.keys, c.values, c.args, new Float32Array(startPos + count));
        assertRelClose(got, want, `attention ${what}`);

        const stride = startPos + count + 2;
        const [pGot, pWant] = [new Float32Array(c.tokens * nHeads * stride).fill(NaN), new Float32Array(c.tokens * nHeads * stride).fill(NaN)];
        nat.attentionPattern(pGot, c.q, c.keys, c.args, stride);
        ref.attentionPattern(pWant, c.q, c.keys, c.args, stride);
        const rows = (a: Float32Array): Float32Array => a.subarray(tokenOffset * nHeads * stride);
        assertRelClose(rows(pGot), rows(pWant), `attentionPattern ${what}`);
        const applied = new Float32Array(width);
        nat.attentionApply(applied, pGot, c.values, c.args, stride);
        assertBitIdentical(applied.subarray(tokenOffset * nHeads * headSize), got.subarray(tokenOffset * nHeads * headSize), `pattern+apply vs fused, ${what}`);
      }
    }
  }
});

test('1 and 2 threads give bit-identical results above the threading threshold', { skip }, () => {
  const runs: [string, () => Float32Array | Int32Array][] = [];
  const mm = (rows: number, n: number, d: number, w: WeightMatrix): (() => Float32Array) => {
    const x = random(rows * n, rows + n);
    return () => {
      const out = new Float32Array(rows * d);
      nat.matmul(out, x, w, rows, n, d);
      return out;
    };
  };
  runs.push(['matmul decode 1×2048→768', mm(1, 2048, 768, random(768 * 2048, 3))]);
  runs.push(['matmul prefill 67×300→257', mm(67, 300, 257, random(257 * 300, 4))]);
  runs.push(['matmul small batch 16×288→1001', mm(16, 288, 1001, random(1001 * 288, 11))]);
  runs.push(['matmul small batch 30×300→258', mm(30, 300, 258, random(258 * 300, 12))]);
  runs.push(['matmul Q8_0 decode 1×1024→1000', mm(1, 1024, 1000, quantizeQ80(random(1000 * 1024, 5), 1000, 1024))]);
  runs.push(['matmul Q8_0 prefill 70×512→300', mm(70, 512, 300, quantizeQ80(random(300 * 512, 6), 300, 512))]);
  for (const [name, density] of [
    ['dense', 1],
    ['sparse', 0.02],
  ] as const) {
    const [m, k, n] = [150, 300, 270];
    const r = rng(7);
    const a = Float32Array.from({ length: m * k }, () => (r(0, 1) < density ? r() : 0));
    const b = random(k * n, 8);
    runs.push([`matmulNN ${name}`, () => lastOut(nat.matmulNN, a, b, m, k, n)]);
    runs.push([`matmulTN ${name}`, () => lastOut(nat.matmulTN, a, b, m, k, n)]);
  }
  const [wa, wb] = [random(200 * 40, 13), random(40 * 4500, 14)];
  runs.push(['matmulNN wide 200×40→4500', () => lastOut(nat.matmulNN, wa, wb, 200, 40, 4500)]);
  const c = attnCase(8, 2, 64, 500, 40, 0, 9);
  runs.push([
    'attention 40 tokens at 500',
    () => {
      const out = new Float32Array(40 * 8 * 64);
      nat.attention(out, c.q, c.keys, c.values, c.args, new Float32Array(540));
      return out;
    },
  ]);
  const big = random(300_000, 10, -10, 10);
  runs.push(['swiglu 300k', () => swigluOut(big)]);
  runs.push(['rmsnorm 300×1000', () => ((out) => (nat.rmsnorm(out, big, big, 300, 1000, 1e-5), out))(new Float32Array(300_000))]);
  const picks = randomIndices(2048, 32, 1024, 11);
  const pickVals = random(2048 * 32, 12);
  const table = random(1024 * 64, 13);
  const acts = random(2048 * 64, 14);
  runs.push(['gatherRows 2048×32 of 1024×64', () => ((out) => (nat.gatherRows(out, picks, pickVals, 2048, 32, table, 64), out))(new Float32Array(2048 * 64))]);
  runs.push(['gatheredDots 2048×32 of 1024×64', () => ((out) => (nat.gatheredDots(out, acts, picks, 2048, 32, table, 64), out))(new Float32Array(2048 * 32))]);
  runs.push(['scatterRows 2048×32 into 1024×64', () => ((t) => (nat.scatterRows(t, picks, pickVals, 2048, 32, acts, 64), t))(table.slice())]);
  runs.push(['scatterRowsPair 2048×32 into 1024×64', () => ((t) => (nat.scatterRowsPair(t.subarray(0, 65536), picks, pickVals, 2048, 32, acts, 64, t.subarray(65536), acts.subarray(0, 65536), acts), t))(random(2 * 65536, 15))]);
  runs.push([
    'sparseDecodeBackward 2048×32 of 1024×64',
    () => {
      const r = sparseDecode(nat, 2048, 32, 1024, 64, 16);
      const parts = [r.out, r.dOut, r.dPre, r.gradDec, r.gradEncT, r.gradBias, r.actSums, new Float32Array(r.counts.buffer), Float32Array.of(r.sse, r.active)];
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      return all;
    },
  ]);
  runs.push([
    'encodeTopK 2048×64 into 1024 latents',
    () => {
      const out = { idx: new Int32Array(2048 * 32), pre: new Float32Array(2048 * 32) };
      nat.encodeTopK(out, acts, table, table.subarray(0, 1024), 2048, 64, 1024, 32);
      return out.pre;
    },
  ]);
  runs.push(['encodeRelu 2048×64 into 1024 latents', () => ((idx, val) => (nat.encodeRelu(idx, val, acts, table, table.subarray(0, 1024), 2048, 64, 1024), val))(new Int32Array(2048 * 1024), new Float32Array(2048 * 1024))]);
  runs.push(['topKRows 100×3000', () => ((idx) => (nat.topKRows(idx, new Float32Array(100 * 40), big, 100, 3000, 40), idx))(new Int32Array(100 * 40))]);
  for (const [name, run] of runs) assertBitIdentical(withThreads(1, run), withThreads(2, run), name);
});

function lastOut(fn: Backend['matmulNN'], a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  fn(out, a, b, m, k, n);
  return out;
}

function swigluOut(gate: Float32Array): Float32Array {
  const g = gate.slice();
  nat.swiglu(g, gate, g.length);
  return g;
}

test('shape checks: short arrays, wrong array kinds and bad sizes throw ShapeError naming the values', { skip }, () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  assert.throws(() => nat.matmul(f(6), f(11), f(8), 3, 4, 2), (e: Error) => e instanceof ShapeError && /x has 11 elements, needs rows·n = 3·4 = 12/.test(e.message));
  assert.throws(() => nat.matmul(f(5), f(12), f(8), 3, 4, 2), /out has 5 elements, needs rows·d = 3·2 = 6/);
  assert.throws(() => nat.matmul(f(6), f(12), f(8), 3, 4.5, 2), /n must be an integer/);
  assert.throws(() => nat.matmul(f(6), f(12), quantizeQ80(f(8), 2, 4), 3, 8, 2), (e: Error) => e instanceof ShapeError && /\[2, 4\]/.test(e.message));
  const q = quantizeQ80(f(64), 2, 32);
  assert.throws(() => nat.matmul(f(2), f(32), { ...q, scales: f(1) }, 1, 32, 2), /w\.scales has 1 elements, needs d·n\/groupSize = 2·32\/32 = 2/);
  assert.throws(() => nat.matmulNN(f(4), f(3), f(4), 2, 2, 2), /a has 3 elements/);
  assert.throws(() => nat.rope(f(8), Int32Array.of(9), 1, 8, 4, f(16)), /positions\[0\] = 9 is outside the cosSin table of 4 positions/);
  assert.throws(() => nat.softmax(f(4), 2, 3), /offset\+len = 2\+3 = 5/);
  const args: AttentionArgs = { tokenOffset: 0, count: 2, startPos: 3, nHeads: 4, nKvHeads: 2, headSize: 8 };
  assert.throws(() => nat.attention(f(64), f(64), f(5 * 16 - 1), f(80), args, f(5)), /keys has 79 elements, needs \(startPos\+count\)·kvDim = \(3\+2\)·16 = 80/);
  assert.throws(() => nat.attention(f(64), f(64), f(80), f(80), { ...args, nKvHeads: 3 }, f(5)), /nHeads 4 must be a positive multiple of nKvHeads 3/);
  assert.throws(() => nat.topKRows(new Int32Array(2), f(2), new Float64Array(4) as unknown as Float32Array, 1, 4, 2), /x must be a Float32Array, got Float64Array/);
  for (const backend of [nat, ref]) {
    assert.throws(() => backend.gatherRows(f(4), Int32Array.of(0, 3), f(2), 1, 2, f(6), 2), (e: Error) => e instanceof ShapeError && /idx\[1\] = 3 is outside the table's rows 0\.\.2/.test(e.message));
    assert.throws(() => backend.scatterRows(f(6), Int32Array.of(-1), f(1), 1, 1, f(2), 2), /idx\[0\] = -1 is outside/);
    assert.throws(() => backend.scatterRowsPair(f(6), Int32Array.of(1), f(1), 1, 1, f(2), 2, f(4), f(1), f(2)), (e: Error) => e instanceof ShapeError && /table2 has 4 elements/.test(e.message));
    assert.throws(() => backend.encodeRelu(new Int32Array(5), f(6), f(4), f(6), f(3), 2, 2, 3), (e: Error) => e instanceof ShapeError && /idx/.test(e.message));
    assert.throws(() => backend.transpose(f(3), f(6), 2, 3), (e: Error) => e instanceof ShapeError && /out (has )?3 elements/.test(e.message));
    const o = { out: f(4), dOut: f(4), dPre: f(1), gradDec: f(4), gradEncT: f(4), gradBias: f(2), counts: new Int32Array(2) };
    assert.throws(() => backend.sparseDecodeBackward(o, { idx: Int32Array.of(5), act: f(1), rows: 1, k: 1, x: f(2), saeIn: f(2), wDec: f(4), bDec: f(2), width: 2, batch: 1 }), /idx\[0\] = 5 is outside the table's rows 0\.\.1/);
  }
});
