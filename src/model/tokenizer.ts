/**
 * What the runtime needs of a tokenizer, whatever file it came from: llama2.c's tokenizer.bin
 * (llama2c-tokenizer.ts) or a Hugging Face tokenizer.json (hf-tokenizer.ts); loadTokenizer()
 * (load-tokenizer.ts) picks one by the file's content.
 */
import type { HfChatTemplate } from './hf-chat-template.js';

export interface Tokenizer {
  /** Number of ids, 0..vocabSize-1; the model's embedding must have as many rows. */
  readonly vocabSize: number;
  /** The id a prompt starts with when encode() is asked for BOS. */
  readonly bosId: number;
  /** The id encode() ends a text with when asked for EOS. */
  readonly eosId: number;
  /** Whether generating id ends the text: BOS or EOS, and a chat model's end-of-turn ids. */
  endsText(id: number): boolean;
  /** Text to ids; `bos` (default true) puts bosId first, `eos` (default false) eosId last. */
  encode(text: string, opts?: { bos?: boolean; eos?: boolean }): number[];
  /** ids to text: the textBytes() of each id (prevId precedes ids[0]; -1 for none), UTF-8 decoded as a whole. */
  decode(ids: readonly number[], prevId?: number): string;
  /** A readable string for id alone (dashboards, logprobs); a special token shows as its name. */
  piece(id: number): string;
  /**
   * The bytes id adds to decoded text after prevId: nothing for control/special tokens. One token
   * may hold part of a UTF-8 character (byte fallback, byte-level BPE): stream through
   * StreamingTokenDecoder. The result may be a view of the tokenizer's storage: do not modify it.
   */
  textBytes(prevId: number, id: number): Uint8Array;
  /** The model's own chat template (tokenizer_config.json), if it ships one. */
  readonly chatTemplate?: HfChatTemplate;
}
