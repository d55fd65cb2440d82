/**
 * Each feature's top positive and negative output tokens: the largest and smallest entries of its
 * direct logit effect (feature-logits.ts: decoder direction through the final norm's gain and the
 * unembedding), the "positive/negative logits" columns of a feature dashboard (Bricken et al. 2023).
 */
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { featureLogitEffects } from '../feature-logits.js';
import type { Sae } from '../sae.js';

export interface OutputToken {
  tokenId: number;
  token: string;
  value: number;
}

export interface OutputTokens {
  positive: OutputToken[];
  negative: OutputToken[];
}

const BLOCK_FEATURES = 256; // bounds the [block, vocab] logit-effect buffer for large dictionaries

export function topOutputTokens(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, k: number): OutputTokens[] {
  const vocab = model.config.vocabSize;
  const out: OutputTokens[] = [];
  for (let f0 = 0; f0 < sae.config.d_sae; f0 += BLOCK_FEATURES) {
    const idx = Array.from({ length: Math.min(BLOCK_FEATURES, sae.config.d_sae - f0) }, (_, i) => f0 + i);
    const effects = featureLogitEffects(model, sae, idx);
    idx.forEach((_, r) => {
      const row = effects.subarray(r * vocab, (r + 1) * vocab);
      const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
      const entry = (id: number): OutputToken => ({ tokenId: id, token: tokenizer.piece(id), value: row[id] });
      out.push({ positive: order.slice(0, k).map(entry), negative: order.slice(-k).reverse().map(entry) });
    });
  }
  return out;
}
