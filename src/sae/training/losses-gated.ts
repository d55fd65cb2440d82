/**
 * Training loss of the `gated` SAE (sae_lens/saes/gated_sae.py `calculate_aux_loss`; Rajamanoharan
 * et al. 2024, "Improving Dictionary Learning with Gated Sparse Autoencoders", eq. 6–8):
 *   P      = sae_in · W_enc                                              [B, d_sae]
 *   π_gate = P + b_gate,   π_mag = P ⊙ exp(r_mag) + b_mag
 *   f      = H(π_gate) ⊙ ReLU(π_mag),   x̂ = f · W_dec + b_dec
 *   L      = mean_b Σ_i (x̂ − x)²
 *          + λ · mean_b Σ_j ReLU(π_gate)_bj · ‖W_dec_j‖                 (l1_loss)
 *          + mean_b Σ_i (ReLU(π_gate) · sg(W_dec) + sg(b_dec) − x)²    (auxiliary_reconstruction_loss)
 * sg = stop-gradient: the auxiliary path uses a frozen copy of the decoder (paper; current SAELens
 * detaches). H(π_gate) passes no gradient. Both the norm weighting and the freezing can be turned
 * off to match older SAELens releases.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import {
  addNormGradient, checkBatch, decodeAndMse, decoderBackward, decoderNorms, encodeProduct, encoderBackward, countFires, requireGrad,
} from './loss-common.js';

export interface GatedLossOptions {
  /** λ, SAELens `l1_coefficient`. */
  l1Coefficient: number;
  /** Weight the gate L1 by ‖W_dec_j‖ (default true, the paper and SAELens before 6.x). */
  weightL1ByDecoderNorm?: boolean;
  /** Stop gradients into W_dec and b_dec through the auxiliary reconstruction (default true). */
  freezeDecoderInAux?: boolean;
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function gatedLoss(
  sae: Sae, x: Float32Array, batch: number, opts: GatedLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_in, d_sae } = sae.config;
  const bGate = requireWeight(sae, 'b_gate');
  const bMag = requireWeight(sae, 'b_mag');
  const rMag = requireWeight(sae, 'r_mag');
  const gbGate = requireGrad(grads, 'b_gate', 'gated');
  const gbMag = requireGrad(grads, 'b_mag', 'gated');
  const grMag = requireGrad(grads, 'r_mag', 'gated');
  const lambda = opts.l1Coefficient;
  const weighted = opts.weightL1ByDecoderNorm ?? true;
  const frozen = opts.freezeDecoderInAux ?? true;
  const norms = decoderNorms(sae, ws);
  const scale = ws.perLatent;
  for (let j = 0; j < d_sae; j++) scale[j] = Math.exp(rMag[j]);

  encodeProduct(sae, x, batch, ws, backend);
  // Rows 0..B of acts: f; rows B..2B: ReLU(π_gate) for the auxiliary reconstruction.
  const off = batch * d_sae;
  let l1 = 0;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const gate = ws.pre[k] + bGate[j];
      const mag = ws.pre[k] * scale[j] + bMag[j];
      ws.acts[k] = gate > 0 && mag > 0 ? mag : 0;
      const gateAct = gate > 0 ? gate : 0;
      ws.acts[off + k] = gateAct;
      l1 += weighted ? gateAct * norms[j] : gateAct;
    }
  }
  const sparsity = (lambda * l1) / batch;
  const mse = decodeAndMse(sae, x, batch, 2 * batch, 2 * batch, ws, backend);
  let aux = 0;
  const xOff = batch * d_in;
  for (let n = 0; n < batch * d_in; n++) {
    const e = ws.out[xOff + n] - x[n];
    aux += e * e;
    ws.dOut[xOff + n] = (2 * e) / batch;
  }
  aux /= batch;

  // A frozen decoder takes gradient from the first B rows only; dActs covers all 2B rows either way.
  decoderBackward(sae, grads, frozen ? batch : 2 * batch, frozen ? batch : 2 * batch, ws, backend);
  if (frozen) backend.matmul(ws.dActs.subarray(off), ws.dOut.subarray(xOff), sae.weights.W_dec, batch, d_in, d_sae);
  const normCoef = ws.scratch.subarray(0, d_sae);
  normCoef.fill(0);
  gbMag.fill(0);
  grMag.fill(0);
  gbGate.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      const k = b * d_sae + j;
      const f = ws.acts[k];
      const gateAct = ws.acts[off + k];
      const dMag = f > 0 ? ws.dActs[k] : 0;
      const dGate = gateAct > 0 ? ws.dActs[off + k] + (lambda / batch) * (weighted ? norms[j] : 1) : 0;
      if (weighted) normCoef[j] += (lambda / batch) * gateAct;
      gbMag[j] += dMag;
      grMag[j] += dMag * ws.pre[k] * scale[j];
      gbGate[j] += dGate;
      ws.dPre[k] = dMag * scale[j] + dGate;
    }
  }
  if (weighted) addNormGradient(sae, grads, normCoef, norms);
  encoderBackward(sae, grads, batch, ws, backend);
  return { mse, sparsity, aux, total: mse + sparsity + aux, l0: countFires(ws, batch, d_sae) };
}
