/**
 * Corpus text → fixed-length token contexts, as SAELens' `concat_and_batch_sequences`
 * (sae_lens/tokenization_and_batching.py): every document is tokenized without BOS, documents are
 * concatenated into one stream with a separator token between them (SAELens'
 * `sequence_separator_token`, default BOS), and the stream is cut into contexts of `contextSize`
 * tokens, each starting with BOS when `prependBos` (SAELens' `begin_batch_token`), so a context
 * holds BOS + contextSize−1 stream tokens. A final context shorter than `contextSize` is dropped, as
 * SAELens drops it, so every forward row has the same length.
 */
import { UsageError } from '../../errors.js';
import type { Tokenizer } from '../../model/tokenizer.js';

export interface TokenContextOptions {
  /** Tokens per context, BOS included (SAELens `context_size`); default 128. */
  contextSize?: number;
  /** Start every context with BOS (SAELens `prepend_bos`); default true. */
  prependBos?: boolean;
}

export const DEFAULT_CONTEXT_SIZE = 128;

/** Validated context options with their defaults filled in. */
export function contextSettings(o: TokenContextOptions, maxSeqLen: number): Required<TokenContextOptions> {
  const contextSize = o.contextSize ?? DEFAULT_CONTEXT_SIZE;
  if (!Number.isSafeInteger(contextSize) || contextSize < 2 || contextSize > maxSeqLen) {
    throw new UsageError(`context size must be an integer in [2, ${maxSeqLen}] (the model's seq_len), got ${contextSize}`);
  }
  return { contextSize, prependBos: o.prependBos ?? true };
}

/**
 * The contexts of `documents`, lazily: documents are tokenized only as far as the contexts asked
 * for need, so caching a few thousand tokens of a large corpus costs a few thousand tokens of BPE.
 */
export function* tokenContexts(tokenizer: Tokenizer, documents: Iterable<string>, o: Required<TokenContextOptions>): Generator<Int32Array> {
  const body = o.contextSize - (o.prependBos ? 1 : 0); // stream tokens per context
  let pending: number[] = [];
  let first = true;
  for (const doc of documents) {
    if (!first) pending.push(tokenizer.bosId); // the separator between documents
    first = false;
    for (const id of tokenizer.encode(doc, { bos: false })) pending.push(id);
    let at = 0;
    while (pending.length - at >= body) {
      const ctx = new Int32Array(o.contextSize);
      if (o.prependBos) ctx[0] = tokenizer.bosId;
      for (let i = 0; i < body; i++) ctx[o.contextSize - body + i] = pending[at + i];
      at += body;
      yield ctx;
    }
    pending = pending.slice(at);
  }
}
