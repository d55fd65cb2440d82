import { TokenizerFileError } from '../errors.js';
import { activeBackend } from '../tensor/backend-registry.js';
import { LlamaModel } from './llama-model.js';
import type { ModelDescription, ModelFormat } from './model-format.js';
import type { LoadOptions, ModelFile } from './read-model-file.js';
import { readModelFile } from './read-model-file.js';
import { loadTokenizer } from './load-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

export type { LoadOptions } from './read-model-file.js';

export interface LoadedModel {
  model: LlamaModel;
  tokenizer: Tokenizer;
  modelPath: string;
  tokenizerPath: string;
  format: ModelFormat;
  fileBytes: number;
  description: ModelDescription;
}

/**
 * Loads a model and its tokenizer, checking that the tokenizer covers the model's vocabulary. On
 * the native backend the file is mapped (unless `map: false`); the reference backend reads it.
 */
export function loadModel(opts: LoadOptions = {}): LoadedModel {
  return assembleModel(readModelFile({ ...opts, map: opts.map ?? activeBackend().name === 'native' }));
}

/** The model over weights already read (readModelFile), with its tokenizer read and checked against it. */
export function assembleModel(file: ModelFile): LoadedModel {
  const { config, modelPath, tokenizerPath } = file;
  const tokenizer = loadTokenizer(tokenizerPath, config.vocabSize);
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new TokenizerFileError(tokenizerPath, `has ${tokenizer.vocabSize} tokens but ${modelPath} needs ${config.vocabSize}`);
  }
  return { model: new LlamaModel(config, file.weights, activeBackend()), tokenizer, modelPath, tokenizerPath, format: file.format, fileBytes: file.fileBytes, description: file.description };
}
