/**
 * A llama2.c tokenizer.bin as a GGUF file's embedded sentencepiece vocabulary (gguf.md:
 * tokenizer.ggml.model "llama", tokenizer.ggml.tokens / scores / token_type), for the exporter:
 * the inverse of gguf-vocab-tokenizer.ts's llamaVocabBytes, undoing what llama2.c's tokenizer.py
 * export does to the pieces (" " back to "▁", U+2581; BOS "\n<s>\n" and EOS "\n</s>\n" back to <s>, </s>).
 */
import { TokenizerFileError } from '../errors.js';
import type { GgufValue } from './gguf/gguf-types.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';

/** gguf.md token types (llama.cpp's llama_token_type). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 };
// ignoreBOM: a piece that is U+FEFF (Llama-2 has one) must stay that piece, not be dropped as a byte-order mark.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The inverse of llamaVocabBytes: a llama2.c tokenizer.bin's first `vocabSize` entries as
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
