/**
 * SAELens `jumprelu` (sae_lens/saes/jumprelu_sae.py; Rajamanoharan et al. 2024, Gemma Scope):
 * pre = sae_in · W_enc + b_enc;  acts = ReLU(pre) · 1[pre > threshold]  (strictly greater).
 * BatchTopK and Matryoshka SAEs are saved in this form, their global threshold per latent.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeArchitecture, SaeTrainingArchitecture } from '../architecture-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import { DEFAULT_JUMPRELU_BANDWIDTH, DEFAULT_JUMPRELU_MODE, DEFAULT_L0_COEFFICIENT, jumpReluLoss } from '../training/losses-jumprelu.js';
import { columnPreActivation } from './column-pre-activation.js';

export const jumpReluArchitecture: SaeArchitecture = {
  name: 'jumprelu',
  tensors: ['b_enc', 'threshold'],
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void {
    const { d_in, d_sae } = sae.config;
    const bEnc = requireWeight(sae, 'b_enc');
    const threshold = requireWeight(sae, 'threshold');
    backend.matmulNN(out, saeIn, sae.weights.W_enc, tokens, d_in, d_sae); // [T, d_sae]
    for (let t = 0; t < tokens; t++) {
      const row = t * d_sae;
      for (let j = 0; j < d_sae; j++) {
        const pre = out[row + j] + bEnc[j];
        out[row + j] = pre > threshold[j] && pre > 0 ? pre : 0;
      }
    }
  },
  encodeSelected(sae: Sae, saeIn: Float32Array, tokens: number, indices: readonly number[], out: Float32Array): void {
    const bEnc = requireWeight(sae, 'b_enc');
    const threshold = requireWeight(sae, 'threshold');
    for (let t = 0; t < tokens; t++) {
      indices.forEach((j, f) => {
        const pre = columnPreActivation(sae, saeIn, t, j, bEnc);
        out[t * indices.length + f] = pre > threshold[j] && pre > 0 ? pre : 0;
      });
    }
  },
};

/** Training (losses-jumprelu.ts): MSE plus the L0 penalty (tanh by default), θ trained as log θ, from SAELens' init for penalised SAEs. */
export const jumpReluTraining: SaeTrainingArchitecture = {
  name: 'jumprelu',
  trainsAs: 'jumprelu',
  penalisedInit: true,
  logThreshold: true,
  sparsityCoefficient: (cfg) => cfg.l0Coefficient ?? DEFAULT_L0_COEFFICIENT,
  loss: ({ sae, x, batch, grads, ws, backend, cfg, sparsityCoefficient }) => ({
    terms: jumpReluLoss(
      sae, x, batch, { l0Coefficient: sparsityCoefficient, bandwidth: cfg.jumpReluBandwidth ?? DEFAULT_JUMPRELU_BANDWIDTH, mode: cfg.jumpReluMode ?? DEFAULT_JUMPRELU_MODE },
      grads, ws, backend,
    ),
  }),
};
