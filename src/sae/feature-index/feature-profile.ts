/**
 * A text's feature profile: the SAE features with the largest mean activation over its tokens (the
 * activation summed over the tokens, divided by their count, so a long note and a short one on the
 * same subject look alike). What "related notes" compares (app-server/related/related-ranking.ts):
 * documents described by the SAE features they share, as the retrieval-with-SAEs idea in the
 * project's glossary sketches ("SAEs to interpret features from relevant documents → search
 * related features").
 */
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { Sae } from '../sae.js';
import { textActivations } from './text-activations.js';

export interface FeatureProfile {
  /** Tokens of the text (BOS not counted). */
  tokens: number;
  /** The strongest features, by mean activation over the tokens, strongest first. */
  features: { feature: number; mean: number }[];
}

/** Texts run this many at a time (textActivations batches their pieces), so progress moves in steps. */
const TEXTS_PER_STEP = 8;

export function featureProfiles(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, texts: readonly string[], top: number, onProgress?: (done: number, total: number) => void): FeatureProfile[] {
  const d = sae.config.d_sae;
  const out: FeatureProfile[] = [];
  for (let from = 0; from < texts.length; from += TEXTS_PER_STEP) {
    for (const { tokenIds, acts } of textActivations(model, tokenizer, sae, texts.slice(from, from + TEXTS_PER_STEP))) {
      const n = tokenIds.length;
      const sum = new Float64Array(d);
      for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) if (acts[t * d + j] > 0) sum[j] += acts[t * d + j];
      const features: { feature: number; mean: number }[] = [];
      for (let j = 0; j < d; j++) if (sum[j] > 0) features.push({ feature: j, mean: sum[j] / n });
      features.sort((a, b) => b.mean - a.mean || a.feature - b.feature);
      out.push({ tokens: n, features: features.slice(0, top) });
    }
    onProgress?.(out.length, texts.length);
  }
  return out;
}
