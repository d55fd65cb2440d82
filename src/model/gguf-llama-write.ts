/**
 * Writes a model as a llama.cpp GGUF file of architecture "llama" (the inverse of
 * gguf-llama-read.ts): the `llama.*` metadata llama.cpp reads, llama.cpp's tensor names and ggml
 * shapes ([cols, rows]), q/k rows in Meta's order (as llama2.c's, so none are moved), and
 * optionally a llama2.c tokenizer.bin's vocabulary as `tokenizer.ggml.*`. F16 files keep the norm
 * vectors F32, as llama.cpp's converter does (general.file_type 1, "MOSTLY_F16"); so do BF16 and Q8_0 files.
 */
import { dequantizeQ80 } from '../tensor/q80.js';
import type { WeightMatrix } from '../tensor/weight-matrix.js';
import { isQ80 } from '../tensor/weight-matrix.js';
import type { GgufTensorToWrite } from './gguf/gguf-writer.js';
import { writeGguf } from './gguf/gguf-writer.js';
import type { GgufValue } from './gguf/gguf-types.js';
import { GGUF_EMBEDDING, GGUF_FINAL_NORM, GGUF_OUTPUT, GGUF_ROPE_FREQS, ggufLayerName } from './gguf-llama-read.js';
import { llama2cVocabToGguf } from './gguf-vocab.js';
import type { LlamaConfig } from './llama-config.js';
import { headSize } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { layerWeightShapes } from './llama-weights.js';
import { llama3FreqFactors } from './rope-table.js';

export interface GgufWriteOptions {
  /** Matrices' type (norms stay F32); Q8_0 needs rows of whole 32-value blocks. */
  dtype?: 'F32' | 'F16' | 'BF16' | 'Q8_0';
  /** A llama2.c tokenizer.bin's bytes, embedded as the file's vocabulary. */
  tokenizerBin?: Uint8Array;
  tokenizerLabel?: string;
  name?: string;
}

export function ggufLlamaMetadata(c: LlamaConfig, opts: GgufWriteOptions = {}): [string, GgufValue][] {
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const f32 = (value: number): GgufValue => ({ type: 'float32', value });
  const meta: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: opts.name ?? 'tinymorph export' }],
    // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
    ['general.file_type', u32({ F32: 0, F16: 1, Q8_0: 7, BF16: 32 }[opts.dtype ?? 'F32'])],
    ['llama.context_length', u32(c.seqLen)],
    ['llama.embedding_length', u32(c.dim)],
    ['llama.block_count', u32(c.nLayers)],
    ['llama.feed_forward_length', u32(c.hiddenDim)],
    ['llama.rope.dimension_count', u32(headSize(c))],
    ['llama.attention.head_count', u32(c.nHeads)],
    ['llama.attention.head_count_kv', u32(c.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(c.normEps)],
    ['llama.rope.freq_base', f32(c.ropeTheta)],
  ];
  if (opts.tokenizerBin) meta.push(...llama2cVocabToGguf(opts.tokenizerBin, opts.tokenizerLabel ?? 'tokenizer', c.vocabSize));
  return meta;
}

export function writeGgufLlama(path: string, c: LlamaConfig, w: LlamaWeights, opts: GgufWriteOptions = {}): void {
  const matrixType = opts.dtype ?? 'F32';
  const tensors: GgufTensorToWrite[] = [];
  const f32 = (m: WeightMatrix) => (isQ80(m) ? dequantizeQ80(m) : m);
  // A matrix whose rows are not whole Q8_0 blocks stays F32 (llama.cpp's converter falls back the same way, to F16).
  const typeOf = (shape: number[]) => (shape.length === 1 || (matrixType === 'Q8_0' && shape[1] % 32 !== 0) ? 'F32' : matrixType);
  const add = (name: string, m: WeightMatrix, shape: number[]) => tensors.push({ name, shape: [...shape].reverse(), data: f32(m), dtype: typeOf(shape) });
  add(GGUF_EMBEDDING, w.tokenEmbedding, [c.vocabSize, c.dim]);
  const shapes = layerWeightShapes(c);
  for (let l = 0; l < c.nLayers; l++) for (const n of Object.keys(shapes) as LayerWeightName[]) add(ggufLayerName(l, n), w[n][l], shapes[n]);
  add(GGUF_FINAL_NORM, w.rmsFinal, [c.dim]);
  if (!c.sharedClassifier) add(GGUF_OUTPUT, w.classifier, [c.vocabSize, c.dim]);
  // Llama-3 scaling is a tensor of frequency divisors in GGUF, as convert_hf_to_gguf.py writes it.
  const factors = c.ropeScaling ? llama3FreqFactors(c, c.ropeScaling) : c.ropeFreqFactors;
  if (factors) add(GGUF_ROPE_FREQS, Float32Array.from(factors), [factors.length]);
  writeGguf(path, ggufLlamaMetadata(c, opts), tensors);
}
