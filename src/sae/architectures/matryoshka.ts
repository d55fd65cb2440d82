/**
 * Matryoshka BatchTopK (Bussmann et al. 2025; dictionary_learning trainers/matryoshka_batch_top_k.py):
 * BatchTopK whose reconstruction loss is summed over nested prefixes of the dictionary
 * (losses-matryoshka.ts); trained and saved as BatchTopK is (batchtopk.ts).
 */
import type { SaeTrainingArchitecture } from '../architecture-registry.js';
import { normalizePrefixes } from '../training/losses-batchtopk.js';
import { defaultMatryoshkaPrefixes, matryoshkaLoss } from '../training/losses-matryoshka.js';
import type { SaeTrainerConfig } from '../training/trainer.js';
import { batchKProblem, batchTrainingLoss } from './batchtopk.js';

/** The validated nested prefix sizes of `cfg` (default d_sae/8, /4, /2, d_sae); throws a UsageError naming bad ones. */
export function matryoshkaPrefixes(cfg: SaeTrainerConfig): number[] {
  return normalizePrefixes(cfg.matryoshkaPrefixes ?? defaultMatryoshkaPrefixes(cfg.d_sae), cfg.d_sae);
}

export const matryoshkaTraining: SaeTrainingArchitecture = {
  name: 'matryoshka',
  trainsAs: 'topk',
  usesK: true,
  globalThreshold: true,
  normalizeDecoder: true,
  configProblem: (cfg) => {
    const problem = batchKProblem('matryoshka', cfg.k, cfg.d_sae);
    if (problem === undefined) matryoshkaPrefixes(cfg); // throws a UsageError naming bad prefix sizes
    return problem;
  },
  loss: ({ sae, x, batch, grads, ws, backend, cfg, deadMask }) =>
    batchTrainingLoss(matryoshkaLoss(sae, x, batch, { deadMask, kAux: cfg.kAux, auxCoefficient: cfg.auxCoefficient, prefixes: matryoshkaPrefixes(cfg) }, grads, ws, backend)),
};
