import type { Tokenizer } from '../model/tokenizer.js';

/** ignoreBOM: a leading U+FEFF is text, as in Tokenizer.decode. Not fatal: a lone byte-fallback token shows as U+FFFD. */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export interface TokenText {
  /** What the token adds to the text (after `prevId`), or the piece itself for <unk>, BOS and EOS ("</s>"). */
  token: string;
  /** The UTF-8 bytes it adds (OpenAI's `bytes`: one token may hold part of a character). */
  bytes: number[];
}

/** A token as logprobs name it. */
export function tokenText(tokenizer: Tokenizer, prevId: number, id: number): TokenText {
  const added = tokenizer.textBytes(prevId, id);
  if (added.length === 0) {
    const piece = tokenizer.piece(id);
    return { token: piece, bytes: [...new TextEncoder().encode(piece)] };
  }
  return { token: utf8.decode(added), bytes: [...added] };
}
