/**
 * A sparse autoencoder: its config and its weights, named and shaped exactly as SAELens stores them
 * in sae_weights.safetensors (row-major):
 *   W_enc [d_in, d_sae]   W_dec [d_sae, d_in]   b_dec [d_in]
 *   b_enc [d_sae] (standard, jumprelu, topk)    threshold [d_sae] (jumprelu)
 *   b_gate, b_mag, r_mag [d_sae] (gated, in place of b_enc)
 */
import type { SaeConfig } from './sae-config.js';

export const SAE_TENSOR_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold', 'b_gate', 'b_mag', 'r_mag'] as const;
export type SaeTensorName = (typeof SAE_TENSOR_NAMES)[number];

export interface SaeWeights {
  W_enc: Float32Array; // [d_in, d_sae]
  W_dec: Float32Array; // [d_sae, d_in]
  b_dec: Float32Array; // [d_in]
  b_enc?: Float32Array; // [d_sae]
  threshold?: Float32Array; // [d_sae]
  b_gate?: Float32Array; // [d_sae]
  b_mag?: Float32Array; // [d_sae]
  r_mag?: Float32Array; // [d_sae]
}

export interface Sae {
  config: SaeConfig;
  weights: SaeWeights;
  /** log10 of each latent's firing density, from sparsity.safetensors when the folder has one. [d_sae] */
  sparsity?: Float32Array;
}

/** The shape a weight tensor must have under `config`. */
export function saeTensorShape(config: SaeConfig, name: SaeTensorName): number[] {
  switch (name) {
    case 'W_enc':
      return [config.d_in, config.d_sae];
    case 'W_dec':
      return [config.d_sae, config.d_in];
    case 'b_dec':
      return [config.d_in];
    default:
      return [config.d_sae];
  }
}

/** A weight the architecture needs, or a clear failure naming it (for code paths past load-time checks). */
export function requireWeight(sae: Sae, name: SaeTensorName): Float32Array {
  const w = sae.weights[name];
  if (w === undefined) throw new Error(`${sae.config.architecture} SAE has no ${name}`);
  return w;
}
