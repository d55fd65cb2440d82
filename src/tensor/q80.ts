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
 * Symmetric int8 quantisation per group (llama2.c export.py `quantize_q80`, GGML `quantize_row_q8_0`):
 * scale = max|w| / 127, q = round(w / scale), so w ≈ q · scale with |error| ≤ scale / 2. The
 * arithmetic is export.py's float32 (scale and w / scale rounded to float32, ties to even as
 * `torch.round`), so a file we write holds the bytes export.py would write. An all-zero group gets
 * scale 0 and q 0.
 */
export function quantizeQ80(w: Float32Array, rows: number, cols: number, groupSize = q80GroupSize(cols)): Q80Matrix {
  if (w.length !== rows * cols) throw new ShapeError(`quantizeQ80: ${w.length} values for a [${rows}, ${cols}] matrix`);
  if (!(groupSize > 0) || cols % groupSize !== 0) throw new ShapeError(`quantizeQ80: group size ${groupSize} does not divide ${cols} columns`);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array((rows * cols) / groupSize);
  quantizeQ80Into(q, scales, 0, w, groupSize);
  return { kind: 'q8_0', rows, cols, groupSize, q, scales };
}

/**
 * Quantises `w` (a whole number of groups) into q[at..at+w.length] and scales[at/groupSize..]: the
 * kernel of quantizeQ80, for filling a matrix a few rows at a time (streaming a file).
 */
export function quantizeQ80Into(q: Int8Array, scales: Float32Array, at: number, w: Float32Array, groupSize: number): void {
  for (let off = 0; off < w.length; off += groupSize) {
    let max = 0;
    for (let i = 0; i < groupSize; i++) max = Math.max(max, Math.abs(w[off + i]));
    const scale = Math.fround(max / 127);
    scales[(at + off) / groupSize] = scale;
    // An all-zero group keeps q = 0 (export.py would divide 0 by 0 here); zero the slots in case q is reused.
    if (scale === 0) q.fill(0, at + off, at + off + groupSize);
    else for (let i = 0; i < groupSize; i++) q[at + off + i] = roundHalfEven(Math.fround(w[off + i] / scale));
  }
}

/** torch.round: to the nearest integer, ties to even (Math.round sends ties up). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Back to fp32 (for embeddings, inspection and tests). */
export function dequantizeQ80(m: Q80Matrix, out = new Float32Array(m.rows * m.cols)): Float32Array {
  const gs = m.groupSize;
  for (let g = 0; g < m.scales.length; g++) {
    const s = m.scales[g];
    for (let i = g * gs; i < (g + 1) * gs; i++) out[i] = m.q[i] * s;
  }
  return out;
}
