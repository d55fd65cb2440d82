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
import type { LossTerms, LossWorkspace, PickList, SaeGradients } from './loss-common.js';
import {
  addNormGradient, checkBatch, decodePicksAndMse, decoderNorms, encodeProduct, pickBackward, requireGrad,
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
  backend.addRowVector(ws.pre, bEnc, batch, d_sae);
  // f = ReLU(pre + b_enc) as an index list (its positive entries), and every later step visits only the
  // active entries (nnz of B·d_sae), never the dense grid again.
  const f: PickList = { idx: ws.topIdx, val: ws.topVal, k: backend.positiveEntries(ws.topIdx, ws.topVal, ws.pre, batch, d_sae) };
  let l1 = 0;
  for (let r = 0; r < batch * f.k; r++) l1 += f.val[r] * norms[f.idx[r]];
  const sparsity = (lambda * l1) / batch;
  const mse = decodePicksAndMse(sae, x, batch, f, ws, backend);

  // d L1 / d f_bj = λ‖W_dec_j‖/B, through the ReLU; d L1 / d‖W_dec_j‖ = λ Σ_b f_bj / B. d loss / d f
  // is one dot product dOut_b · W_dec_j per active entry (gatheredDots); the same loop sums b_enc's
  // gradient and counts firings (ws.fires).
  const d = ws.scratch.subarray(0, batch * f.k);
  backend.gatheredDots(d, ws.dOut, f.idx, batch, f.k, sae.weights.W_dec, d_in);
  const normCoef = ws.perLatent;
  normCoef.fill(0);
  gbEnc.fill(0);
  ws.fires.fill(0);
  let nnz = 0;
  for (let r = 0; r < batch * f.k; r++) {
    if (f.val[r] === 0) {
      d[r] = 0; // padding
      continue;
    }
    const j = f.idx[r];
    d[r] += (lambda * norms[j]) / batch;
    gbEnc[j] += d[r];
    normCoef[j] += (lambda * f.val[r]) / batch;
    ws.fires[j]++;
    nnz++;
  }
  pickBackward(sae, grads, batch, [{ idx: f.idx, k: f.k, act: f.val, dOut: ws.dOut, dPre: d }], gbEnc, ws, backend);
  addNormGradient(sae, grads, normCoef, norms);
  return { mse, sparsity, aux: 0, total: mse + sparsity, l0: nnz / batch };
}
