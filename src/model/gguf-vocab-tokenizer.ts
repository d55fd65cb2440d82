/**
 * The tokenizer a GGUF model file carries in its metadata (ggml-org/ggml docs/gguf.md,
 * "Tokenizer"): for `tokenizer.ggml.model` "llama" — a sentencepiece BPE vocabulary, as Llama-2's —
 * `tokenizer.ggml.tokens` (pieces with "▁" for the space, "<0xXX>" byte pieces) and
 * `tokenizer.ggml.scores`. That is exactly what llama2.c's tokenizer.bin holds, so the vocabulary
 * is written in that layout (as llama2.c tokenizer.py export() writes it: "▁" → " ", BOS/EOS
 * pieces "\n<s>\n" / "\n</s>\n") and read by the llama2.c tokenizer, which encodes as
 * sentencepiece does. Other tokenizer models (GPT-2-style "gpt2" vocabularies with merges) are
 * refused with their name.
 */
import { TokenizerFileError } from '../errors.js';
import type { GgufFile } from './gguf/gguf-reader.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';

/** The ids llama2.c's tokenizer gives <unk>, BOS and EOS, which a llama vocabulary must use too. */
const FIXED_IDS = { 'tokenizer.ggml.unknown_token_id': 0, 'tokenizer.ggml.bos_token_id': 1, 'tokenizer.ggml.eos_token_id': 2 } as const;

export function tokenizerFromGguf(gguf: GgufFile): Llama2cTokenizer {
  const fail = (problem: string): TokenizerFileError => new TokenizerFileError(gguf.file, problem);
  const model = gguf.metadata.get('tokenizer.ggml.model');
  if (model === undefined) throw fail('holds no tokenizer (no tokenizer.ggml.model): give one with --tokenizer');
  if (model.type !== 'string' || model.value !== 'llama') {
    throw fail(`tokenizer.ggml.model is ${JSON.stringify(model.type === 'string' ? model.value.slice(0, 40) : model.type)}; tinymorph reads the "llama" (sentencepiece) vocabulary of a GGUF file: give a tokenizer.json with --tokenizer`);
  }
  const tokens = arrayOf<string>(gguf, 'tokenizer.ggml.tokens', 'string', fail);
  const scores = arrayOf<number>(gguf, 'tokenizer.ggml.scores', 'float32', fail);
  if (scores.length !== tokens.length) throw fail(`tokenizer.ggml.scores has ${scores.length} entries but tokenizer.ggml.tokens has ${tokens.length}`);
  for (const [key, want] of Object.entries(FIXED_IDS)) {
    const v = gguf.metadata.get(key);
    const id = v === undefined || v.type === 'array' ? v : v.value;
    if (id !== undefined && id !== want) throw fail(`${key} is ${typeof id === 'object' ? 'an array' : String(id)}; the llama vocabulary reader needs ${want}`);
  }
  const bytes = llama2cVocabBytes(tokens, scores);
  return Llama2cTokenizer.fromBytes(bytes, gguf.file, tokens.length);
}

/** sentencepiece pieces and scores in tokenizer.bin's layout, as llama2.c tokenizer.py export() writes them. */
export function llama2cVocabBytes(tokens: readonly string[], scores: readonly number[]): Uint8Array {
  const encoder = new TextEncoder();
  const pieces = tokens.map((t, id) => encoder.encode(id === 1 ? '\n<s>\n' : id === 2 ? '\n</s>\n' : t.replaceAll('▁', ' ')));
  const maxLen = pieces.reduce((m, p) => Math.max(m, p.length), 1);
  const bytes = new Uint8Array(4 + pieces.reduce((n, p) => n + 8 + p.length, 0));
  const view = new DataView(bytes.buffer);
  view.setInt32(0, maxLen, true);
  let at = 4;
  pieces.forEach((p, id) => {
    view.setFloat32(at, scores[id], true);
    view.setInt32(at + 4, p.length, true);
    bytes.set(p, at + 8);
    at += 8 + p.length;
  });
  return bytes;
}

/** The values of an array whose item type was checked (T is that type's JS value). */
function arrayOf<T>(gguf: GgufFile, key: string, itemType: 'string' | 'float32', fail: (problem: string) => TokenizerFileError): T[] {
  const v = gguf.metadata.get(key);
  if (v === undefined) throw fail(`has tokenizer.ggml.model "llama" but no ${key}`);
  if (v.type !== 'array' || v.itemType !== itemType) throw fail(`${key} must be an array of ${itemType}, got ${v.type === 'array' ? `an array of ${v.itemType}` : v.type}`);
  return v.items.map((item) => ('value' in item ? item.value : undefined) as T);
}
