/**
 * A weight matrix [rows, cols] (row-major, out × in) as the kernels accept it: plain fp32, or Q8_0 —
 * int8 values in groups along each row with one fp32 scale per group (GGML's Q8_0 and llama2.c
 * runq.c: w ≈ q · scale, scale = max|w| / 127 per group).
 */
export interface Q80Matrix {
  readonly kind: 'q8_0';
  readonly rows: number;
  readonly cols: number;
  /** Values per group: 32 as GGML, or the largest power of two ≤ 32 dividing cols (runq.c's export rule). */
  readonly groupSize: number;
  readonly q: Int8Array; // [rows, cols]
  readonly scales: Float32Array; // [rows, cols / groupSize]
}

export type WeightMatrix = Float32Array | Q80Matrix;

export function isQ80(w: WeightMatrix): w is Q80Matrix {
  return !(w instanceof Float32Array);
}

/** Bytes a weight occupies in memory (what a decode step must read). */
export function weightBytes(w: WeightMatrix): number {
  return isQ80(w) ? w.q.byteLength + w.scales.byteLength : w.byteLength;
}
