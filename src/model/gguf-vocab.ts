/**
 * A GGUF file's embedded sentencepiece vocabulary (gguf.md: tokenizer.ggml.model "llama",
 * tokenizer.ggml.tokens / scores / token_type, bos/eos ids) is the data a llama2.c tokenizer.bin
 * holds; this writes it in that layout so the one llama2.c tokenizer reads both. The pieces are
 * changed as llama2.c's tokenizer.py export does: "▁" (U+2581, sentencepiece's space) becomes " ",
 * BOS becomes "\n<s>\n" and EOS "\n</s>\n". llama2cVocabToGguf goes the other way, for the exporter.
 */
import { TokenizerFileError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import type { GgufFile } from './gguf/gguf-reader.js';
import type { GgufValue } from './gguf/gguf-types.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';

/** The llama2.c tokenizer's fixed ids (tokenizer.ts): a vocabulary with others cannot be read by it. */
const FIXED_IDS: [string, number][] = [
  ['tokenizer.ggml.unknown_token_id', 0],
  ['tokenizer.ggml.bos_token_id', 1],
  ['tokenizer.ggml.eos_token_id', 2],
];

/** tokenizer.bin bytes (int32 max_token_length, then per token float32 score, int32 length, bytes). */
export function ggufVocabToLlama2c(g: GgufFile): Uint8Array {
  const fail = (p: string) => new TokenizerFileError(g.file, p);
  const model = g.metadata.get('tokenizer.ggml.model');
  if (model === undefined) throw fail('has no embedded vocabulary (metadata "tokenizer.ggml.model" is missing); give --tokenizer');
  if (model.type !== 'string' || model.value !== 'llama') {
    throw fail(`embedded tokenizer ${describeValue('value' in model ? String(model.value) : model.type)} (metadata "tokenizer.ggml.model") is not supported; only sentencepiece "llama" is — give --tokenizer`);
  }
  for (const [key, id] of FIXED_IDS) {
    const v = g.metadata.get(key);
    if (v !== undefined && ('value' in v ? Number(v.value) : NaN) !== id) throw fail(`metadata ${describeValue(key)} is ${'value' in v ? String(v.value) : v.type}; the llama2.c tokenizer needs ${id}`);
  }
  const tokens = array(g, 'tokenizer.ggml.tokens', 'string') as string[];
  const scores = g.metadata.has('tokenizer.ggml.scores') ? (array(g, 'tokenizer.ggml.scores', 'float32') as number[]) : undefined;
  if (tokens.length < 3) throw fail(`metadata "tokenizer.ggml.tokens" has ${tokens.length} tokens; ids 0, 1, 2 (<unk>, BOS, EOS) are needed`);
  if (scores && scores.length !== tokens.length) throw fail(`metadata "tokenizer.ggml.scores" has ${scores.length} entries for ${tokens.length} tokens`);
  const encoder = new TextEncoder();
  const pieces = tokens.map((t, i) => encoder.encode(i === 1 ? '\n<s>\n' : i === 2 ? '\n</s>\n' : t.replaceAll('\u2581', ' ')));
  const maxLen = pieces.reduce((m, p) => Math.max(m, p.length), 1);
  const out = new Uint8Array(4 + pieces.reduce((s, p) => s + 8 + p.length, 0));
  const view = new DataView(out.buffer);
  view.setInt32(0, maxLen, true);
  let at = 4;
  pieces.forEach((p, i) => {
    view.setFloat32(at, scores ? scores[i] : 0, true);
    view.setInt32(at + 4, p.length, true);
    out.set(p, at + 8);
    at += 8 + p.length;
  });
  return out;
}

function array(g: GgufFile, key: string, itemType: 'string' | 'float32'): (string | number)[] {
  const v = g.metadata.get(key);
  if (v === undefined) throw new TokenizerFileError(g.file, `metadata ${describeValue(key)} is missing`);
  if (v.type !== 'array' || v.itemType !== itemType) throw new TokenizerFileError(g.file, `metadata ${describeValue(key)} is ${v.type === 'array' ? `an array of ${v.itemType}` : `a ${v.type}`}, expected an array of ${itemType}`);
  return v.items.map((item) => (item as { value: string | number }).value);
}

/** gguf.md token types (llama.cpp's llama_token_type). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 };
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The inverse of ggufVocabToLlama2c: a llama2.c tokenizer.bin's first `vocabSize` entries as
 * `tokenizer.ggml.*` metadata (sentencepiece "llama" model; ids 0, 1, 2 are <unk>, <s>, </s>).
 */
export function llama2cVocabToGguf(bytes: Uint8Array, label: string, vocabSize: number): [string, GgufValue][] {
  Llama2cTokenizer.fromBytes(bytes, label, vocabSize); // validates every entry before it is read here
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tokens: GgufValue[] = [];
  const scores: GgufValue[] = [];
  const types: GgufValue[] = [];
  let at = 4;
  for (let id = 0; id < vocabSize; id++) {
    const len = view.getInt32(at + 4, true);
    let piece: string;
    try {
      piece = fatalUtf8.decode(bytes.subarray(at + 8, at + 8 + len));
    } catch {
      throw new TokenizerFileError(label, `entry ${id} is not UTF-8, which a GGUF string must be`);
    }
    const text = id === 1 ? '<s>' : id === 2 ? '</s>' : piece.replaceAll(' ', '\u2581');
    tokens.push({ type: 'string', value: text });
    scores.push({ type: 'float32', value: view.getFloat32(at, true) });
    const type = id === 0 ? TOKEN_TYPE.unknown : id <= 2 ? TOKEN_TYPE.control : /^<0x[0-9A-F]{2}>$/.test(piece) ? TOKEN_TYPE.byte : TOKEN_TYPE.normal;
    types.push({ type: 'int32', value: type });
    at += 8 + len;
  }
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', items: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', items: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', items: types }],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
  ];
}
