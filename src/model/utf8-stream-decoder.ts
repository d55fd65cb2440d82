import type { Tokenizer } from './tokenizer.js';

/**
 * Token-by-token detokenisation for streaming output. One token may carry only part of a UTF-8
 * character — a character outside a sentencepiece vocabulary is encoded as byte-fallback tokens
 * (run.c encode(): id = byte + 3), and byte-level BPE (GPT-2, Llama-3) splits characters between
 * tokens freely — so printing it alone would show U+FFFD. push() returns only complete characters and
 * holds back a split one until its last byte arrives. All push() results plus flush() equal
 * tokenizer.decode(ids, prevId): a streaming TextDecoder decodes exactly as a one-shot decode does.
 */
export class StreamingTokenDecoder {
  /** ignoreBOM as in Tokenizer.decode(): a leading U+FEFF is text. */
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  private prevId: number;

  /** prevId: the token before the first one pushed (BOS drops the next piece's leading space); -1 for none. */
  constructor(
    private readonly tokenizer: Tokenizer,
    prevId = -1,
  ) {
    this.prevId = prevId;
  }

  /** The text that id completes (possibly empty). */
  push(id: number): string {
    const bytes = this.tokenizer.textBytes(this.prevId, id);
    this.prevId = id;
    return this.utf8.decode(bytes, { stream: true });
  }

  /** Ends the stream: bytes of an unfinished character come out as U+FFFD, as decode() gives them. */
  flush(): string {
    return this.utf8.decode();
  }
}
