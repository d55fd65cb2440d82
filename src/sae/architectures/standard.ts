/**
 * SAELens `standard` (sae_lens/saes/standard_sae.py): acts = ReLU(sae_in · W_enc + b_enc)
 * (Bricken et al. 2023, "Towards Monosemanticity").
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeArchitecture } from '../architecture-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
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
