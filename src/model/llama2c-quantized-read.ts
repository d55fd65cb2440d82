import { quantizeQ80, quantizeQ80Into } from '../tensor/q80.js';
import type { Q80Matrix } from '../tensor/weight-matrix.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import type { Llama2cVersion } from './llama2c-format.js';
import { buildLlama2cWeights, readLlama2cHeader } from './llama2c-format.js';
import { FileTensorSource, withFile } from './llama2c-tensor-source.js';
import type { QuantizeOptions } from './quantize-weights.js';
import { groupSizeFor } from './quantize-weights.js';

/** A model file read with Q8_0 matrices; `format` is the file's own. */
export interface QuantizedLlama2c {
  config: LlamaConfig;
  weights: LlamaWeights<Q80Matrix>;
  format: Llama2cVersion;
  fileBytes: number;
}

const CHUNK_FLOATS = 1 << 18; // 1 MiB of fp32 rows read and quantised at a time

/**
 * Reads a llama2.c file with every matmul weight as Q8_0 (the result of quantizeWeights on the fp32
 * file), without ever holding the fp32 file: each matrix is read a few rows at a time into one
 * reusable 1 MiB buffer and quantised into its Q8_0 arrays. Peak memory ≈ the Q8_0 weights + the
 * fp32 embedding and norms (kept fp32) + 1 MiB. A version 2 file is already Q8_0 and loads as it is.
 */
export function readLlama2cQuantized(path: string, opts: QuantizeOptions = {}): QuantizedLlama2c {
  return withFile(path, (fd, size) => {
    const h = readLlama2cHeader(fd, size, path);
    const src = h.version === 'llama2c-v2' ? new FileTensorSource(fd, h.headerBytes, path) : new QuantizingTensorSource(fd, h.headerBytes, path, h.config, opts);
    return { config: h.config, weights: buildLlama2cWeights(h, src) as LlamaWeights<Q80Matrix>, format: h.version, fileBytes: size };
  });
}

/** Reads fp32 matrices in whole-row chunks and quantises each chunk into the matrix's Q8_0 arrays. */
class QuantizingTensorSource extends FileTensorSource {
  private readonly scratch = new Float32Array(CHUNK_FLOATS);

  constructor(
    fd: number,
    pos: number,
    path: string,
    private readonly c: LlamaConfig,
    private readonly opts: QuantizeOptions,
  ) {
    super(fd, pos, path);
  }

  override matrix(rows: number, cols: number): Q80Matrix {
    const gs = groupSizeFor(cols, this.c, this.opts);
    const q = new Int8Array(rows * cols);
    const scales = new Float32Array((rows * cols) / gs);
    // Whole rows per read (at least one, even when a row is longer than the scratch buffer).
    const rowsPer = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
    const buf = rowsPer * cols <= this.scratch.length ? this.scratch : new Float32Array(cols);
    for (let r = 0; r < rows; r += rowsPer) {
      const part = buf.subarray(0, Math.min(rowsPer, rows - r) * cols);
      this.read(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      quantizeQ80Into(q, scales, r * cols, part, gs);
    }
    return { kind: 'q8_0', rows, cols, groupSize: gs, q, scales };
  }

  /** The embedding stays fp32 for lookups; the classifier gets its own Q8_0 copy (as runq.c's wcls = q_tokens). */
  override sharedClassifier(embedding: Float32Array, rows: number, cols: number): Q80Matrix {
    return quantizeQ80(embedding, rows, cols, groupSizeFor(cols, this.c, this.opts));
  }
}
