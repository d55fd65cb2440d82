import { UsageError } from '../../errors.js';

/** Initial capacity of the touched-id list; it doubles when full (amortised, rare). */
const INITIAL_CAPACITY = 256;

/**
 * One row's token history for the penalties: how often each token has been generated, and which
 * tokens have been seen at all (prompt or generated). Penalties walk `touchedIds` only, so they
 * cost O(distinct tokens seen), not O(vocab).
 *
 * Prompt and generated tokens are kept apart as vLLM does: the repetition penalty covers every
 * seen token (prompt included, as HF transformers applies it to the whole `input_ids`), while the
 * OpenAI frequency/presence penalties count generated tokens only. Leave the prompt out
 * (`addPrompt` never called) to make the repetition penalty cover generated tokens only.
 */
export class TokenCounts {
  /** Times each token id has been generated; prompt-only tokens stay 0. Shape: (vocabSize). */
  readonly counts: Int32Array;
  // 1 where the id is in touchedIds. Shape: (vocabSize).
  private readonly seen: Uint8Array;
  private ids: Int32Array;
  private size = 0;

  constructor(readonly vocabSize: number) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 1) {
      throw new UsageError(`vocabSize must be a positive integer, got ${vocabSize}`);
    }
    this.counts = new Int32Array(vocabSize);
    this.seen = new Uint8Array(vocabSize);
    this.ids = new Int32Array(Math.min(vocabSize, INITIAL_CAPACITY));
  }

  /** Distinct token ids seen so far; `touchedIds[0..distinct)` lists them in first-seen order. */
  get distinct(): number {
    return this.size;
  }

  /** The ids seen so far, valid in [0, distinct). The array may be replaced as it grows. */
  get touchedIds(): Int32Array {
    return this.ids;
  }

  /** Marks the prompt's tokens as seen (for the repetition penalty) without counting them. */
  addPrompt(tokens: ArrayLike<number>): void {
    for (let i = 0; i < tokens.length; i++) this.touch(tokens[i]);
  }

  /** Counts one generated token. */
  addGenerated(token: number): void {
    this.touch(token);
    this.counts[token]++;
  }

  /** Forgets everything, in O(distinct), so the row can serve a new request. */
  reset(): void {
    for (let i = 0; i < this.size; i++) {
      const id = this.ids[i];
      this.counts[id] = 0;
      this.seen[id] = 0;
    }
    this.size = 0;
  }

  private touch(token: number): void {
    if (!(Number.isInteger(token) && token >= 0 && token < this.vocabSize)) {
      throw new UsageError(`token id must be an integer in [0, ${this.vocabSize}), got ${token}`);
    }
    if (this.seen[token] === 1) return;
    this.seen[token] = 1;
    if (this.size === this.ids.length) {
      const grown = new Int32Array(Math.min(this.vocabSize, 2 * this.ids.length));
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.size++] = token;
  }
}
