/**
 * SAELens `standard` (sae_lens/saes/standard_sae.py): acts = ReLU(sae_in · W_enc + b_enc)
 * (Bricken et al. 2023, "Towards Monosemanticity").
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeArchitecture, SaeTrainingArchitecture } from '../architecture-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import { DEFAULT_L1_COEFFICIENT, standardLoss } from '../training/losses-standard.js';
import { columnPreActivation } from './column-pre-activation.js';

export const standardArchitecture: SaeArchitecture = {
  name: 'standard',
  tensors: ['b_enc'],
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void {
    const { d_in, d_sae } = sae.config;
    const bEnc = requireWeight(sae, 'b_enc');
    backend.matmulNN(out, saeIn, sae.weights.W_enc, tokens, d_in, d_sae); // [T, d_sae]
    for (let t = 0; t < tokens; t++) {
      const row = t * d_sae;
      for (let j = 0; j < d_sae; j++) {
        const pre = out[row + j] + bEnc[j];
        out[row + j] = pre > 0 ? pre : 0;
      }
    }
  },
  encodeSelected(sae: Sae, saeIn: Float32Array, tokens: number, indices: readonly number[], out: Float32Array): void {
    const bEnc = requireWeight(sae, 'b_enc');
    for (let t = 0; t < tokens; t++) {
      indices.forEach((j, f) => {
        const pre = columnPreActivation(sae, saeIn, t, j, bEnc);
        out[t * indices.length + f] = pre > 0 ? pre : 0;
      });
    }
  },
};

/** Training (losses-standard.ts): MSE plus λ · Σ_j f_j ‖W_dec_j‖, from SAELens' init for penalised SAEs. */
export const standardTraining: SaeTrainingArchitecture = {
  name: 'standard',
  trainsAs: 'standard',
  penalisedInit: true,
  sparsityCoefficient: (cfg) => cfg.l1Coefficient ?? DEFAULT_L1_COEFFICIENT,
  loss: ({ sae, x, batch, grads, ws, backend, sparsityCoefficient }) => ({
    terms: standardLoss(sae, x, batch, { l1Coefficient: sparsityCoefficient }, grads, ws, backend),
  }),
};
