/**
 * Nearest features by decoder cosine similarity, cos(W_dec[i], W_dec[j]): features that write
 * nearly the same direction into the residual stream (feature splitting and absorption show up
 * here; Bricken et al. 2023, Chanin et al. 2024). The Gram matrix is formed a block of rows at a
 * time so memory stays O(block × d_sae) for large dictionaries.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { Sae } from '../sae.js';

export interface Neighbour {
  feature: number;
  cosine: number;
}

const BLOCK_ROWS = 256;

/** The `k` most similar other features of every feature, most similar first. */
export function decoderNeighbours(sae: Sae, k: number, backend: SaeKernels): Neighbour[][] {
  const { d_in: n, d_sae: d } = sae.config;
  const unit = new Float32Array(d * n);
  const unitT = new Float32Array(n * d); // [d_in, d_sae] for the NN product
  for (let j = 0; j < d; j++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += sae.weights.W_dec[j * n + i] ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let i = 0; i < n; i++) {
      unit[j * n + i] = sae.weights.W_dec[j * n + i] * inv;
      unitT[i * d + j] = unit[j * n + i];
    }
  }
  const out: Neighbour[][] = [];
  const keep = Math.min(k, d - 1);
  for (let r0 = 0; r0 < d; r0 += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, d - r0);
    const gram = new Float32Array(rows * d);
    backend.matmulNN(gram, unit.subarray(r0 * n, (r0 + rows) * n), unitT, rows, n, d);
    for (let r = 0; r < rows; r++) out.push(topOthers(gram.subarray(r * d, (r + 1) * d), r0 + r, keep));
  }
  return out;
}

function topOthers(cos: Float32Array, self: number, k: number): Neighbour[] {
  const best: Neighbour[] = [];
  if (k === 0) return best;
  for (let j = 0; j < cos.length; j++) {
    if (j === self || (best.length === k && cos[j] <= best[k - 1].cosine)) continue;
    const at = best.findIndex((b) => b.cosine < cos[j]);
    best.splice(at < 0 ? best.length : at, 0, { feature: j, cosine: cos[j] });
    if (best.length > k) best.pop();
  }
  return best;
}
