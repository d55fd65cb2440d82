import type { SharedKernels } from './model-kernels.js';

/**
 * The kernels of SAE encoding, decoding and training (src/sae): dense products in both layouts,
 * fused encoders, sparse products over pick lists, and the element-wise passes of a training step.
 */
export interface SaeKernels extends SharedKernels {
  /** out[m,n] = Σ_k a[m,k]·b[k,n].  a: [m, k], b: [k, n] row-major (SAE decode: acts · W_dec). */
  matmulNN(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void;

  /** out[m,n] = Σ_k a[k,m]·b[k,n].  a: [k, m], b: [k, n] (weight gradients: xᵀ · grad). */
  matmulTN(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void;

  /**
   * A TopK SAE's encoder with selection, fused: pre = x·w + bias ([rows, dSae]; x [rows, dIn],
   * w [dIn, dSae]), scores h = pre ⊙ scale (or pre), and per row the k highest scores as topKRows
   * picks them: out.idx [rows, k] the latents, out.pre [rows, k] pre there. With `aux`, the same
   * selection over only the columns aux.cols (ascending latents), aux.k per row, into aux.idx (latent
   * indices) and aux.pre (AuxK's dead latents). Equals matmulNN, addRowVector, the scaling and
   * topKRows on the same backend, value for value; the native kernel never writes the [rows, dSae]
   * grid to memory.
   */
  encodeTopK(out: EncodePicks, x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, dIn: number, dSae: number, k: number, opts?: EncodeTopKOptions): void;

  /**
   * A ReLU SAE's encoder, fused: pre = x·w + bias ([rows, dSae]) and its positive entries as
   * positiveEntries lists them (idx, val at stride k, the returned busiest row's count, zero-padded;
   * both need room for rows·dSae). Equals matmulNN, addRowVector and positiveEntries on the same
   * backend, value for value; the native kernel never writes the [rows, dSae] grid to memory.
   */
  encodeRelu(idx: Int32Array, val: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, rows: number, dIn: number, dSae: number): number;

  /**
   * Sparse row products over an index list idx [rows, k] into a table [*, width] (a TopK SAE's
   * decoder and gradients touch only each token's k picked latents):
   *   gatherRows:   out[r,:] = Σ_j val[r,j] · table[idx[r,j], :]       out: [rows, width]
   *   gatheredDots: out[r,j] = a[r,:] · table[idx[r,j], :]             a: [rows, width], out: [rows, k]
   *   scatterRows:  table[idx[r,j], :] += val[r,j] · a[r,:]           (accumulates into table)
   * A zero val contributes nothing. Every idx must be a row of the table.
   */
  gatherRows(out: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, table: Float32Array, width: number): void;
  gatheredDots(out: Float32Array, a: Float32Array, idx: Int32Array, rows: number, k: number, table: Float32Array, width: number): void;
  scatterRows(table: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, a: Float32Array, width: number): void;
  /**
   * scatterRows into two tables of one shape through one index list: table += val·a and
   * table2 += val2·a2 (a TopK SAE's W_dec gradient fᵀ·δx̂ and transposed W_enc gradient δpreᵀ·sae_in
   * share the picks; the native kernel sorts them by row once for both).
   */
  scatterRowsPair(
    table: Float32Array, idx: Int32Array, val: Float32Array, rows: number, k: number, a: Float32Array, width: number, table2: Float32Array, val2: Float32Array, a2: Float32Array,
  ): void;

  /**
   * The positive entries of each row of x ([rows, n]; a ReLU SAE's active latents) as an index list
   * padded to the busiest row's count k, which is returned: row r's entries are
   * idx/val[r·k, (r+1)·k), its positive columns ascending with their values, then padding (index 0,
   * value 0). idx and val hold rows·n entries (the most k can be); NaN is not positive.
   */
  positiveEntries(idx: Int32Array, val: Float32Array, x: Float32Array, rows: number, n: number): number;

  /**
   * ReLU over a pick list in place (val[i] stays if it is > 0, else becomes 0; NaN becomes 0), and
   * counts[idx[i]] += 1 for each positive one; returns how many were positive. For i < len; every
   * idx[i] must index counts. (A TopK SAE's activations at its picks, and the firing counts.)
   */
  reluPicks(val: Float32Array, idx: Int32Array, len: number, counts: Int32Array): number;

  /**
   * out[idx[i]] += val[i] for i < len in index order, as float32 sums (the gradient of a bias
   * through a pick list). With `gate`, val[i] first becomes 0 and is skipped wherever gate[i] is 0
   * (a ReLU that was off). Every idx[i] must index out.
   */
  scatterAddPicks(out: Float32Array, idx: Int32Array, val: Float32Array, len: number, gate: Float32Array | null): void;

  /**
   * The decoder half of a TopK SAE training step over its pick list (idx, act [rows, k], into a
   * decoder W_dec [dSae, width]), fused; the same as, in order:
   *   active = reluPicks(act, idx, rows·k, counts)                      (act ReLU'd in place)
   *   out = gatherRows(idx, act, W_dec) + b_dec                           x̂ [rows, width]
   *   sse = squaredError(dOut, out, x, rows·width, batch)                 dOut = 2(x̂ − x)/batch
   *   dPre = gatheredDots(dOut, idx, W_dec), 0 where act is 0            d loss / d pre at the picks
   *   dPre += dPreAddend[idx] where act is not 0                          (if given: an L1 penalty's term)
   *   gradBias = 0, then scatterAddPicks(gradBias, idx, dPre)             [dSae]
   *   actSums = 0, then scatterAddPicks(actSums, idx, act)                (if given)
   *   gradDec = 0, then scatterRows(gradDec, idx, act, dOut)              [dSae, width]
   *   gradEncT = 0, then scatterRows(gradEncT, idx, dPre, saeIn)          [dSae, width]
   * Returns sse and active. dSae is W_dec's rows. The native kernel sums over halves of the batch and
   * adds the halves, so its sums agree with these to float rounding.
   */
  sparseDecodeBackward(o: SparseDecodeGrads, a: SparseDecodeInputs): { sse: number; active: number };

  /** out [cols, rows] = aᵀ for a [rows, cols] (a weight gradient built transposed, put back). */
  transpose(out: Float32Array, a: Float32Array, rows: number, cols: number): void;

  /** x[r,:] += v for each of `rows` rows of x ([rows, n]; a bias added to a batch). */
  addRowVector(x: Float32Array, v: Float32Array, rows: number, n: number): void;

  /*
   * The element-wise passes of SAE training. Every backend computes them as the reference does, in
   * float64 rounded to float32 on each store, summed in index order (sums of squares: in eight
   * partial sums by index mod 8, combined in a fixed tree; reference-backend.ts laneSum), so
   * training does not depend on the backend.
   */
  /** out[i] = x[i] · s for i < len. */
  scaleInto(out: Float32Array, x: Float32Array, s: number, len: number): void;
  /** out[r,:] = x[r,:] − v ([rows, n]; out may be x). */
  subRowVector(out: Float32Array, x: Float32Array, v: Float32Array, rows: number, n: number): void;
  /** Σ_i (out[i] − x[i])², writing dOut[i] = 2(out[i] − x[i]) / batch (d mean_b Σ (x̂ − x)² / d x̂). */
  squaredError(dOut: Float32Array, out: Float32Array, x: Float32Array, len: number, batch: number): number;
  /** out[j] = Σ_r m[r, j] over `rows` rows of m [·, width]. */
  columnSums(out: Float32Array, m: Float32Array, rows: number, width: number): void;
  /** Σ_{r,j} (x[r,j] − mean_r x[r,j])² over x [rows, width] (the batch's total variance × rows). */
  centeredSquares(x: Float32Array, rows: number, width: number): number;
  /** One Adam update of param from grad with moments m, v (torch.optim.Adam's arithmetic; see sae/training/adam.ts). */
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, step: AdamStep): void;
}

/** One Adam step's constants: stepSize = lr / (1 − β1^t), sqrtC2 = √(1 − β2^t). */
export interface AdamStep {
  beta1: number;
  beta2: number;
  eps: number;
  stepSize: number;
  sqrtC2: number;
}

/** What SaeKernels.sparseDecodeBackward writes. */
export interface SparseDecodeGrads {
  out: Float32Array;
  dOut: Float32Array;
  dPre: Float32Array;
  gradDec: Float32Array;
  gradEncT: Float32Array;
  gradBias: Float32Array;
  /** Incremented once per active pick. */
  counts: Int32Array;
  /** [dSae] Σ act per latent. */
  actSums?: Float32Array;
}

/** What SaeKernels.sparseDecodeBackward reads (act is also ReLU'd in place). */
export interface SparseDecodeInputs {
  idx: Int32Array;
  act: Float32Array;
  rows: number;
  k: number;
  /** The target x̂ is compared with, and the encoder's input, [rows, width] each. */
  x: Float32Array;
  saeIn: Float32Array;
  wDec: Float32Array;
  bDec: Float32Array;
  width: number;
  /** The error's gradient is 2(x̂ − x) / batch. */
  batch: number;
  /** [dSae] added to dPre at each active pick. */
  dPreAddend?: Float32Array;
}

/** Index list written by encodeTopK: [rows, k] latents and the pre-activation at each. */
export interface EncodePicks {
  idx: Int32Array;
  pre: Float32Array;
}

export interface EncodeTopKOptions {
  /** Per-latent factor of the selection scores (‖W_dec‖ for rescale_acts_by_decoder_norm); [dSae]. */
  scale?: Float32Array;
  /** A second selection over a subset of the latents: cols ascending, k per row. */
  aux?: EncodePicks & { cols: Int32Array; k: number };
}
