/**
 * Training loss of the `standard` SAE (sae_lens/saes/standard_sae.py `calculate_aux_loss`, lp_norm 1):
 *   f  = ReLU(sae_in · W_enc + b_enc)                                  [B, d_sae]
 *   x̂  = f · W_dec + b_dec                                             [B, d_in]
 *   L  = mean_b Σ_i (x̂ − x)²  +  λ · mean_b Σ_j f_bj ‖W_dec_j‖
 * The decoder norms carry gradient into W_dec, as in SAELens (W_dec.norm is not detached).
 */
import type { Backend } from '../../tensor/backend.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import {
  addNormGradient, checkBatch, decodeAndMse, decoderBackward, decoderNorms, encodeProduct, encoderBackward, meanL0, requireGrad, sumRows,
} from './loss-common.js';

export interface StandardLossOptions {
  /** λ, SAELens `l1_coefficient` (after any warm-up the trainer applies). */
  l1Coefficient: number;
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function standardLoss(
  sae: Sae, x: Float32Array, batch: number, opts: StandardLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: Backend = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_sae } = sae.config;
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', 'standard');
  const lambda = opts.l1Coefficient;
  const norms = decoderNorms(sae, ws);

  encodeProduct(sae, x, batch, ws, backend);
  let l1 = 0;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const pre = ws.pre[b * d_sae + j] + bEnc[j];
      const f = pre > 0 ? pre : 0;
      ws.acts[b * d_sae + j] = f;
      l1 += f * norms[j];
    }
  }
  const sparsity = (lambda * l1) / batch;
  const mse = decodeAndMse(sae, x, batch, batch, batch, ws, backend);

  decoderBackward(sae, grads, batch, batch, ws, backend);
  // d L1 / d f_bj = λ‖W_dec_j‖/B, through the ReLU; d L1 / d‖W_dec_j‖ = λ Σ_b f_bj / B.
  const normCoef = ws.perLatent;
  normCoef.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const f = ws.acts[k];
      ws.dPre[k] = f > 0 ? ws.dActs[k] + (lambda * norms[j]) / batch : 0;
      normCoef[j] += (lambda * f) / batch;
    }
  }
  addNormGradient(sae, grads, normCoef, norms);
  sumRows(gbEnc, ws.dPre, batch, d_sae);
  encoderBackward(sae, grads, batch, ws, backend);
  return { mse, sparsity, aux: 0, total: mse + sparsity, l0: meanL0(ws.acts, batch, d_sae) };
}
