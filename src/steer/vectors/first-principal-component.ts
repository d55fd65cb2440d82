/**
 * The first principal component of n rows of width d, as scikit-learn's PCA(n_components=1)
 * computes it (the rows are centred on their mean first; repeng's read_representations calls
 * exactly that): the unit eigenvector of the top eigenvalue of XcᵀXc. Found by power iteration
 * on XcᵀXc without forming it (each step is Xcᵀ(Xc v), O(n·d)), in float64. Steering data have
 * few rows (tens of pairs), so this is cheap; convergence is geometric in λ₂/λ₁, and when the
 * top two eigenvalues are nearly equal any vector in their span is an equally good answer.
 */
import { SteeringError } from '../../errors.js';

const MAX_ITERATIONS = 10_000;
/** Stop when an iteration moves the unit vector by less than this (Euclidean). */
const TOLERANCE = 1e-10;

/** `rows` is [n, d] row-major; returns a unit vector [d] (its sign is arbitrary, as in PCA). */
export function firstPrincipalComponent(rows: ArrayLike<number>, n: number, d: number): Float64Array {
  const x = new Float64Array(n * d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += rows[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = rows[i * d + j] - mean[j];

  // Start from the longest centred row: it lies in the row space, so it is never orthogonal to
  // every top eigenvector (a fixed start vector could be, and power iteration would then miss it).
  let start = -1;
  let best = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    if (s > best) [best, start] = [s, i];
  }
  if (start < 0) throw new SteeringError('the rows have no variance, so they have no principal component (are all pairs alike?)');
  let v = normalized(x.slice(start * d, (start + 1) * d));
  const xv = new Float64Array(n);
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * v[j];
      xv[i] = s;
    }
    const next = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) next[j] += x[i * d + j] * xv[i];
    normalized(next);
    let change = 0;
    for (let j = 0; j < d; j++) change += (next[j] - v[j]) ** 2;
    v = next;
    if (change < TOLERANCE ** 2) break;
  }
  return v;
}

function normalized(v: Float64Array): Float64Array {
  let s = 0;
  for (const a of v) s += a * a;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < v.length; j++) v[j] *= inv;
  return v;
}
