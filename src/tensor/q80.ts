import { ShapeError } from '../errors.js';
import type { Q80Matrix } from './weight-matrix.js';

/** GGML's Q8_0 block length. */
export const Q80_GROUP = 32;

/**
 * Group size for a row of `cols` values: 32 when it divides cols, else the largest power of two that
 * does (llama2.c export.py halves the group size until it divides the dimension).
 */
export function q80GroupSize(cols: number): number {
  let g = Q80_GROUP;
  while (cols % g !== 0) g >>= 1;
  return g;
}

/**
 * Symmetric int8 quantisation per group (runq.c `quantize`, GGML `quantize_row_q8_0`):
 * scale = max|w| / 127, q = round(w / scale), so w ≈ q · scale with |error| ≤ scale / 2.
 */
export function quantizeQ80(w: Float32Array, rows: number, cols: number, groupSize = q80GroupSize(cols)): Q80Matrix {
  if (w.length !== rows * cols) throw new ShapeError(`quantizeQ80: ${w.length} values for a [${rows}, ${cols}] matrix`);
  if (cols % groupSize !== 0) throw new ShapeError(`quantizeQ80: group size ${groupSize} does not divide ${cols} columns`);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array((rows * cols) / groupSize);
  for (let g = 0; g < scales.length; g++) {
    const off = g * groupSize;
    let max = 0;
    for (let i = 0; i < groupSize; i++) max = Math.max(max, Math.abs(w[off + i]));
    const scale = max / 127;
    scales[g] = scale;
    const inv = scale === 0 ? 0 : 1 / scale;
    for (let i = 0; i < groupSize; i++) q[off + i] = Math.round(w[off + i] * inv);
  }
  return { kind: 'q8_0', rows, cols, groupSize, q, scales };
}

/** Back to fp32 (for embeddings, inspection and tests). */
export function dequantizeQ80(m: Q80Matrix, out = new Float32Array(m.rows * m.cols)): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = m.q[i] * m.scales[Math.floor(i / m.groupSize)];
  return out;
}
