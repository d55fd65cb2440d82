import { NumericError } from '../errors.js';
import type { LlamaModel } from './llama-model.js';

export interface CrossEntropyResult {
  /** Mean next-token cross-entropy in nats over all predicted tokens. */
  meanNats: number;
  /** Number of predicted tokens (each document contributes its length − 1). */
  tokens: number;
  documents: number;
}

export interface CrossEntropyOptions {
  /** Upper bound on the floats of logits held at once (rows are packed until this is reached). */
  logitBudget?: number;
  onProgress?: (documentsDone: number) => void;
}

/**
 * Teacher-forced mean cross-entropy of token sequences (each already BOS-prefixed and cut to the
 * context). Documents are packed into batched forward passes of rows with different lengths.
 */
export function meanCrossEntropy(model: LlamaModel, docs: readonly (readonly number[])[], opts: CrossEntropyOptions = {}): CrossEntropyResult {
  const vocab = model.config.vocabSize;
  const budget = opts.logitBudget ?? 8 * 1024 * 1024;
  let sum = 0;
  let count = 0;
  let done = 0;
  while (done < docs.length) {
    const batch: (readonly number[])[] = [];
    let tokens = 0;
    while (done + batch.length < docs.length && (batch.length === 0 || (tokens + docs[done + batch.length].length) * vocab <= budget)) {
      tokens += docs[done + batch.length].length;
      batch.push(docs[done + batch.length]);
    }
    const { logits, rowStart } = model.withCache(batch.length, Math.max(...batch.map((d) => d.length)), (cache) => model.forward(cache, batch, { allLogits: true }));
    for (let s = 0; s < batch.length; s++) {
      const doc = batch[s];
      for (let i = 0; i + 1 < doc.length; i++) {
        const nll = negLogSoftmaxAt(logits, (rowStart[s] + i) * vocab, vocab, doc[i + 1]);
        // One NaN would make the mean NaN with no hint of why; +∞ is a certain token given probability 0.
        if (!Number.isFinite(nll)) throw new NumericError(`document ${done + s + 1}, token ${i + 2}: the cross-entropy is ${nll} (NaN or infinite logits); \`tinymorph inspect\` checks the model's weights for NaN/Inf`);
        sum += nll;
        count++;
      }
    }
    done += batch.length;
    opts.onProgress?.(done);
  }
  return { meanNats: count ? sum / count : NaN, tokens: count, documents: docs.length };
}

function negLogSoftmaxAt(logits: Float32Array, off: number, n: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[off + i] > max) max = logits[off + i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
  return Math.log(sum) + max - logits[off + target];
}
