/**
 * Reading a model file, apart from building the model: the weights and config as plain typed
 * arrays and objects, with the paths they came from. This is the slow part of loading (a file of
 * hundreds of MB, or quantising at load) and needs neither the tokenizer nor a kernel backend, so
 * it can run on a worker thread and hand its arrays over (the server loads this way while it
 * answers /health with 503).
 */
import { UsageError } from '../errors.js';
import { isQ80 } from '../tensor/weight-matrix.js';
import { embeddedModelPath, embeddedTokenizerPath } from './embedded.js';
import { readGgufLlama } from './gguf-llama-read.js';
import { readHfLlama } from './hf-llama-read.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import type { LayerWeightName } from './llama-weights.js';
import { layerWeightShapes, namedWeights } from './llama-weights.js';
import { readLlama2c } from './llama2c-format.js';
import { readLlama2cQuantized } from './llama2c-quantized-read.js';
import type { ModelDescription, ModelFormat } from './model-format.js';
import { detectModelKind } from './model-format.js';
import type { Quantization } from './quantize-weights.js';
import { QUANTIZATIONS, quantizeWeights } from './quantize-weights.js';

export interface LoadOptions {
  /**
   * The model: a llama2.c file, an HF Llama folder (config.json + safetensors) or a GGUF file,
   * recognised by content (model-format.ts); default: the embedded stories260K.
   */
  model?: string;
  /**
   * Tokenizer (load-tokenizer.ts: a llama2.c tokenizer.bin, an HF tokenizer.json or its folder, or a
   * GGUF file's vocabulary). Default: the model's own (an HF folder's tokenizer.json, a GGUF file's
   * vocabulary), else the embedded tok512.
   */
  tokenizer?: string;
  /**
   * Quantise the matmul weights at load ('q8_0'), reading an fp32 file tensor by tensor so that it
   * is never in memory whole. A version 2 (Q8_0) file is Q8_0 with or without this.
   */
  quantize?: Quantization;
  /**
   * View the weights of an fp32 or Q8_0 file in a mapping of the file (native addon) instead of
   * reading them into arrays; ignored when quantising at load, or when the addon is not loaded.
   */
  map?: boolean;
}

export interface ModelFile {
  config: LlamaConfig;
  weights: LlamaWeights;
  format: ModelFormat;
  fileBytes: number;
  modelPath: string;
  /** The tokenizer to read with it (not read here): --tokenizer, else the model's own file or folder, else the embedded one. */
  tokenizerPath: string;
  /** Architecture and the tensors as the file stores them. */
  description: ModelDescription;
}

export function readModelFile(opts: LoadOptions = {}): ModelFile {
  const modelPath = opts.model ?? embeddedModelPath();
  if (opts.quantize !== undefined && !QUANTIZATIONS.includes(opts.quantize)) {
    throw new UsageError(`unknown quantization "${String(opts.quantize)}" (available: ${QUANTIZATIONS.join(', ')})`);
  }
  const kind = detectModelKind(modelPath);
  if (kind === 'llama2c') {
    const tokenizerPath = opts.tokenizer ?? embeddedTokenizerPath();
    const file = opts.quantize ? readLlama2cQuantized(modelPath) : readLlama2c(modelPath, { map: opts.map });
    const tensors = namedWeights(file.weights, file.config).map(([name, m]) => ({ name, dtype: isQ80(m) ? 'Q8_0' : 'F32', shape: llama2cShape(name, file.config) }));
    return { config: file.config, weights: file.weights, format: file.format, fileBytes: file.fileBytes, modelPath, tokenizerPath, description: { architecture: 'llama', tensors } };
  }
  const file = kind === 'hf' ? readHfLlama(modelPath) : readGgufLlama(modelPath);
  const weights = opts.quantize ? quantizeWeights(file.weights, file.config) : file.weights;
  return {
    config: file.config,
    weights,
    format: kind === 'hf' ? 'hf-llama' : 'gguf',
    fileBytes: file.fileBytes,
    modelPath,
    tokenizerPath: opts.tokenizer ?? modelPath,
    description: file.description,
  };
}

/** The shape of a tensor named as namedWeights names it ([rows, cols] or [n]). */
function llama2cShape(name: string, c: LlamaConfig): number[] {
  if (name === 'norm') return [c.dim];
  if (name === 'tok_embeddings' || name === 'output') return [c.vocabSize, c.dim];
  return layerWeightShapes(c)[name.split('.')[2] as LayerWeightName];
}
