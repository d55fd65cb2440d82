import assert from 'node:assert/strict';

export interface Tolerance {
  /** Absolute tolerance. Default 0. */
  atol?: number;
  /** Relative tolerance (times |expected|). Default 0. */
  rtol?: number;
}

/**
 * numpy's allclose rule, element by element: |actual − expected| ≤ atol + rtol·|expected|.
 * Fails on the first element outside it, naming its index and both values; NaN never passes.
 */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'values'): void {
  const atol = tol.atol ?? 0;
  const rtol = tol.rtol ?? 0;
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const bound = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= bound)) {
      assert.fail(`${what}[${i}] = ${a}, expected ${e} (|Δ| = ${Math.abs(a - e)} > ${bound}; atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Largest |a[i] − b[i]| (arrays of equal length). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}
