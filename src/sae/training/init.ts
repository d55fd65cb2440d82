/**
 * SAELens-style initialisation of a training SAE (sae_lens/saes/sae.py `TrainingSAE` init with
 * `init_encoder_as_decoder_transpose`): W_dec rows drawn in random directions (isotropic Gaussian,
 * from the seeded Prng) and scaled to `decoderInitNorm` (1 here, i.e. unit norm; SAELens v6 uses
 * `decoder_init_norm` 0.1 for its standard SAE), W_enc = W_decᵀ, every bias 0, jumprelu thresholds
 * 0.001 (SAELens `jumprelu_init_threshold`), gated r_mag 0.
 */
import { architectureByName } from '../architecture-registry.js';
import type { SaeConfig } from '../sae-config.js';
import type { Sae, SaeWeights } from '../sae.js';
import type { Prng } from '../../model/sampling/prng.js';

export const JUMPRELU_INIT_THRESHOLD = 0.001;

export interface InitOptions {
  /** ‖W_dec row‖ at init (default 1). */
  decoderInitNorm?: number;
  /** jumprelu threshold at init (default 0.001). */
  jumpReluInitThreshold?: number;
}

/** A standard normal deviate (Box–Muller, both uniforms from `prng`). */
export function gaussian(prng: Prng): number {
  const u1 = 1 - prng.nextFloat(); // (0, 1]
  const u2 = prng.nextFloat();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A freshly initialised SAE for `config`, deterministic for the state of `prng`. */
export function initSae(config: SaeConfig, prng: Prng, o: InitOptions = {}): Sae {
  const arch = architectureByName(config.architecture);
  const problem = arch.configProblem?.(config);
  if (problem) throw new Error(problem);
  const { d_in, d_sae } = config;
  const norm = o.decoderInitNorm ?? 1;
  const W_dec = new Float32Array(d_sae * d_in);
  const W_enc = new Float32Array(d_in * d_sae);
  const row = new Float64Array(d_in);
  for (let j = 0; j < d_sae; j++) {
    let s = 0;
    for (let i = 0; i < d_in; i++) {
      row[i] = gaussian(prng);
      s += row[i] * row[i];
    }
    const scale = norm / Math.sqrt(s);
    for (let i = 0; i < d_in; i++) {
      const w = row[i] * scale;
      W_dec[j * d_in + i] = w;
      W_enc[i * d_sae + j] = w;
    }
  }
  const weights: SaeWeights = { W_enc, W_dec, b_dec: new Float32Array(d_in) };
  for (const name of arch.tensors) {
    weights[name] = new Float32Array(d_sae);
    if (name === 'threshold') weights[name].fill(o.jumpReluInitThreshold ?? JUMPRELU_INIT_THRESHOLD);
  }
  return { config, weights };
}
