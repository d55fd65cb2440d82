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
  addNormGradient, checkBatch, decodeAndMse, decoderBackward, decoderNorms, dot, encodeProduct, encoderBackward, requireGrad,
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
  const { d_in, d_sae } = sae.config;
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', 'standard');
  const lambda = opts.l1Coefficient;
  const norms = decoderNorms(sae, ws);

  encodeProduct(sae, x, batch, ws, backend);
  // f = ReLU(pre + b_enc); the active entries' flat indices go to ws.topIdx (ascending), and every
  // later step visits only them (nnz of B·d_sae), never the dense grid again.
  const on = ws.topIdx;
  let nnz = 0;
  let l1 = 0;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const pre = ws.pre[k] + bEnc[j];
      if (pre > 0) {
        ws.acts[k] = pre;
        l1 += pre * norms[j];
        on[nnz++] = k;
      } else {
        ws.acts[k] = 0;
      }
    }
  }
  const sparsity = (lambda * l1) / batch;
  const mse = decodeAndMse(sae, x, batch, batch, batch, ws, backend);

  decoderBackward(sae, grads, batch, batch, ws, backend, false);
  // d L1 / d f_bj = λ‖W_dec_j‖/B, through the ReLU; d L1 / d‖W_dec_j‖ = λ Σ_b f_bj / B. d loss / d f
  // is one dot product dOut_b · W_dec_j per active entry; the same loop sums b_enc's gradient
  // (Σ_b dPre, in ascending b) and counts firings (ws.fires).
  const W = sae.weights.W_dec;
  const normCoef = ws.perLatent;
  normCoef.fill(0);
  gbEnc.fill(0);
  ws.fires.fill(0);
  ws.dPre.fill(0, 0, batch * d_sae);
  for (let n = 0; n < nnz; n++) {
    const k = on[n];
    const b = Math.floor(k / d_sae);
    const j = k - b * d_sae;
    const d = Math.fround(dot(ws.dOut, b * d_in, W, j * d_in, d_in)) + (lambda * norms[j]) / batch; // as a float32 dActs entry
    ws.dPre[k] = d;
    gbEnc[j] += d;
    normCoef[j] += (lambda * ws.acts[k]) / batch;
    ws.fires[j]++;
  }
  addNormGradient(sae, grads, normCoef, norms);
  encoderBackward(sae, grads, batch, ws, backend, gbEnc);
  return { mse, sparsity, aux: 0, total: mse + sparsity, l0: nnz / batch };
}
