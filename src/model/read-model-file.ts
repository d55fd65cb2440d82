/**
 * Reading a model file, apart from building the model: the weights and config as plain typed
 * arrays and objects, with the paths they came from. This is the slow part of loading (a file of
 * hundreds of MB, or quantising at load) and needs neither the tokenizer nor a kernel backend, so
 * it can run on a worker thread and hand its arrays over (the server loads this way while it
 * answers /health with 503).
 */
import { UsageError } from '../errors.js';
import { embeddedModelPath, embeddedTokenizerPath } from './embedded.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import type { Llama2cVersion } from './llama2c-format.js';
import { readLlama2c } from './llama2c-format.js';
import { readLlama2cQuantized } from './llama2c-quantized-read.js';
import type { Quantization } from './quantize-weights.js';
import { QUANTIZATIONS } from './quantize-weights.js';

export interface LoadOptions {
  /** llama2.c model file; default: the embedded stories260K. */
  model?: string;
  /** Tokenizer (load-tokenizer.ts: tokenizer.bin, tokenizer.json or its folder); default: the embedded tok512. */
  tokenizer?: string;
  /**
   * Quantise the matmul weights at load ('q8_0'), reading an fp32 file tensor by tensor so that it
   * is never in memory whole. A version 2 (Q8_0) file is Q8_0 with or without this.
   */
  quantize?: Quantization;
}

export interface ModelFile {
  config: LlamaConfig;
  weights: LlamaWeights;
  format: Llama2cVersion;
  fileBytes: number;
  modelPath: string;
  /** The tokenizer to read with it (not read here). */
  tokenizerPath: string;
}

export function readModelFile(opts: LoadOptions = {}): ModelFile {
  const modelPath = opts.model ?? embeddedModelPath();
  const tokenizerPath = opts.tokenizer ?? embeddedTokenizerPath();
  if (opts.quantize !== undefined && !QUANTIZATIONS.includes(opts.quantize)) {
    throw new UsageError(`unknown quantization "${String(opts.quantize)}" (available: ${QUANTIZATIONS.join(', ')})`);
  }
  const file = opts.quantize ? readLlama2cQuantized(modelPath) : readLlama2c(modelPath);
  return { config: file.config, weights: file.weights, format: file.format, fileBytes: file.fileBytes, modelPath, tokenizerPath };
}
