/**
 * The tokenizer a GGUF model file carries in its metadata (ggml-org/ggml docs/gguf.md,
 * "Tokenizer"), by `tokenizer.ggml.model`:
 *
 * - "llama": a sentencepiece BPE vocabulary, as Llama-2's — `tokenizer.ggml.tokens` (pieces with "▁"
 *   for the space, "<0xXX>" byte pieces) and `tokenizer.ggml.scores`. That is exactly what
 *   llama2.c's tokenizer.bin holds, so the vocabulary is written in that layout (as llama2.c
 *   tokenizer.py export() writes it: "▁" → " ", BOS/EOS pieces "\n<s>\n" / "\n</s>\n") and read
 *   by the llama2.c tokenizer, which encodes as sentencepiece does.
 * - "gpt2": a byte-level BPE (GPT-2, Llama-3) — tokens in GPT-2's byte-to-unicode spelling,
 *   `tokenizer.ggml.merges`, control tokens by `tokenizer.ggml.token_type` 3, and the
 *   pre-tokenizer named by `tokenizer.ggml.pre` — rewritten as the tokenizer.json that HF ships
 *   for it and read by the HF tokenizer.
 */
import { TokenizerFileError } from '../errors.js';
import type { GgufFile } from './gguf/gguf-reader.js';
import { HfTokenizer } from './hf-tokenizer.js';
import type { TokenizerJson } from './hf-tokenizer-json.js';
import { checkVocab } from './hf-tokenizer-json.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** The ids llama2.c's tokenizer gives <unk>, BOS and EOS, which a llama vocabulary must use too. */
const FIXED_IDS = { 'tokenizer.ggml.unknown_token_id': 0, 'tokenizer.ggml.bos_token_id': 1, 'tokenizer.ggml.eos_token_id': 2 } as const;

/**
 * The pre-tokenizers of the `tokenizer.ggml.pre` names llama.cpp gives them (src/llama-vocab.cpp),
 * as the models' tokenizer.json files spell them: GPT-2's regex inside ByteLevel, and Llama-3's
 * Split regex (meta-llama/Meta-Llama-3-8B tokenizer.json) before a ByteLevel without its own.
 */
const PRE_TOKENIZERS: Record<string, TokenizerJson['pre_tokenizer']> = {
  'gpt-2': { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  'llama-bpe': {
    type: 'Sequence',
    pretokenizers: [
      {
        type: 'Split',
        pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
        behavior: 'Isolated',
        invert: false,
      },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
};
const CONTROL_TOKEN = 3; // llama.cpp LLAMA_TOKEN_TYPE_CONTROL

export function tokenizerFromGguf(gguf: GgufFile): Tokenizer {
  const fail = (problem: string): TokenizerFileError => new TokenizerFileError(gguf.file, problem);
  const model = gguf.metadata.get('tokenizer.ggml.model');
  if (model === undefined) throw fail('holds no tokenizer (no tokenizer.ggml.model): give one with --tokenizer');
  if (model.type === 'string' && model.value === 'gpt2') return byteLevelTokenizer(gguf, fail);
  if (model.type !== 'string' || model.value !== 'llama') {
    throw fail(`tokenizer.ggml.model is ${JSON.stringify(model.type === 'string' ? model.value.slice(0, 40) : model.type)}; tinymorph reads the "llama" and "gpt2" vocabularies of a GGUF file: give a tokenizer.json with --tokenizer`);
  }
  return Llama2cTokenizer.fromBytes(llamaVocabBytes(gguf), gguf.file, arrayOf<string>(gguf, 'tokenizer.ggml.tokens', 'string', fail).length);
}

/** A GGUF file's "llama" (sentencepiece) vocabulary in tokenizer.bin's layout, checked (the exporter re-embeds it). */
export function llamaVocabBytes(gguf: GgufFile): Uint8Array {
  const fail = (problem: string): TokenizerFileError => new TokenizerFileError(gguf.file, problem);
  const model = gguf.metadata.get('tokenizer.ggml.model');
  if (model === undefined || model.type !== 'string' || model.value !== 'llama') throw fail('holds no "llama" (sentencepiece) vocabulary: give a tokenizer.bin with --tokenizer');
  const tokens = arrayOf<string>(gguf, 'tokenizer.ggml.tokens', 'string', fail);
  const scores = arrayOf<number>(gguf, 'tokenizer.ggml.scores', 'float32', fail);
  if (scores.length !== tokens.length) throw fail(`tokenizer.ggml.scores has ${scores.length} entries but tokenizer.ggml.tokens has ${tokens.length}`);
  for (const [key, want] of Object.entries(FIXED_IDS)) {
    const v = gguf.metadata.get(key);
    const id = v === undefined || v.type === 'array' ? v : v.value;
    if (id !== undefined && id !== want) throw fail(`${key} is ${typeof id === 'object' ? 'an array' : String(id)}; the llama vocabulary reader needs ${want}`);
  }
  return llama2cVocabBytes(tokens, scores);
}

function byteLevelTokenizer(gguf: GgufFile, fail: (problem: string) => TokenizerFileError): HfTokenizer {
  const pre = gguf.metadata.get('tokenizer.ggml.pre');
  const preName = pre === undefined ? 'gpt-2' : pre.type === 'string' ? pre.value : '';
  const preTokenizer = PRE_TOKENIZERS[preName];
  if (!preTokenizer) throw fail(`tokenizer.ggml.pre ${JSON.stringify(preName.slice(0, 40))} is not a pre-tokenizer tinymorph knows (${Object.keys(PRE_TOKENIZERS).join(', ')}): give a tokenizer.json with --tokenizer`);
  const tokens = arrayOf<string>(gguf, 'tokenizer.ggml.tokens', 'string', fail);
  const merges = arrayOf<string>(gguf, 'tokenizer.ggml.merges', 'string', fail);
  const types = gguf.metadata.has('tokenizer.ggml.token_type') ? arrayOf<number>(gguf, 'tokenizer.ggml.token_type', 'int32', fail) : [];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (!Object.hasOwn(vocab, t)) vocab[t] = id;
  });
  const json: TokenizerJson = {
    added_tokens: tokens.flatMap((content, id) => (types[id] === CONTROL_TOKEN && content !== '' ? [{ id, content, special: true }] : [])),
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab, merges },
  };
  checkVocab(json, gguf.file);
  const idText = (key: string): string | undefined => {
    const v = gguf.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type === 'array' || typeof v.value !== 'number' || v.value >= tokens.length) throw fail(`${key} must be a token id below ${tokens.length}`);
    return tokens[v.value];
  };
  const config = { bos_token: idText('tokenizer.ggml.bos_token_id'), eos_token: idText('tokenizer.ggml.eos_token_id') };
  return HfTokenizer.build(gguf.file, json, { config, label: gguf.file }, { config: {}, label: gguf.file }, tokens.length);
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
function arrayOf<T>(gguf: GgufFile, key: string, itemType: 'string' | 'float32' | 'int32', fail: (problem: string) => TokenizerFileError): T[] {
  const v = gguf.metadata.get(key);
  if (v === undefined) throw fail(`has a tokenizer.ggml.model but no ${key}`);
  if (v.type !== 'array' || v.itemType !== itemType) throw fail(`${key} must be an array of ${itemType}, got ${v.type === 'array' ? `an array of ${v.itemType}` : v.type}`);
  return v.items.map((item) => ('value' in item ? item.value : undefined) as T);
}
