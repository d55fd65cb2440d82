import type { SaeConfig } from '../../src/sae/sae-config.js';
import { parseSaeConfig } from '../../src/sae/sae-config.js';
import type { Sae, SaeWeights } from '../../src/sae/sae.js';

/** A config as SAELens v6 writes it, parsed; `extra` cfg.json keys override the defaults. */
export function v6Config(architecture: string, d_in: number, d_sae: number, extra: Record<string, unknown> = {}): SaeConfig {
  return parseSaeConfig(
    {
      d_in,
      d_sae,
      dtype: 'float32',
      device: 'cpu',
      apply_b_dec_to_input: true,
      normalize_activations: 'none',
      reshape_activations: 'none',
      metadata: { sae_lens_version: '6.0.0', sae_lens_training_version: '6.0.0', model_name: 'stories260K', hook_name: 'blocks.2.hook_resid_post' },
      architecture,
      ...extra,
    },
    'test cfg',
  );
}

/** Deterministic uniform numbers in [-scale, scale) (mulberry32). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** An SAE of `config` with random weights (every tensor its architecture uses). */
export function randomSae(config: SaeConfig, seed = 1): Sae {
  const { d_in, d_sae } = config;
  const w: SaeWeights = {
    W_enc: randomArray(d_in * d_sae, seed, 0.3),
    W_dec: randomArray(d_sae * d_in, seed + 1, 0.3),
    b_dec: randomArray(d_in, seed + 2, 0.1),
  };
  if (config.architecture === 'gated') {
    w.b_gate = randomArray(d_sae, seed + 3, 0.1);
    w.b_mag = randomArray(d_sae, seed + 4, 0.1);
    w.r_mag = randomArray(d_sae, seed + 5, 0.5);
  } else {
    w.b_enc = randomArray(d_sae, seed + 3, 0.1);
  }
  if (config.architecture === 'jumprelu') w.threshold = randomArray(d_sae, seed + 6, 0.2).map(Math.abs);
  return { config, weights: w };
}
