/**
 * Feature density: the fraction of (non-special) tokens on which each latent is non-zero — SAELens'
 * `feature_density` (sae_lens/evals.py, `!= 0` so signed architectures count) — and the summaries
 * read off it: dead latents (never fired on the eval tokens), dense latents (firing on more than
 * DENSE_THRESHOLD of tokens) and a histogram of log10 density.
 *
 * evals.py defines no "dense" cut-off; 10% follows the convention of Gao et al. 2024 ("Scaling and
 * evaluating sparse autoencoders", latents that fire on more than ~10% of tokens) and of SAE
 * dashboards, and is reported next to the fraction so a reader knows what it means.
 */
export const DENSE_THRESHOLD = 0.1;
/** log10-density bin edges: −8, −7.5, …, 0; densities below 1e−8 (but > 0) fall in the first bin. */
export const DENSITY_BIN_EDGES = Array.from({ length: 17 }, (_, i) => -8 + 0.5 * i);

export class FeatureDensityAccumulator {
  private readonly fired: Float64Array;
  private tokens = 0;

  constructor(readonly dSae: number) {
    this.fired = new Float64Array(dSae);
  }

  /** Adds acts [tokens, d_sae] of tokens that count. */
  add(acts: Float32Array, tokens: number): void {
    const d = this.dSae;
    for (let t = 0; t < tokens; t++) for (let j = 0; j < d; j++) if (acts[t * d + j] !== 0) this.fired[j]++;
    this.tokens += tokens;
  }

  density(): Float64Array {
    return this.fired.map((f) => (this.tokens ? f / this.tokens : 0));
  }
}

export interface DensityHistogram {
  /** log10(density) bin edges; bin i holds edges[i] ≤ log10 d < edges[i+1] (the last bin includes 0). */
  log10_bin_edges: number[];
  counts: number[];
  /** Latents with density 0, which have no log10 and are counted here instead. */
  dead: number;
}

export interface DensitySummary {
  dead_features: number;
  dead_features_fraction: number;
  dense_features: number;
  dense_features_fraction: number;
  dense_threshold: number;
  feature_density_histogram: DensityHistogram;
}

export function summarizeDensity(density: ArrayLike<number>): DensitySummary {
  const n = density.length;
  const edges = DENSITY_BIN_EDGES;
  const counts = new Array<number>(edges.length - 1).fill(0);
  let dead = 0;
  let dense = 0;
  for (let j = 0; j < n; j++) {
    const d = density[j];
    if (d === 0) {
      dead++;
      continue;
    }
    if (d > DENSE_THRESHOLD) dense++;
    const bin = Math.floor((Math.log10(d) - edges[0]) / 0.5);
    counts[Math.min(counts.length - 1, Math.max(0, bin))]++;
  }
  return {
    dead_features: dead,
    dead_features_fraction: n ? dead / n : 0,
    dense_features: dense,
    dense_features_fraction: n ? dense / n : 0,
    dense_threshold: DENSE_THRESHOLD,
    feature_density_histogram: { log10_bin_edges: edges, counts, dead },
  };
}
