/**
 * Reconstruction, shrinkage and sparsity metrics of an SAE over activations, with the definitions of
 * SAELens' `get_sparsity_and_variance_metrics` (sae_lens/evals.py):
 *  - per token, then averaged over all tokens: `l0` (#latents ≠ 0), `l1` (Σ|acts|), `mse`
 *    (‖x − x̂‖², summed over dimensions), `cossim`, `l2_norm_in`, `l2_norm_out`, `l2_ratio`
 *    (‖x̂‖/‖x‖, with ‖x‖ < 1e-4 replaced by 1), `explained_variance_legacy`;
 *  - per batch, then averaged over batches: `relative_reconstruction_bias` = E‖x̂‖² / E⟨x, x̂⟩
 *    (Bricken-style shrinkage, eq. 10 of Rajamanoharan et al. 2024, arXiv:2404.16014);
 *  - over all tokens at once (ExplainedVarianceCalculator): `explained_variance` =
 *    1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²), sums kept in float64 since the denominator is a difference
 *    of two large, nearly equal numbers.
 * Rows of x, x̂, acts are tokens; callers pass only the tokens that count (special tokens left out).
 */
export interface ReconstructionMetrics {
  l0: number;
  l1: number;
  mse: number;
  explained_variance: number;
  explained_variance_legacy: number;
  cossim: number;
  l2_norm_in: number;
  l2_norm_out: number;
  l2_ratio: number;
  relative_reconstruction_bias: number;
}

const PER_TOKEN = ['l0', 'l1', 'mse', 'cossim', 'l2_norm_in', 'l2_norm_out', 'l2_ratio', 'explained_variance_legacy'] as const;

export class ReconstructionAccumulator {
  private readonly sums: Record<(typeof PER_TOKEN)[number], number> = Object.fromEntries(PER_TOKEN.map((k) => [k, 0])) as Record<(typeof PER_TOKEN)[number], number>;
  private readonly sumX: Float64Array;
  private sumSqNorm = 0;
  private sumSqResid = 0;
  private tokens = 0;
  private rrbSum = 0;
  private batches = 0;

  constructor(
    readonly dIn: number,
    readonly dSae: number,
  ) {
    this.sumX = new Float64Array(dIn);
  }

  /** Adds one batch: x, x̂ [tokens, d_in], acts [tokens, d_sae]. An empty batch is ignored. */
  add(x: Float32Array, xHat: Float32Array, acts: Float32Array, tokens: number): void {
    if (tokens === 0) return;
    const d = this.dIn;
    const mean = new Float64Array(d);
    for (let t = 0; t < tokens; t++) for (let i = 0; i < d; i++) mean[i] += x[t * d + i];
    for (let i = 0; i < d; i++) {
      this.sumX[i] += mean[i];
      mean[i] /= tokens;
    }
    let batchHatSq = 0;
    let batchDot = 0;
    for (let t = 0; t < tokens; t++) {
      let xx = 0, hh = 0, xh = 0, rr = 0, vv = 0;
      for (let i = 0; i < d; i++) {
        const a = x[t * d + i];
        const b = xHat[t * d + i];
        xx += a * a;
        hh += b * b;
        xh += a * b;
        rr += (a - b) * (a - b);
        vv += (a - mean[i]) * (a - mean[i]);
      }
      let l0 = 0, l1 = 0;
      for (let j = 0; j < this.dSae; j++) {
        const v = acts[t * this.dSae + j];
        if (v !== 0) l0++;
        l1 += Math.abs(v);
      }
      const nIn = Math.sqrt(xx);
      const nOut = Math.sqrt(hh);
      const s = this.sums;
      s.l0 += l0;
      s.l1 += l1;
      s.mse += rr;
      s.cossim += xh / (nIn * nOut); // NaN for a zero vector, as torch gives
      s.l2_norm_in += nIn;
      s.l2_norm_out += nOut;
      s.l2_ratio += nOut / (Math.abs(nIn) < 1e-4 ? 1 : nIn);
      s.explained_variance_legacy += 1 - rr / vv;
      this.sumSqNorm += xx;
      this.sumSqResid += rr;
      batchHatSq += hh;
      batchDot += xh;
    }
    this.rrbSum += batchHatSq / tokens / (batchDot / tokens);
    this.batches++;
    this.tokens += tokens;
  }

  get tokenCount(): number {
    return this.tokens;
  }

  result(): ReconstructionMetrics {
    const n = this.tokens;
    const out = Object.fromEntries(PER_TOKEN.map((k) => [k, n ? this.sums[k] / n : NaN])) as Record<(typeof PER_TOKEN)[number], number>;
    return { ...out, explained_variance: this.explainedVariance(), relative_reconstruction_bias: this.batches ? this.rrbSum / this.batches : NaN };
  }

  private explainedVariance(): number {
    const n = this.tokens;
    if (n === 0) return 0;
    let meanSq = 0;
    for (let i = 0; i < this.dIn; i++) meanSq += (this.sumX[i] / n) ** 2;
    const totalVariance = this.sumSqNorm / n - meanSq;
    const mse = this.sumSqResid / n;
    if (totalVariance < 1e-10) return mse < 1e-10 ? 1 : 0;
    return 1 - mse / totalVariance;
  }
}
