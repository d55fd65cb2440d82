import { TokenizerFileError } from '../errors.js';
import { activeBackend } from '../tensor/backend-registry.js';
import { embeddedModelPath, embeddedTokenizerPath } from './embedded.js';
import type { Llama2cVersion } from './llama2c-format.js';
import { readLlama2c } from './llama2c-format.js';
import { LlamaModel } from './llama-model.js';
import { Tokenizer } from './tokenizer.js';

export interface LoadOptions {
  /** llama2.c model file; default: the embedded stories260K. */
  model?: string;
  /** llama2.c tokenizer file; default: the embedded tok512 when the model is the embedded one. */
  tokenizer?: string;
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
  const file = readLlama2c(modelPath);
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
