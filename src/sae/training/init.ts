/**
 * SAELens-style initialisation of a training SAE (sae_lens/saes/sae.py `TrainingSAE` init with
 * `init_encoder_as_decoder_transpose`): W_dec rows drawn in random directions (isotropic Gaussian,
 * from the seeded Prng) and scaled to `decoderInitNorm`, W_enc = W_decᵀ, every bias 0, jumprelu
 * thresholds JUMPRELU_INIT_THRESHOLD, gated r_mag 0.
 *
 * Decoder norm at init: SAELens v6 uses `decoder_init_norm` 0.1 for its L1 / L0-penalised SAEs, and
 * so do tinymorph's standard and jumprelu (usesPenalisedInit). With unit rows and W_enc = W_decᵀ, about half of
 * d_sae latents fire on an activation of norm √d_in and the first reconstructions are ~d_sae/(2·d_in)
 * times too large (explained variance −4 on the embedded model's blocks.2 at d_sae 512), and the L1
 * term starts out far above the MSE. TopK-family SAEs keep 1: only k latents decode, so the scale
 * does not blow up, and their shipped results were tuned with it; gated keeps 1 too (usesPenalisedInit).
 */
import { UsageError } from '../../errors.js';
import { architectureByName, findTrainingArchitecture } from '../architecture-registry.js';
import type { SaeConfig } from '../sae-config.js';
import type { Sae, SaeWeights } from '../sae.js';
import type { Prng } from '../../model/sampling/prng.js';

/**
 * θ at init. Rajamanoharan et al. 2024 start at 0.001 on activations scaled to E‖x‖² = 1; here they are
 * scaled to E‖x‖ = √d_in, so pre-activations are ~√d_in larger, and θ (trained as log θ, see
 * trainer.ts) starts ten times higher.
 */
export const JUMPRELU_INIT_THRESHOLD = 0.01;

/** ‖W_dec row‖ at init for standard and jumprelu (SAELens `decoder_init_norm`). */
export const DECODER_INIT_NORM_PENALISED = 0.1;

/**
 * Whether a training architecture starts from SAELens' init for penalised SAEs: decoder rows of norm
 * 0.1 and (in `sae train`) b_dec at the data mean; its registry entry says (standard and jumprelu do).
 * gated keeps unit rows and b_dec = 0: with 0.1 its gate did not sparsify within 200k tokens (L0 ≈ 170
 * of 512 at L1 5 on the embedded model, against 62 with unit rows).
 */
export function usesPenalisedInit(architecture: string): boolean {
  return findTrainingArchitecture(architecture)?.penalisedInit === true;
}

/** The default ‖W_dec row‖ at init of an architecture (0.1 or 1, see usesPenalisedInit). */
export function defaultDecoderInitNorm(architecture: string): number {
  return usesPenalisedInit(architecture) ? DECODER_INIT_NORM_PENALISED : 1;
}

export interface InitOptions {
  /** ‖W_dec row‖ at init (default defaultDecoderInitNorm(architecture)). */
  decoderInitNorm?: number;
  /** jumprelu threshold at init (default JUMPRELU_INIT_THRESHOLD). */
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
  if (problem) throw new UsageError(problem);
  const { d_in, d_sae } = config;
  const norm = o.decoderInitNorm ?? defaultDecoderInitNorm(config.architecture);
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
