/**
 * Training loss of the `jumprelu` SAE (sae_lens/saes/jumprelu_sae.py; Rajamanoharan et al. 2024,
 * "Jumping Ahead: Improving Reconstruction Fidelity with JumpReLU Sparse Autoencoders"):
 *   pre = sae_in · W_enc + b_enc,  t = ReLU(θ),  f = pre · H(pre − t)          [B, d_sae]
 *   x̂   = f · W_dec + b_dec
 *   L   = mean_b Σ_i (x̂ − x)² + λ · mean_b S_b
 *   S_b = Σ_j H(pre_bj − t_j)                       ("step", DeepMind's L0)
 *       = Σ_j tanh(c · f_bj · ‖W_dec_j‖)            ("tanh", Anthropic's)
 * Straight-through estimator with the rectangle kernel K(u) = 1[|u| < 1/2] and bandwidth ε:
 *   ∂f/∂t ≈ −(t/ε) K((pre − t)/ε),   ∂H(pre − t)/∂t ≈ −(1/ε) K((pre − t)/ε),
 *   ∂f/∂pre = H(pre − t) (no STE towards the input), ∂H/∂pre = 0 (SAELens `Step` passes nothing to x).
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import {
  addNormGradient, checkBatch, decodeAndMse, decoderBackward, decoderNorms, encodeProduct, encoderBackward, countFires, requireGrad,
} from './loss-common.js';

export const JUMPRELU_SPARSITY_MODES = ['step', 'tanh'] as const;
export type JumpReluSparsityMode = (typeof JUMPRELU_SPARSITY_MODES)[number];

/**
 * The sparsity penalty trained by default: "tanh" (Anthropic's, SAELens
 * `jumprelu_sparsity_loss_mode="tanh"`), not "step". The step L0 reaches only θ (its straight-through
 * estimator passes nothing to the encoder), and Adam moves θ by about lr per step whatever the
 * coefficient, while the encoder, trained by the MSE, grows the pre-activations faster than θ rises;
 * so at a few thousand steps the step coefficient hardly moves L0 (coefficients 1 to 100 all gave
 * L0 ≈ 53 on the embedded model). The tanh penalty's gradient reaches the activations and the
 * decoder norms, and its coefficient sets L0 (0.3 → L0 25, 1 → 8.5, 3 → 2 there).
 */
export const DEFAULT_JUMPRELU_MODE: JumpReluSparsityMode = 'tanh';

/**
 * Default λ, chosen on the embedded model's blocks.2.hook_resid_post (512 latents, ~2000 steps, the
 * shipped sweep): with tanh, 0.3 reaches L0 26 with explained variance 0.92 and 10% dead latents
 * (at 1, L0 9 but 62% dead).
 */
export const DEFAULT_L0_COEFFICIENT = 0.3;

/** ε, SAELens' default `jumprelu_bandwidth`. */
export const DEFAULT_JUMPRELU_BANDWIDTH = 0.05;

export interface JumpReluLossOptions {
  /** λ, SAELens `l0_coefficient`. */
  l0Coefficient: number;
  /** ε, SAELens `jumprelu_bandwidth` (default 0.05). */
  bandwidth: number;
  /** SAELens `jumprelu_sparsity_loss_mode` (default "step"). */
  mode: JumpReluSparsityMode;
  /** c, SAELens `jumprelu_tanh_scale` (default 4), used by "tanh". */
  tanhScale?: number;
}

/** The rectangle kernel K(u) = 1[−1/2 < u < 1/2] (SAELens `rectangle`). */
export function rectangle(u: number): number {
  return u > -0.5 && u < 0.5 ? 1 : 0;
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function jumpReluLoss(
  sae: Sae, x: Float32Array, batch: number, opts: JumpReluLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_sae } = sae.config;
  const bEnc = requireWeight(sae, 'b_enc');
  const theta = requireWeight(sae, 'threshold');
  const gbEnc = requireGrad(grads, 'b_enc', 'jumprelu');
  const gTheta = requireGrad(grads, 'threshold', 'jumprelu');
  const { l0Coefficient: lambda, bandwidth: eps, mode } = opts;
  const c = opts.tanhScale ?? 4;
  const norms = decoderNorms(sae, ws);

  encodeProduct(sae, x, batch, ws, backend);
  // ws.scratch keeps pre (with bias) for the backward pass.
  let s = 0;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const pre = ws.pre[k] + bEnc[j];
      const t = theta[j] > 0 ? theta[j] : 0;
      const f = pre > t ? pre : 0;
      ws.scratch[k] = pre;
      ws.acts[k] = f;
      s += mode === 'step' ? (pre > t ? 1 : 0) : Math.tanh(c * f * norms[j]);
    }
  }
  const sparsity = (lambda * s) / batch;
  const mse = decodeAndMse(sae, x, batch, batch, batch, ws, backend);

  decoderBackward(sae, grads, batch, batch, ws, backend);
  const normCoef = ws.perLatent;
  normCoef.fill(0);
  gTheta.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const pre = ws.scratch[k];
      const f = ws.acts[k];
      const t = theta[j] > 0 ? theta[j] : 0;
      let dF = ws.dActs[k];
      if (mode === 'tanh') {
        const th = Math.tanh(c * f * norms[j]);
        const dTanh = ((lambda / batch) * c * (1 - th * th));
        dF += dTanh * norms[j];
        normCoef[j] += dTanh * f;
      }
      const kern = rectangle((pre - t) / eps);
      let dT = dF * -(t / eps) * kern;
      if (mode === 'step') dT += (lambda / batch) * -(1 / eps) * kern;
      gTheta[j] += dT;
      ws.dPre[k] = pre > t ? dF : 0;
    }
  }
  // t = ReLU(θ): the threshold gradient passes only where θ > 0 (torch's relu gives 0 at 0).
  for (let j = 0; j < d_sae; j++) if (!(theta[j] > 0)) gTheta[j] = 0;
  if (mode === 'tanh') addNormGradient(sae, grads, normCoef, norms);
  backend.columnSums(gbEnc, ws.dPre, batch, d_sae);
  encoderBackward(sae, grads, batch, ws, backend, gbEnc);
  return { mse, sparsity, aux: 0, total: mse + sparsity, l0: countFires(ws, batch, d_sae) };
}
