/**
 * The run-time input normalisations SAELens applies around an SAE (sae_lens/saes/sae.py
 * `_setup_activation_normalization`), per token:
 *   constant_norm_rescale: in x·c with c = √d_in / ‖x‖;   out y / c
 *   layer_norm:            in (x − μ) / (σ + 1e-5), σ the unbiased std (torch.std);   out y·σ + μ
 * `none` and `expected_average_only_in` (a scale folded into the weights) are the identity.
 */
import type { SaeConfig } from './sae-config.js';

const LN_EPS = 1e-5;

/** What decoding needs to undo the normalisation of each token. */
export type NormState =
  | { kind: 'constant_norm_rescale'; coeff: Float32Array } // [T]
  | { kind: 'layer_norm'; mu: Float32Array; std: Float32Array }; // [T] each

export function needsRunTimeNorm(config: SaeConfig): boolean {
  return config.normalize_activations === 'constant_norm_rescale' || config.normalize_activations === 'layer_norm';
}

/** Normalises x [T, d] in place and returns the state to undo it, or undefined when there is nothing to do. */
export function normalizeIn(config: SaeConfig, x: Float32Array, tokens: number): NormState | undefined {
  const d = config.d_in;
  if (config.normalize_activations === 'constant_norm_rescale') {
    const coeff = new Float32Array(tokens);
    for (let t = 0; t < tokens; t++) {
      let s = 0;
      for (let i = t * d; i < (t + 1) * d; i++) s += x[i] * x[i];
      // A zero row stays zero; SAELens would divide by zero here.
      coeff[t] = s > 0 ? Math.sqrt(d) / Math.sqrt(s) : 1;
      for (let i = t * d; i < (t + 1) * d; i++) x[i] *= coeff[t];
    }
    return { kind: 'constant_norm_rescale', coeff };
  }
  if (config.normalize_activations === 'layer_norm') {
    const mu = new Float32Array(tokens);
    const std = new Float32Array(tokens);
    for (let t = 0; t < tokens; t++) {
      let s = 0;
      for (let i = t * d; i < (t + 1) * d; i++) s += x[i];
      const m = s / d;
      let v = 0;
      for (let i = t * d; i < (t + 1) * d; i++) v += (x[i] - m) ** 2;
      mu[t] = m;
      std[t] = d > 1 ? Math.sqrt(v / (d - 1)) : 0;
      const inv = 1 / (std[t] + LN_EPS);
      for (let i = t * d; i < (t + 1) * d; i++) x[i] = (x[i] - m) * inv;
    }
    return { kind: 'layer_norm', mu, std };
  }
  return undefined;
}

/** Undoes normalizeIn on a reconstruction y [T, d], in place. */
export function normalizeOut(state: NormState | undefined, y: Float32Array, tokens: number, d: number): void {
  if (state === undefined) return;
  for (let t = 0; t < tokens; t++) {
    if (state.kind === 'constant_norm_rescale') {
      for (let i = t * d; i < (t + 1) * d; i++) y[i] /= state.coeff[t];
    } else {
      for (let i = t * d; i < (t + 1) * d; i++) y[i] = y[i] * state.std[t] + state.mu[t];
    }
  }
}
