import type { Sae } from '../sae.js';

/** sae_in[t] · W_enc[:, j] + bias[j]: one latent's pre-activation, without the full [T, d_sae] product. */
export function columnPreActivation(sae: Sae, saeIn: Float32Array, t: number, j: number, bias: Float32Array): number {
  const { d_in, d_sae } = sae.config;
  const W = sae.weights.W_enc;
  let s = 0;
  for (let i = 0; i < d_in; i++) s += saeIn[t * d_in + i] * W[i * d_sae + j];
  return s + bias[j];
}
