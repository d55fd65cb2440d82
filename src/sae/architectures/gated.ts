/**
 * SAELens `gated` (sae_lens/saes/gated_sae.py; Rajamanoharan et al. 2024, "Improving Dictionary
 * Learning with Gated Sparse Autoencoders"): the gate and magnitude paths share W_enc.
 *   gate = 1[sae_in · W_enc + b_gate > 0]
 *   mag  = ReLU(sae_in · (W_enc ⊙ exp(r_mag)) + b_mag)
 *   acts = gate · mag
 * One product serves both paths: sae_in · (W_enc ⊙ exp(r_mag)) = (sae_in · W_enc) ⊙ exp(r_mag),
 * scaling columns after instead of before the product (equal up to float rounding).
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeArchitecture, SaeTrainingArchitecture } from '../architecture-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import { gatedLoss } from '../training/losses-gated.js';
import { DEFAULT_L1_COEFFICIENT } from '../training/losses-standard.js';

export const gatedArchitecture: SaeArchitecture = {
  name: 'gated',
  tensors: ['b_gate', 'b_mag', 'r_mag'],
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void {
    const { d_in, d_sae } = sae.config;
    const bGate = requireWeight(sae, 'b_gate');
    const bMag = requireWeight(sae, 'b_mag');
    const scale = requireWeight(sae, 'r_mag').map(Math.exp);
    backend.matmulNN(out, saeIn, sae.weights.W_enc, tokens, d_in, d_sae); // [T, d_sae]
    for (let t = 0; t < tokens; t++) {
      const row = t * d_sae;
      for (let j = 0; j < d_sae; j++) {
        const pre = out[row + j];
        const mag = pre * scale[j] + bMag[j];
        out[row + j] = pre + bGate[j] > 0 && mag > 0 ? mag : 0;
      }
    }
  },
};

/**
 * Training (losses-gated.ts): MSE, the gate's L1 and the auxiliary reconstruction. Unit decoder rows
 * and b_dec = 0 at init (not penalisedInit: with rows of 0.1 the gate did not sparsify, see init.ts).
 */
export const gatedTraining: SaeTrainingArchitecture = {
  name: 'gated',
  trainsAs: 'gated',
  sparsityCoefficient: (cfg) => cfg.l1Coefficient ?? DEFAULT_L1_COEFFICIENT,
  loss: ({ sae, x, batch, grads, ws, backend, sparsityCoefficient }) => ({
    terms: gatedLoss(sae, x, batch, { l1Coefficient: sparsityCoefficient }, grads, ws, backend),
  }),
};
