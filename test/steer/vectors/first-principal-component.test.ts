import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../../src/errors.js';
import { firstPrincipalComponent } from '../../../src/steer/vectors/first-principal-component.js';
import { jacobiEigen, topPrincipalAxis } from './jacobi-eigen.js';

/** |cos| between two vectors: a principal component has no sign. */
function absCos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i] * b[i], aa + a[i] ** 2, bb + b[i] ** 2];
  return Math.abs(ab) / Math.sqrt(aa * bb);
}

let seed = 7;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;

test('known covariance: rows built as W·diag(σ)·Qᵀ with orthogonal W columns have principal axes Q, first = Q[:,0]', () => {
  // Walsh–Hadamard columns 1..3 of order 8 are orthogonal with zero mean, so the rows are already
  // centred and XᵀX = 8·Q diag(σ²) Qᵀ exactly. Q is a Householder reflection I − 2hhᵀ/‖h‖² (orthogonal).
  const n = 8;
  const d = 5;
  const walsh = (i: number, k: number): number => ((i & k).toString(2).split('1').length - 1) % 2 === 0 ? 1 : -1;
  const h = [0.3, -1.2, 0.7, 0.1, 2.0];
  const hh = h.reduce((s, x) => s + x * x, 0);
  const q = (r: number, c: number): number => (r === c ? 1 : 0) - (2 * h[r] * h[c]) / hh;
  const sigma = [3, 1.5, 0.5];
  const rows = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) for (let k = 0; k < 3; k++) rows[i * d + j] += walsh(i, k + 1) * sigma[k] * q(j, k);
  const u = firstPrincipalComponent(rows, n, d);
  const expected = Array.from({ length: d }, (_, j) => q(j, 0));
  assert.ok(absCos(u, expected) > 1 - 1e-12, `cos ${absCos(u, expected)}`);
  assert.ok(Math.abs(Math.hypot(...u) - 1) < 1e-12);
});

test('Jacobi oracle itself: a 2×2 covariance [[2,1],[1,2]] has eigenvalues 3 and 1, top axis (1,1)/√2', () => {
  const { values, vectors } = jacobiEigen(Float64Array.of(2, 1, 1, 2), 2);
  const top = values[0] > values[1] ? 0 : 1;
  assert.ok(Math.abs(values[top] - 3) < 1e-12 && Math.abs(values[1 - top] - 1) < 1e-12);
  assert.ok(absCos([vectors[top], vectors[2 + top]], [1, 1]) > 1 - 1e-12);
});

test('random data with a dominant direction: power iteration agrees with the Jacobi eigen-decomposition', () => {
  for (const [n, d] of [[40, 64], [12, 30], [3, 10]]) {
    const dir = Array.from({ length: d }, rand);
    const rows = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const a = 4 * rand();
      for (let j = 0; j < d; j++) rows[i * d + j] = a * dir[j] + rand() + 0.7; // an offset that centring removes
    }
    const u = firstPrincipalComponent(rows, n, d);
    const oracle = topPrincipalAxis(rows, n, d);
    assert.ok(absCos(u, oracle) > 1 - 1e-9, `n=${n} d=${d}: cos ${absCos(u, oracle)}`);
  }
});

test('rows without variance have no principal component: a SteeringError, not NaN', () => {
  assert.throws(() => firstPrincipalComponent(Float64Array.of(1, 2, 1, 2), 2, 2), SteeringError);
});
