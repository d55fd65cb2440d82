import { ShapeError } from '../errors.js';
import type { EncodePicks, EncodeTopKOptions, SaeKernels } from './sae-kernels.js';

/** Buffers of the grid route: pre and scores [rows, dSae], vals [rows, k], gathered [rows, aux.cols.length], auxVals [rows, aux.k]. */
export interface EncodeTopKGrid {
  pre: Float32Array;
  scores: Float32Array;
  vals: Float32Array;
  gathered: Float32Array;
  auxVals: Float32Array;
}

/**
 * SaeKernels.encodeTopK by its definition, on backend b's kernels: the [rows, dSae] grid written out
 * (matmulNN, addRowVector, the scaling), ranked by topKRows, and pre read back at the picks. The
 * reference backend's encodeTopK is this; SAE losses take it for encoders too large for the fused
 * kernel's cache blocking. aux.pre may share memory with grid.scores: scores are read before it is written.
 */
export function encodeTopKOnGrid(
  b: SaeKernels, out: EncodePicks, x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, dIn: number, dSae: number, k: number,
  opts: EncodeTopKOptions, grid: EncodeTopKGrid,
): void {
  if (!(k >= 1 && k <= dSae)) throw new ShapeError(`encodeTopK: k = ${k} must be in 1..dSae = ${dSae}`);
  const { scale, aux } = opts;
  if (aux && aux.k > aux.cols.length) throw new ShapeError(`encodeTopK: aux.k = ${aux.k} exceeds the ${aux.cols.length} columns of aux.cols`);
  const pre = grid.pre;
  b.matmulNN(pre, x, w, rows, dIn, dSae);
  b.addRowVector(pre, bias, rows, dSae);
  const h = scale ? grid.scores : pre;
  if (scale) for (let n = 0; n < rows * dSae; n++) h[n] = pre[n] * scale[n % dSae];
  b.topKRows(out.idx, grid.vals, h, rows, dSae, k);
  for (let r = 0; r < rows * k; r++) out.pre[r] = pre[Math.floor(r / k) * dSae + out.idx[r]];
  if (!aux || aux.k === 0) return;
  const n = aux.cols.length;
  const hd = grid.gathered;
  for (let r = 0; r < rows; r++) for (let q = 0; q < n; q++) hd[r * n + q] = h[r * dSae + aux.cols[q]];
  b.topKRows(aux.idx, grid.auxVals, hd.subarray(0, rows * n), rows, n, aux.k);
  for (let r = 0; r < rows * aux.k; r++) {
    aux.idx[r] = aux.cols[aux.idx[r]];
    aux.pre[r] = pre[Math.floor(r / aux.k) * dSae + aux.idx[r]];
  }
}
