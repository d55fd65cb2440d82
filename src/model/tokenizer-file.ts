/**
 * The tokenizer a --tokenizer path (or a model's own file) names: a llama2.c tokenizer.bin, or a
 * GGUF file whose embedded sentencepiece vocabulary is read as one (gguf-vocab.ts).
 */
import { GgufFile } from './gguf/gguf-reader.js';
import { ggufVocabToLlama2c } from './gguf-vocab.js';
import { startsWithGgufMagic } from './model-format.js';
import { Tokenizer } from './tokenizer.js';

export function readTokenizerFile(path: string, vocabSize?: number): Tokenizer {
  if (!startsWithGgufMagic(path)) return Tokenizer.fromFile(path, vocabSize);
  return Tokenizer.fromBytes(ggufVocabToLlama2c(GgufFile.open(path)), path, vocabSize);
}
