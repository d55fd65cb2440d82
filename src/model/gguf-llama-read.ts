/**
 * A llama.cpp GGUF file of architecture "llama" (gguf.md's standardized key-value pairs and
 * llama.cpp's tensor names). llama.cpp's convert_hf_to_gguf.py already undoes HF's q/k rotary
 * permutation (its LlamaModel.permute), so GGUF q/k rows are in Meta's interleaved order, as
 * llama2.c's are: nothing is permuted here. F32, F16 and BF16 are read as fp32; Q8_0 matrices stay Q8_0
 * (groups of 32, as GGML's blocks), a Q8_0 embedding is dequantised for lookups.
 */
import { ModelFileError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import type { WeightMatrix } from '../tensor/weight-matrix.js';
import { GgufFile } from './gguf/gguf-reader.js';
import type { LlamaConfig } from './llama-config.js';
import { configProblem, headSize } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { assembleWeights, layerWeightShapes } from './llama-weights.js';
import type { ModelDescription } from './model-format.js';

/** llama.cpp's tensor name of each per-layer weight (llama-arch.cpp LLM_ARCH_LLAMA). */
export const GGUF_LAYER_NAMES: Record<LayerWeightName, string> = {
  rmsAtt: 'attn_norm',
  wq: 'attn_q',
  wk: 'attn_k',
  wv: 'attn_v',
  wo: 'attn_output',
  rmsFfn: 'ffn_norm',
  w1: 'ffn_gate',
  w2: 'ffn_down',
  w3: 'ffn_up',
};
export const ggufLayerName = (l: number, n: LayerWeightName): string => `blk.${l}.${GGUF_LAYER_NAMES[n]}.weight`;
export const GGUF_EMBEDDING = 'token_embd.weight';
export const GGUF_FINAL_NORM = 'output_norm.weight';
export const GGUF_OUTPUT = 'output.weight';
/** Llama-3 RoPE scaling as per-frequency divisors (llama.cpp LLM_TENSOR_ROPE_FREQS). */
export const GGUF_ROPE_FREQS = 'rope_freqs.weight';

export interface GgufLlama {
  config: LlamaConfig;
  weights: LlamaWeights;
  fileBytes: number;
  description: ModelDescription;
}

export function readGgufLlama(path: string): GgufLlama {
  const g = GgufFile.open(path);
  const config = ggufLlamaConfig(g);
  const fail = (p: string) => new ModelFileError(path, p);
  const check = (name: string, rows: number, cols: number) => {
    const t = g.tensor(name);
    if (t === undefined) throw fail(`has no tensor ${describeValue(name)} (a llama model needs it)`);
    const want = rows === 1 ? [cols] : [cols, rows];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw fail(`tensor ${describeValue(name)} has shape ${describeValue(t.shape)} (ggml order), but the metadata needs ${describeValue(want)}`);
    }
    return t;
  };
  const vector = (name: string, n: number): Float32Array => {
    const t = check(name, 1, n);
    if (t.type === 'Q8_0') throw fail(`tensor ${describeValue(name)} is Q8_0; norm weights must be F32, F16 or BF16`);
    return g.readF32(name);
  };
  const matrix = (name: string, rows: number, cols: number): WeightMatrix => (check(name, rows, cols).type === 'Q8_0' ? g.readQ80(name) : g.readF32(name));
  const shapes = layerWeightShapes(config);
  check(GGUF_EMBEDDING, config.vocabSize, config.dim);
  const weights = assembleWeights<WeightMatrix>(config, {
    tokenEmbedding: g.readF32(GGUF_EMBEDDING),
    layer: (n, l) => {
      const [a, b] = shapes[n];
      return b === undefined ? vector(ggufLayerName(l, n), a) : matrix(ggufLayerName(l, n), a, b);
    },
    rmsFinal: vector(GGUF_FINAL_NORM, config.dim),
    classifier: () => matrix(GGUF_OUTPUT, config.vocabSize, config.dim),
  });
  const tensors = g.tensors.map((t) => ({ name: t.name, dtype: t.type, shape: [...t.shape] }));
  return { config, weights, fileBytes: g.byteLength, description: { architecture: 'llama', tensors } };
}

/** The config from a GGUF file's `llama.*` metadata (gguf.md "LLM" keys); the vocabulary size from the embedding's rows. */
export function ggufLlamaConfig(g: GgufFile): LlamaConfig {
  const fail = (p: string) => new ModelFileError(g.file, p);
  const arch = g.metadata.get('general.architecture');
  if (arch === undefined) throw fail('metadata "general.architecture" is missing');
  if (arch.type !== 'string' || arch.value !== 'llama') throw fail(`unsupported architecture ${describeValue('value' in arch ? String(arch.value) : arch.type)} (metadata "general.architecture"); this loader reads "llama"`);
  const number = (key: string, fallback?: number): number => {
    const v = g.metadata.get(key);
    if (v === undefined) {
      if (fallback === undefined) throw fail(`metadata ${describeValue(key)} is missing`);
      return fallback;
    }
    if (v.type === 'uint64' || v.type === 'int64') return Number(v.value);
    if (!('value' in v) || typeof v.value !== 'number') throw fail(`metadata ${describeValue(key)} is a ${v.type}, not a number`);
    return v.value;
  };
  for (const key of ['llama.rope.scaling.type', 'llama.rope.scaling.factor']) {
    const v = g.metadata.get(key);
    if (v !== undefined && !(v.type === 'string' && v.value === 'none') && !(v.type === 'float32' && v.value === 1)) throw fail(`metadata ${describeValue(key)} (RoPE scaling) is not supported yet`);
  }
  const embedding = g.tensor(GGUF_EMBEDDING);
  if (embedding === undefined) throw fail(`has no tensor ${describeValue(GGUF_EMBEDDING)} (a llama model needs it)`);
  const nHeads = number('llama.attention.head_count');
  const config: LlamaConfig = {
    dim: number('llama.embedding_length'),
    hiddenDim: number('llama.feed_forward_length'),
    nLayers: number('llama.block_count'),
    nHeads,
    nKvHeads: number('llama.attention.head_count_kv', nHeads),
    vocabSize: embedding.shape[1] ?? 0,
    seqLen: number('llama.context_length'),
    sharedClassifier: g.tensor(GGUF_OUTPUT) === undefined,
    normEps: number('llama.attention.layer_norm_rms_epsilon'),
    ropeTheta: number('llama.rope.freq_base', 10000),
  };
  const freqs = g.tensor(GGUF_ROPE_FREQS);
  if (freqs) {
    if (freqs.shape.length !== 1 || freqs.type === 'Q8_0') throw fail(`tensor ${describeValue(GGUF_ROPE_FREQS)} must be a vector of floats, got ${freqs.type} ${describeValue(freqs.shape)}`);
    config.ropeFreqFactors = Array.from(g.readF32(GGUF_ROPE_FREQS));
  }
  const problem = configProblem(config);
  if (problem) throw fail(`llama metadata: ${problem}`);
  const ropeDims = number('llama.rope.dimension_count', headSize(config));
  if (ropeDims !== headSize(config)) throw fail(`metadata "llama.rope.dimension_count" = ${ropeDims} differs from the head size ${headSize(config)}; partial rotary is not supported`);
  const vocab = g.metadata.get('llama.vocab_size');
  if (vocab !== undefined && number('llama.vocab_size') !== config.vocabSize) throw fail(`metadata "llama.vocab_size" = ${number('llama.vocab_size')} differs from the ${config.vocabSize} rows of ${GGUF_EMBEDDING}`);
  return config;
}
