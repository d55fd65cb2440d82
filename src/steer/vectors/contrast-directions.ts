/**
 * Steering directions from the activations of positive and negative examples at one hook
 * ([count, width] row-major each):
 *  - `caa`: mean(positive) − mean(negative), the CAA vector of Panickssery et al. 2024 (pairs
 *    not needed: with pairs it equals the mean of the pair differences).
 *  - `pca_diff`: the first principal component of the pair differences pos_i − neg_i; and
 *    `pca_center`: of each pair centred on its own mean (rows pos_i − c_i and neg_i − c_i,
 *    c_i = (pos_i + neg_i)/2) — repeng's read_representations (vgel/repeng, extract.py), whose
 *    PCA centres the rows as scikit-learn does. PCA needs pairs.
 * A principal component has no sign and unit length. As repeng does, the sign is chosen so that
 * in most pairs the positive example projects higher than the negative one (ties: the mean
 * projection decides). The length is the mean projection of the pair differences on the
 * direction, |mean_i ⟨pos_i − neg_i, u⟩| — the component of the CAA vector along u — so that
 * strength 1 moves an activation by the average positive–negative separation along u, on the
 * same scale as a CAA vector.
 */
import { SteeringError } from '../../errors.js';
import { firstPrincipalComponent } from './first-principal-component.js';

export const VECTOR_METHODS = ['caa', 'pca_diff', 'pca_center'] as const;
export type VectorMethod = (typeof VECTOR_METHODS)[number];

export function meanDifference(pos: Float32Array, neg: Float32Array, width: number): Float32Array {
  const np = pos.length / width;
  const nn = neg.length / width;
  const sum = new Float64Array(width);
  for (let i = 0; i < np; i++) for (let j = 0; j < width; j++) sum[j] += pos[i * width + j] / np;
  for (let i = 0; i < nn; i++) for (let j = 0; j < width; j++) sum[j] -= neg[i * width + j] / nn;
  return Float32Array.from(sum);
}

/** PCA direction of paired activations (pos[i] with neg[i]), signed and scaled as described above. */
export function pcaDirection(pos: Float32Array, neg: Float32Array, width: number, method: 'pca_diff' | 'pca_center'): Float32Array {
  const n = pos.length / width;
  if (neg.length !== pos.length) throw new SteeringError(`${method} needs paired examples: ${n} positive but ${neg.length / width} negative`);
  if (n < 2) throw new SteeringError(`${method} needs at least 2 pairs, got ${n}`);
  const diffs = new Float64Array(n * width);
  for (let k = 0; k < n * width; k++) diffs[k] = pos[k] - neg[k];
  let u: Float64Array;
  if (method === 'pca_diff') u = firstPrincipalComponent(diffs, n, width);
  else {
    // pos_i − c_i = d_i/2 and neg_i − c_i = −d_i/2, interleaved as repeng orders its rows.
    const centred = new Float64Array(2 * n * width);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < width; j++) {
        centred[2 * i * width + j] = diffs[i * width + j] / 2;
        centred[(2 * i + 1) * width + j] = -diffs[i * width + j] / 2;
      }
    }
    u = firstPrincipalComponent(centred, 2 * n, width);
  }
  let higher = 0;
  let lower = 0;
  let meanProjection = 0;
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let j = 0; j < width; j++) p += diffs[i * width + j] * u[j];
    if (p > 0) higher++;
    else if (p < 0) lower++;
    meanProjection += p / n;
  }
  const sign = higher > lower || (higher === lower && meanProjection >= 0) ? 1 : -1;
  const scale = sign * Math.abs(meanProjection);
  return Float32Array.from(u, (a) => a * scale);
}
