import { alignedFloat32Array } from '../tensor/aligned-array.js';
import type { LlamaConfig } from './llama-config.js';
import { kvDim } from './llama-config.js';

/**
 * Activation buffers for one forward call, reused across calls (as run.c's RunState) and grown only
 * when a call processes more tokens than any call before it. Shapes in tokens T:
 */
export class ForwardWorkspace {
  tokens = 0;
  x = new Float32Array(0); // [T, dim] residual stream
  xb = new Float32Array(0); // [T, dim] normed input / attention output projection
  q = new Float32Array(0); // [T, dim]
  k = new Float32Array(0); // [T, kvDim]
  v = new Float32Array(0); // [T, kvDim]
  z = new Float32Array(0); // [T, dim] attention output before wo
  h1 = new Float32Array(0); // [T, hidden] gate, then swiglu output
  h3 = new Float32Array(0); // [T, hidden] up
  logits = new Float32Array(0); // [T, vocab]
  positions = new Int32Array(0); // [T]
  lastRows = new Float32Array(0); // [T, dim] final-normed last token of each row
  scores = new Float32Array(0); // [capacity] attention scores of one query (sized by the cache, not seq_len)
  pattern = new Float32Array(0); // [T, nHeads, keyLen] only when hook_pattern listens

  constructor(private readonly c: LlamaConfig) {}

  /** Room for a forward of `tokens` tokens over a cache of `capacity` positions. */
  ensure(tokens: number, capacity: number): void {
    if (this.scores.length < capacity) this.scores = new Float32Array(capacity);
    if (tokens <= this.tokens) return;
    const c = this.c;
    const T = Math.max(tokens, Math.ceil(this.tokens * 1.5));
    this.tokens = T;
    this.x = alignedFloat32Array(T * c.dim);
    this.xb = alignedFloat32Array(T * c.dim);
    this.q = alignedFloat32Array(T * c.dim);
    this.k = alignedFloat32Array(T * kvDim(c));
    this.v = alignedFloat32Array(T * kvDim(c));
    this.z = alignedFloat32Array(T * c.dim);
    this.h1 = alignedFloat32Array(T * c.hiddenDim);
    this.h3 = alignedFloat32Array(T * c.hiddenDim);
    this.logits = alignedFloat32Array(T * c.vocabSize);
    this.positions = new Int32Array(T);
    this.lastRows = alignedFloat32Array(T * c.dim);
  }

  ensurePattern(size: number): Float32Array {
    if (this.pattern.length < size) this.pattern = new Float32Array(size);
    return this.pattern;
  }
}
