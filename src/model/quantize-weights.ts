import { UsageError } from '../errors.js';
import { q80GroupSize, quantizeQ80 } from '../tensor/q80.js';
import type { Q80Matrix, WeightMatrix } from '../tensor/weight-matrix.js';
import { isQ80 } from '../tensor/weight-matrix.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import { layerWeightShapes, MATRIX_NAMES } from './llama-weights.js';
import { llama2cV2GroupSize } from './llama2c-format.js';

/** Weight formats a model can be quantised to at load time. */
export const QUANTIZATIONS = ['q8_0'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

export interface QuantizeOptions {
  /**
   * Q8_0 group size: a number for every matrix, 'uniform' for the one a llama2.c version 2 file
   * needs (llama2cV2GroupSize), or by default per matrix: 32, or the largest power of two
   * dividing its row length (stories260K's w2, 172 columns: 4).
   */
  groupSize?: number | 'uniform';
}

/** The Q8_0 group size for a matrix with `cols` columns under `opts`. */
export function groupSizeFor(cols: number, c: LlamaConfig, opts: QuantizeOptions = {}): number {
  const gs = opts.groupSize === 'uniform' ? llama2cV2GroupSize(c) : (opts.groupSize ?? q80GroupSize(cols));
  if (!Number.isSafeInteger(gs) || gs < 1 || cols % gs !== 0) throw new UsageError(`Q8_0 group size ${gs} does not divide the ${cols} columns of a matrix (dim ${c.dim}, hidden_dim ${c.hiddenDim})`);
  return gs;
}

/**
 * Every matmul weight (MATRIX_NAMES and the classifier) as Q8_0; the embedding and the norms stay
 * fp32 and are shared with `w`, not copied. The embedding is a lookup table, so a shared classifier
 * becomes its own Q8_0 copy of it (as runq.c's wcls = q_tokens). Matrices already Q8_0 (a GGUF
 * file's) are kept as they are.
 */
export function quantizeWeights(w: LlamaWeights, c: LlamaConfig, opts: QuantizeOptions = {}): LlamaWeights<Q80Matrix> {
  const q = (m: WeightMatrix, rows: number, cols: number): Q80Matrix => (isQ80(m) ? m : quantizeQ80(m, rows, cols, groupSizeFor(cols, c, opts)));
  const shapes = layerWeightShapes(c);
  const matrices = Object.fromEntries(
    MATRIX_NAMES.map((name) => {
      const [rows, cols] = shapes[name];
      return [name, w[name].map((m) => q(m, rows, cols))];
    }),
  ) as Pick<LlamaWeights<Q80Matrix>, (typeof MATRIX_NAMES)[number]>;
  return {
    tokenEmbedding: w.tokenEmbedding,
    rmsAtt: w.rmsAtt,
    rmsFfn: w.rmsFfn,
    rmsFinal: w.rmsFinal,
    ...matrices,
    classifier: q(w.classifier, c.vocabSize, c.dim),
  };
}
