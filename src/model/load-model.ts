import { TokenizerFileError, UsageError } from '../errors.js';
import { activeBackend } from '../tensor/backend-registry.js';
import { embeddedModelPath, embeddedTokenizerPath } from './embedded.js';
import type { Llama2cVersion } from './llama2c-format.js';
import { readLlama2c } from './llama2c-format.js';
import { readLlama2cQuantized } from './llama2c-quantized-read.js';
import type { Quantization } from './quantize-weights.js';
import { QUANTIZATIONS } from './quantize-weights.js';
import { LlamaModel } from './llama-model.js';
import { Tokenizer } from './tokenizer.js';

export interface LoadOptions {
  /** llama2.c model file; default: the embedded stories260K. */
  model?: string;
  /** llama2.c tokenizer file; default: the embedded tok512 when the model is the embedded one. */
  tokenizer?: string;
  /**
   * Quantise the matmul weights at load ('q8_0'), reading an fp32 file tensor by tensor so that it
   * is never in memory whole. A version 2 (Q8_0) file is Q8_0 with or without this.
   */
  quantize?: Quantization;
}

export interface LoadedModel {
  model: LlamaModel;
  tokenizer: Tokenizer;
  modelPath: string;
  tokenizerPath: string;
  format: Llama2cVersion;
  fileBytes: number;
}

/** Loads a model and its tokenizer, checking that the tokenizer covers the model's vocabulary. */
export function loadModel(opts: LoadOptions = {}): LoadedModel {
  const modelPath = opts.model ?? embeddedModelPath();
  const tokenizerPath = opts.tokenizer ?? embeddedTokenizerPath();
  if (opts.quantize !== undefined && !QUANTIZATIONS.includes(opts.quantize)) {
    throw new UsageError(`unknown quantization "${String(opts.quantize)}" (available: ${QUANTIZATIONS.join(', ')})`);
  }
  const file = opts.quantize ? readLlama2cQuantized(modelPath) : readLlama2c(modelPath);
  const tokenizer = Tokenizer.fromFile(tokenizerPath, file.config.vocabSize);
  if (tokenizer.vocabSize !== file.config.vocabSize) {
    throw new TokenizerFileError(tokenizerPath, `has ${tokenizer.vocabSize} tokens but ${modelPath} needs ${file.config.vocabSize}`);
  }
  return {
    model: new LlamaModel(file.config, file.weights, activeBackend()),
    tokenizer,
    modelPath,
    tokenizerPath,
    format: file.format,
    fileBytes: file.fileBytes,
  };
}
