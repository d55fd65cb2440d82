/**
 * Test oracle: all eigenpairs of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan,
 * Matrix Computations §8.5), a different algorithm from the power iteration under test.
 */
export function jacobiEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array /* column k = eigenvector k */ } {
  const a = matrix.slice();
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]), vectors: v };
}

/** Eigenvector of the largest eigenvalue of the (uncentred) scatter matrix XᵀX of centred rows, by Jacobi. */
export function topPrincipalAxis(rows: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += rows[i * d + j] / n;
  const c = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const xj = rows[i * d + j] - mean[j];
      for (let k = 0; k < d; k++) c[j * d + k] += xj * (rows[i * d + k] - mean[k]);
    }
  }
  const { values, vectors } = jacobiEigen(c, d);
  let top = 0;
  for (let k = 1; k < d; k++) if (values[k] > values[top]) top = k;
  return Float64Array.from({ length: d }, (_, j) => vectors[j * d + top]);
}
