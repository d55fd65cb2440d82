/**
 * Per-feature activation statistics over a sample of text: the mean activation (what mean
 * ablation puts in a feature's place; Marks et al. 2024 ablate to the mean over data) and the mean
 * of its non-zero activations (a feature's typical strength when it fires, the scale SAE-guided
 * decoding measures "already active" against).
 */
import type { HookName } from '../model/hook-points.js';
import type { LlamaModel } from '../model/llama-model.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { corpusDocuments, modelActivations } from './activation-store/activation-store.js';
import { encode } from './sae-forward.js';
import type { Sae } from './sae.js';

/** Contexts per forward pass. */
const BATCH_CONTEXTS = 16;

export interface FeatureMeans {
  mean: Float32Array; // [d_sae]
  meanNonZero: Float32Array; // [d_sae], 0 for a feature that never fired
  tokens: number;
}

/** Statistics over the first `contexts` × 128-token contexts of a corpus file (special tokens left out). */
export function meanActivations(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, hook: HookName, corpusPath: string, contexts = 64): FeatureMeans {
  const d = sae.config.d_sae;
  const sum = new Float64Array(d);
  const fired = new Float64Array(d);
  let tokens = 0;
  let seen = 0;
  for (const x of modelActivations(model, tokenizer, corpusDocuments(corpusPath), { hook, batchContexts: BATCH_CONTEXTS })) {
    const n = x.length / sae.config.d_in;
    const acts = encode(sae, x, n, model.backend);
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < d; j++) {
        const a = acts[t * d + j];
        if (a !== 0) {
          sum[j] += a;
          fired[j]++;
        }
      }
    }
    tokens += n;
    if ((seen += BATCH_CONTEXTS) >= contexts) break;
  }
  const mean = new Float32Array(d);
  const meanNonZero = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = tokens > 0 ? sum[j] / tokens : 0;
    meanNonZero[j] = fired[j] > 0 ? sum[j] / fired[j] : 0;
  }
  return { mean, meanNonZero, tokens };
}
