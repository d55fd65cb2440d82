import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelFileError } from '../errors.js';
import { quantizeQ80, quantizeQ80Into } from '../tensor/q80.js';
import type { Q80Matrix } from '../tensor/weight-matrix.js';
import { describeFsError } from '../util/fs-error.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import { MATRIX_NAMES } from './llama-weights.js';
import type { Llama2cVersion } from './llama2c-format.js';
import { checkLlama2cSize, entryShape, llama2cLayout, parseLlama2cHeader, readLlama2c } from './llama2c-format.js';
import type { QuantizeOptions } from './quantize-weights.js';
import { groupSizeFor } from './quantize-weights.js';

/** A model file read with Q8_0 matrices; `format` is the file's own. */
export interface QuantizedLlama2c {
  config: LlamaConfig;
  weights: LlamaWeights<Q80Matrix>;
  format: Llama2cVersion;
  fileBytes: number;
}

const HEADER_READ = 256;
const CHUNK_FLOATS = 1 << 18; // 1 MiB of fp32 rows read and quantised at a time

/**
 * Reads a llama2.c file with every matmul weight as Q8_0 (the result of quantizeWeights on the fp32
 * file), without ever holding the fp32 file: each matrix is read a few rows at a time into one
 * reusable 1 MiB buffer and quantised into its Q8_0 arrays. Peak memory ≈ the Q8_0 weights + the
 * fp32 embedding and norms (kept fp32) + 1 MiB. A version 2 file is already Q8_0 and loads as it is.
 */
export function readLlama2cQuantized(path: string, opts: QuantizeOptions = {}): QuantizedLlama2c {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ModelFileError(path, describeFsError(e));
  }
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, HEADER_READ));
    readFully(fd, head, 0, path);
    const h = parseLlama2cHeader(head, path);
    checkLlama2cSize(h, size, path);
    if (h.version !== 'llama2c-v2') {
      return { config: h.config, weights: streamQuantize(fd, h.config, h.version, h.headerBytes, path, opts), format: h.version, fileBytes: size };
    }
  } finally {
    closeSync(fd);
  }
  // A version 2 file is already Q8_0: read whole, its matrices are views into the file bytes.
  const file = readLlama2c(path);
  if (file.format !== 'llama2c-v2') throw new ModelFileError(path, 'changed while it was being read');
  return file;
}

function streamQuantize(fd: number, c: LlamaConfig, version: Llama2cVersion, headerBytes: number, path: string, opts: QuantizeOptions): LlamaWeights<Q80Matrix> {
  const scratch = new Float32Array(CHUNK_FLOATS);
  let pos = headerBytes;
  const readF32 = (n: number): Float32Array => {
    const a = new Float32Array(n);
    readFully(fd, new Uint8Array(a.buffer), pos, path);
    pos += 4 * n;
    return a;
  };
  const readQ80 = (rows: number, cols: number): Q80Matrix => {
    const gs = groupSizeFor(cols, c, opts);
    const q = new Int8Array(rows * cols);
    const scales = new Float32Array((rows * cols) / gs);
    // Whole rows per read (at least one, even when a row is longer than the scratch buffer's default).
    const rowsPer = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
    const buf = rowsPer * cols <= scratch.length ? scratch : new Float32Array(cols);
    for (let r = 0; r < rows; r += rowsPer) {
      const part = buf.subarray(0, Math.min(rowsPer, rows - r) * cols);
      readFully(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength), pos, path);
      pos += part.byteLength;
      quantizeQ80Into(q, scales, r * cols, part, gs);
    }
    return { kind: 'q8_0', rows, cols, groupSize: gs, q, scales };
  };
  const w: Partial<Record<keyof LlamaWeights, unknown>> = {};
  for (const e of llama2cLayout(c, version)) {
    if (e.kind === 'skip') {
      pos += 4 * e.floats;
      continue;
    }
    const shape = entryShape(e, c);
    const isMatrix = e.name === 'classifier' || (MATRIX_NAMES as readonly string[]).includes(e.name);
    const one = (): Float32Array | Q80Matrix => (isMatrix ? readQ80(shape[0], shape[1]) : readF32(shape.reduce((a, b) => a * b, 1)));
    w[e.name] = e.kind === 'layers' ? Array.from({ length: c.nLayers }, one) : one();
  }
  // A shared classifier is the embedding: quantise a copy of it; the fp32 table stays for lookups.
  w.classifier ??= quantizeQ80(w.tokenEmbedding as Float32Array, c.vocabSize, c.dim, groupSizeFor(c.dim, c, opts));
  return w as LlamaWeights<Q80Matrix>;
}

/** readSync until `dst` is full (it may return fewer bytes than asked). */
function readFully(fd: number, dst: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < dst.length) {
    let n: number;
    try {
      n = readSync(fd, dst, done, dst.length - done, position + done);
    } catch (e) {
      throw new ModelFileError(path, describeFsError(e));
    }
    if (n === 0) throw new ModelFileError(path, `truncated: the file ended at byte ${position + done} while ${dst.length - done} more bytes were expected`);
    done += n;
  }
}
