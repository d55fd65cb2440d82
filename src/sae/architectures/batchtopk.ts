/**
 * BatchTopK (Bussmann, Leask & Nanda 2024; dictionary_learning trainers/batch_top_k.py): trained in
 * the topk shape (W_enc, b_enc, W_dec, b_dec) with the k·B largest activations of the whole batch
 * kept (losses-batchtopk.ts), and saved as jumprelu with the running global threshold θ for every
 * latent, as SAELens and dictionary_learning save it. No inference entry: a saved BatchTopK SAE is
 * a jumprelu SAE.
 */
import type { SaeTrainingArchitecture, TrainingLoss } from '../architecture-registry.js';
import type { BatchTopKLossTerms } from '../training/losses-batchtopk.js';
import { batchTopKLoss } from '../training/losses-batchtopk.js';

/** 0 < k ≤ d_sae: mean latents per token (k·B kept per batch). */
export function batchKProblem(name: string, k: number | undefined, d_sae: number): string | undefined {
  return k !== undefined && k > 0 && k <= d_sae ? undefined : `${name} needs 0 < k ≤ d_sae = ${d_sae}, got k = ${k}`;
}

/** The trainer's view of a BatchTopK-family loss: the terms, the full reconstruction's MSE and the smallest kept activation. */
export function batchTrainingLoss(t: BatchTopKLossTerms): TrainingLoss {
  return {
    terms: { mse: t.mse, sparsity: t.sparsity, aux: t.aux, total: t.total, l0: t.l0 },
    // The reconstruction is the last (full) prefix's; t.mse sums every prefix's.
    reconstructionMse: t.prefixMse[t.prefixMse.length - 1],
    minKept: t.minKept,
  };
}

export const batchTopKTraining: SaeTrainingArchitecture = {
  name: 'batchtopk',
  trainsAs: 'topk',
  usesK: true,
  globalThreshold: true,
  normalizeDecoder: true,
  configProblem: (cfg) => batchKProblem('batchtopk', cfg.k, cfg.d_sae),
  loss: ({ sae, x, batch, grads, ws, backend, cfg, deadMask }) =>
    batchTrainingLoss(batchTopKLoss(sae, x, batch, { deadMask, kAux: cfg.kAux, auxCoefficient: cfg.auxCoefficient }, grads, ws, backend)),
};
