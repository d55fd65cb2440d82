/**
 * SAELens' `normalize_activations: "expected_average_only_in"` (sae_lens/training/activations_store.py
 * `estimate_norm_scaling_factor`): one scale s with E‖s·x‖ = √d_in, estimated from a few batches.
 * The SAE is trained on s·x; at save the scale is folded into the weights (SAELens
 * `fold_activation_norm_scaling_factor`) so the saved SAE takes raw activations:
 *   pre = (s·x − b_dec) W_enc + b_enc = (x − b_dec/s)(s·W_enc) + b_enc      → W_enc ← s·W_enc, b_dec ← b_dec/s
 *   x̂_raw = x̂/s = f (W_dec/s) + b_dec/s                                     → W_dec ← W_dec/s
 * The latent activations f are unchanged (so thresholds, b_enc, gated b_gate/b_mag/r_mag and topk's
 * choice of latents are too), and the saved SAE's output on x is the trained SAE's output on s·x
 * divided by s. The saved config says normalize_activations "none", as SAELens writes it.
 */
import { ShapeError } from '../../errors.js';
import type { Sae } from '../sae.js';

/** s = √d_in / mean over tokens of ‖x‖, from batches [n, d_in]. */
export function estimateNormScale(batches: Iterable<Float32Array>, d_in: number): number {
  let sum = 0;
  let n = 0;
  for (const b of batches) {
    if (b.length % d_in !== 0) throw new ShapeError(`activation batch of ${b.length} values is not a multiple of d_in ${d_in}`);
    for (let r = 0; r < b.length / d_in; r++) {
      let s = 0;
      for (let i = r * d_in; i < (r + 1) * d_in; i++) s += b[i] * b[i];
      sum += Math.sqrt(s);
      n++;
    }
  }
  if (n === 0 || sum === 0) throw new ShapeError('cannot estimate the activation norm scale from no (or all-zero) activations');
  return Math.sqrt(d_in) / (sum / n);
}

/** out ← s·x (out may be x). */
export function scaleActivations(out: Float32Array, x: Float32Array, s: number): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * s;
  return out;
}

/** A copy of `sae` (trained on s·x) that maps raw activations x the same way; config says "none". */
export function foldNormScale(sae: Sae, s: number): Sae {
  const w = sae.weights;
  const weights = { ...w };
  weights.W_enc = w.W_enc.map((v) => v * s);
  weights.W_dec = w.W_dec.map((v) => v / s);
  weights.b_dec = w.b_dec.map((v) => v / s);
  for (const name of ['b_enc', 'threshold', 'b_gate', 'b_mag', 'r_mag'] as const) {
    const t = w[name];
    if (t) weights[name] = t.slice();
  }
  return { config: { ...sae.config, normalize_activations: 'none' }, weights, sparsity: sae.sparsity?.slice() };
}
