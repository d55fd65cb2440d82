import type { WeightMatrix } from './weight-matrix.js';

/**
 * Kernels both the model and SAE work call: the product with a weight matrix, each row's top k, and
 * an element-wise add. Kernels are plain functions with out-params over row-major Float32Array
 * views (as llama2.c run.c's `matmul(xout, x, w, n, d)`): they allocate nothing, so a fast backend
 * (native SIMD, threads) can replace the reference one kernel by kernel.
 */
export interface SharedKernels {
  readonly name: string;

  /**
   * out[r,o] = Σ_i x[r,i]·w[o,i].  x: [rows, n], w: [d, n] (row-major out×in, as in the files), out: [rows, d].
   * w may be Q8_0; then the product is Σ_i x[r,i]·q[o,i]·scale[o, i/groupSize].
   */
  matmul(out: Float32Array, x: Float32Array, w: WeightMatrix, rows: number, n: number, d: number): void;

  /**
   * The k largest entries of each row of x ([rows, n]), most positive first (ties: lower index first).
   * outIdx, outVal: [rows, k].
   */
  topKRows(outIdx: Int32Array, outVal: Float32Array, x: Float32Array, rows: number, n: number, k: number): void;

  /** x[i] += y[i] for i < len (the residual stream). */
  addInPlace(x: Float32Array, y: Float32Array, len: number): void;
}

/** The kernels of a transformer forward pass and of sampling (src/model). */
export interface ModelKernels extends SharedKernels {
  /** RMSNorm per row: out = x / sqrt(mean(x²) + eps) · weight.  x, out: [rows, size]; out may alias x. */
  rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, rows: number, size: number, eps: number): void;

  /**
   * Rotary position embedding in place on pairs (2i, 2i+1) of every head (Su et al. 2021, as run.c).
   * x: [rows, width] with width = heads·headSize; row r is at position positions[r].
   * cosSin: [maxPos, headSize/2, 2] table of (cos, sin).
   */
  rope(x: Float32Array, positions: Int32Array, rows: number, width: number, headSize: number, cosSin: Float32Array): void;

  /** SwiGLU (Shazeer 2020): gate[i] = silu(gate[i]) · up[i], in place on gate. */
  swiglu(gate: Float32Array, up: Float32Array, len: number): void;

  /** Numerically stable softmax in place over x[offset, offset+len). */
  softmax(x: Float32Array, offset: number, len: number): void;

  /**
   * Causal multi-head attention with grouped-query heads over one sequence's KV cache.
   * q: [count, nHeads·headSize] (already rotated) for the tokens at positions startPos..startPos+count-1;
   * keys, values: [capacity, kvDim] holding positions 0..startPos+count-1; out: [count, nHeads·headSize].
   * Query head h reads KV head floor(h / (nHeads/nKvHeads)). scores: scratch of ≥ startPos+count floats.
   * When `pattern` is given, the softmaxed weights of token t, head h are written at
   * pattern[(t·nHeads + h)·patternStride + k] instead of being applied; see attentionApply.
   */
  attention(
    out: Float32Array,
    q: Float32Array,
    keys: Float32Array,
    values: Float32Array,
    args: AttentionArgs,
    scores: Float32Array,
  ): void;

  /**
   * attention() for several sequences in one call (a batched decode step), each over its own row of
   * a layer's [batch, capacity, kvDim] cache: segments [nSeg, 4] holds (tokenOffset, count, startPos,
   * cacheRow) per sequence. Each sequence's output equals attention() on its row's keys and values;
   * one call lets a threaded backend spread every (token, head) of every row over its threads.
   * scores: scratch of ≥ max(startPos + count) floats.
   */
  attentionRows(out: Float32Array, q: Float32Array, keys: Float32Array, values: Float32Array, segments: Int32Array, nSeg: number, capacity: number, heads: AttentionHeads, scores: Float32Array): void;

  /** Writes softmaxed attention weights to `pattern` ([count, nHeads, patternStride], zero beyond each token's position). */
  attentionPattern(pattern: Float32Array, q: Float32Array, keys: Float32Array, args: AttentionArgs, patternStride: number): void;

  /** out = pattern · V per head, for a pattern laid out as attentionPattern writes it. */
  attentionApply(out: Float32Array, pattern: Float32Array, values: Float32Array, args: AttentionArgs, patternStride: number): void;
}

/** Head layout of an attention call. */
export interface AttentionHeads {
  nHeads: number;
  nKvHeads: number;
  headSize: number;
}

export interface AttentionArgs extends AttentionHeads {
  /** Offset (in tokens) of this sequence's first query row inside q/out. */
  tokenOffset: number;
  count: number;
  startPos: number;
}
