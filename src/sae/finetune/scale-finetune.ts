/**
 * Scale fine-tuning against feature suppression (Wright & Sharkey 2024, "Addressing Feature
 * Suppression in SAEs"): an L1 penalty shrinks latent activations, so the reconstruction falls short
 * of the input (l2_ratio < 1). With the encoder frozen, a per-latent scale s (init 1) is learned
 * between encoder and decoder, with the reconstruction loss only:
 *   x̂ = (s ⊙ f(x)) · W_dec + b_dec,   L = mean over tokens of Σ_i (x̂ − x)²   (as the trainer's MSE)
 * optionally also training W_dec and b_dec. Everything runs in the SAE's internal space (after its
 * run-time normalisation, the space the SAE was trained in). The result folds into an ordinary SAE of
 * the same architecture: W_dec row j scaled by s_j (and, when b_dec moved and the encoder subtracts
 * it from its input, the encoder biases shifted so that the encoder is exactly unchanged).
 *
 * Gradients (hand-written; G = ∂L/∂x̂ = 2(x̂ − x)/B, a the frozen activations):
 *   ∂L/∂s_j = Σ_t a_tj · (G_t · W_dec[j])   ∂L/∂W_dec[j] = Σ_t s_j a_tj G_t   ∂L/∂b_dec = Σ_t G_t
 * computed over the nonzero activations only (SAE activations are sparse).
 */
import { ShapeError, UsageError } from '../../errors.js';
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import { normalizeIn } from '../activation-norm.js';
import { architectureByName } from '../architecture-registry.js';
import type { Sae, SaeWeights } from '../sae.js';
import { encodeWithNorm } from '../sae-forward.js';
import { Adam } from '../training/adam.js';

export interface ScaleParams {
  /** Per-latent scale [d_sae]. */
  scale: Float32Array;
  /** [d_sae, d_in] */
  W_dec: Float32Array;
  /** [d_in] */
  b_dec: Float32Array;
}

export interface ScaleGrads {
  scale: Float32Array;
  /** Filled only when given (decoder training). */
  W_dec?: Float32Array;
  b_dec?: Float32Array;
}

/**
 * The loss L = (1/B) Σ_t ‖(s ⊙ a_t)·W_dec + b_dec − x_t‖² of activations `acts` [B, d_sae] against
 * targets `target` [B, d_in] (internal space). When `grads` is given, its buffers are overwritten
 * with ∂L/∂ (scale always; W_dec and b_dec when present).
 */
export function scaleFinetuneLoss(
  acts: Float32Array,
  target: Float32Array,
  tokens: number,
  p: ScaleParams,
  grads?: ScaleGrads,
): number {
  const d_sae = p.scale.length;
  const d_in = p.b_dec.length;
  if (acts.length !== tokens * d_sae) throw new ShapeError(`activations have ${acts.length} values, expected [${tokens}, ${d_sae}]`);
  if (target.length !== tokens * d_in) throw new ShapeError(`targets have ${target.length} values, expected [${tokens}, ${d_in}]`);
  if (p.W_dec.length !== d_sae * d_in) throw new ShapeError(`W_dec has ${p.W_dec.length} values, expected [${d_sae}, ${d_in}]`);
  if (tokens === 0) throw new UsageError('scale fine-tuning needs at least one token');
  const { scale: s, W_dec: W, b_dec: b } = p;
  if (grads) {
    grads.scale.fill(0);
    grads.W_dec?.fill(0);
    grads.b_dec?.fill(0);
  }
  const active = new Int32Array(d_sae);
  const r = new Float64Array(d_in);
  const g = new Float32Array(d_in);
  const inv = 2 / tokens;
  let loss = 0;
  for (let t = 0; t < tokens; t++) {
    const aRow = t * d_sae;
    let nActive = 0;
    for (let j = 0; j < d_sae; j++) if (acts[aRow + j] !== 0) active[nActive++] = j;
    for (let i = 0; i < d_in; i++) r[i] = b[i] - target[t * d_in + i];
    for (let n = 0; n < nActive; n++) {
      const j = active[n];
      const z = s[j] * acts[aRow + j];
      const w = j * d_in;
      for (let i = 0; i < d_in; i++) r[i] += z * W[w + i];
    }
    for (let i = 0; i < d_in; i++) loss += r[i] * r[i];
    if (!grads) continue;
    for (let i = 0; i < d_in; i++) g[i] = inv * r[i];
    if (grads.b_dec) for (let i = 0; i < d_in; i++) grads.b_dec[i] += g[i];
    for (let n = 0; n < nActive; n++) {
      const j = active[n];
      const a = acts[aRow + j];
      const w = j * d_in;
      let dot = 0;
      for (let i = 0; i < d_in; i++) dot += g[i] * W[w + i];
      grads.scale[j] += a * dot;
      if (grads.W_dec) {
        const z = s[j] * a;
        for (let i = 0; i < d_in; i++) grads.W_dec[w + i] += z * g[i];
      }
    }
  }
  return loss / tokens;
}

/**
 * The ordinary SAE (same architecture, same encoder behaviour) equal to `sae` with a per-latent scale
 * before decoding and, optionally, a new decoder: W_dec[j] ← scale_j · W_dec[j]. When `b_dec` changed
 * and the SAE subtracts b_dec from its input, the encoder biases absorb the change (b_enc, or b_gate
 * and b_mag·e^{r_mag}-scaled for gated) so that encode is unchanged. Copies; `sae` is untouched.
 */
export function foldScale(sae: Sae, scale: Float32Array, W_dec: Float32Array = sae.weights.W_dec, b_dec: Float32Array = sae.weights.b_dec): Sae {
  const { d_in, d_sae } = sae.config;
  if (scale.length !== d_sae) throw new ShapeError(`scale has ${scale.length} values, expected ${d_sae}`);
  assertFoldable(sae);
  const weights = Object.fromEntries(Object.entries(sae.weights).map(([k, v]) => [k, v?.slice()])) as unknown as SaeWeights;
  const Wd = new Float32Array(d_sae * d_in);
  for (let j = 0; j < d_sae; j++) for (let i = 0; i < d_in; i++) Wd[j * d_in + i] = scale[j] * W_dec[j * d_in + i];
  weights.W_dec = Wd;
  weights.b_dec = b_dec.slice();
  if (sae.config.apply_b_dec_to_input) {
    // pre = (x − b_dec)·W_enc + bias: keep it by bias += (b_dec_new − b_dec_old)·W_enc.
    const shift = new Float64Array(d_sae);
    const old = sae.weights.b_dec;
    const W_enc = sae.weights.W_enc;
    let moved = false;
    for (let i = 0; i < d_in; i++) {
      const delta = b_dec[i] - old[i];
      if (delta === 0) continue;
      moved = true;
      for (let j = 0; j < d_sae; j++) shift[j] += delta * W_enc[i * d_sae + j];
    }
    if (moved) {
      if (weights.b_enc) for (let j = 0; j < d_sae; j++) weights.b_enc[j] += shift[j];
      if (weights.b_gate) for (let j = 0; j < d_sae; j++) weights.b_gate[j] += shift[j];
      if (weights.b_mag) {
        const rMag = weights.r_mag;
        for (let j = 0; j < d_sae; j++) weights.b_mag[j] += shift[j] * (rMag ? Math.exp(rMag[j]) : 1);
      }
    }
  }
  return {
    config: { ...sae.config, metadata: { ...sae.config.metadata }, extra: { ...sae.config.extra } },
    weights,
    ...(sae.sparsity ? { sparsity: sae.sparsity.slice() } : {}),
  };
}

/** Refuses SAEs whose encoder reads W_dec (topk with rescale_acts_by_decoder_norm): freezing it would be impossible. */
function assertFoldable(sae: Sae): void {
  if (architectureByName(sae.config.architecture).decodeScale?.(sae) !== undefined) {
    throw new UsageError(`scale fine-tuning needs an encoder independent of W_dec; this ${sae.config.architecture} SAE rescales activations by decoder norms`);
  }
}

export interface ScaleFinetuneOptions {
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Also train W_dec and b_dec (default false: the scale only). */
  decoder?: boolean;
  backend?: SaeKernels;
}

export interface ScaleStepStats {
  step: number;
  tokens: number;
  /** The batch's loss before this step's update (sum over d_in, mean over tokens, internal space). */
  mse: number;
}

/** Adam over the scale (and optionally the decoder) of a frozen-encoder SAE; feed it batches of raw activations. */
export class ScaleFinetuner {
  readonly params: ScaleParams;
  readonly decoder: boolean;
  readonly lr: number;
  step = 0;
  tokens = 0;
  private readonly grads: ScaleGrads;
  private readonly adam: Adam;
  private readonly backend: SaeKernels;

  constructor(readonly sae: Sae, o: ScaleFinetuneOptions = {}) {
    assertFoldable(sae);
    this.decoder = o.decoder ?? false;
    this.lr = o.lr ?? 1e-3;
    if (!(this.lr > 0) || !Number.isFinite(this.lr)) throw new UsageError(`learning rate must be a positive number, got ${this.lr}`);
    this.backend = o.backend ?? activeBackend();
    const { d_in, d_sae } = sae.config;
    this.params = { scale: new Float32Array(d_sae).fill(1), W_dec: sae.weights.W_dec.slice(), b_dec: sae.weights.b_dec.slice() };
    this.grads = { scale: new Float32Array(d_sae) };
    const trained = [this.params.scale];
    if (this.decoder) {
      this.grads.W_dec = new Float32Array(d_sae * d_in);
      this.grads.b_dec = new Float32Array(d_in);
      trained.push(this.params.W_dec, this.params.b_dec);
    }
    this.adam = new Adam(trained);
  }

  /** Frozen activations [T, d_sae] and internal-space targets [T, d_in] of raw activations x [T, d_in]. */
  prepare(x: Float32Array, tokens: number): { acts: Float32Array; target: Float32Array } {
    // The encoder is the original SAE's (its b_dec included), whatever the decoder becomes.
    const { acts } = encodeWithNorm(this.sae, x, tokens, this.backend);
    const target = x.slice(0, tokens * this.sae.config.d_in);
    normalizeIn(this.sae.config, target, tokens);
    return { acts, target };
  }

  /** One Adam step on a batch of raw activations x [T, d_in]. */
  trainStep(x: Float32Array): ScaleStepStats {
    const d_in = this.sae.config.d_in;
    if (x.length % d_in !== 0) throw new ShapeError(`batch has ${x.length} values, not a multiple of d_in ${d_in}`);
    const tokens = x.length / d_in;
    const { acts, target } = this.prepare(x, tokens);
    const mse = scaleFinetuneLoss(acts, target, tokens, this.params, this.grads);
    const g = this.decoder ? [this.grads.scale, this.grads.W_dec!, this.grads.b_dec!] : [this.grads.scale];
    this.adam.step(g, this.lr);
    this.step++;
    this.tokens += tokens;
    return { step: this.step, tokens: this.tokens, mse };
  }

  /** The fine-tuned SAE, scale folded into W_dec: an ordinary SAE of the same architecture. */
  result(): Sae {
    const out = foldScale(this.sae, this.params.scale, this.params.W_dec, this.params.b_dec);
    out.config.extra = { ...out.config.extra, scale_finetune: { tokens: this.tokens, steps: this.step, lr: this.lr, decoder: this.decoder } };
    return out;
  }
}

export interface FinetuneScaleRunOptions extends ScaleFinetuneOptions {
  /** Stop after this many tokens. */
  tokens: number;
  onStep?: (s: ScaleStepStats) => void;
}

export interface FinetuneScaleRun {
  sae: Sae;
  scale: Float32Array;
  steps: number;
  tokens: number;
  firstMse: number;
  lastMse: number;
}

/** Fine-tunes `sae` on `batches` of raw activations [T, d_in] until `tokens` tokens have been seen. */
export function finetuneScale(sae: Sae, batches: Iterable<Float32Array>, o: FinetuneScaleRunOptions): FinetuneScaleRun {
  const ft = new ScaleFinetuner(sae, o);
  let firstMse = NaN;
  let lastMse = NaN;
  for (const x of batches) {
    if (ft.tokens >= o.tokens) break;
    if (x.length === 0) continue;
    const s = ft.trainStep(x);
    if (s.step === 1) firstMse = s.mse;
    lastMse = s.mse;
    o.onStep?.(s);
  }
  if (ft.step === 0) throw new UsageError('scale fine-tuning got no activations');
  return { sae: ft.result(), scale: ft.params.scale.slice(), steps: ft.step, tokens: ft.tokens, firstMse, lastMse };
}
