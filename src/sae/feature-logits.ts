/**
 * What a feature writes into the next-token logits directly: its decoder direction through the
 * final RMSNorm's gain and the unembedding, W_U · (g ⊙ W_dec[j]) — the "top logits" of a feature
 * dashboard (Bricken et al. 2023; Neuronpedia), linearised as TransformerLens does when it folds
 * the norm's weights into W_U (the per-token 1/rms scale is left out, so effects are comparable
 * across features but not calibrated logits). Meaningful for SAEs on the residual stream.
 */
import { ShapeError } from '../errors.js';
import type { LlamaModel } from '../model/llama-model.js';
import type { Sae } from './sae.js';

/** Logit effect of each listed feature, [indices.length, vocab]. */
export function featureLogitEffects(model: LlamaModel, sae: Sae, indices: readonly number[]): Float32Array {
  const { dim, vocabSize } = model.config;
  const { d_in, d_sae } = sae.config;
  if (d_in !== dim) throw new ShapeError(`SAE d_in=${d_in} is not the model's residual width ${dim}: its features have no direct logit effect`);
  const gain = model.weights.rmsFinal;
  const dirs = new Float32Array(indices.length * dim);
  indices.forEach((j, r) => {
    if (!Number.isInteger(j) || j < 0 || j >= d_sae) throw new ShapeError(`feature index ${j} is outside 0..${d_sae - 1}`);
    for (let i = 0; i < dim; i++) dirs[r * dim + i] = sae.weights.W_dec[j * dim + i] * gain[i];
  });
  const out = new Float32Array(indices.length * vocabSize);
  model.backend.matmul(out, dirs, model.weights.classifier, indices.length, dim, vocabSize);
  return out;
}
