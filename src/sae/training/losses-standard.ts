/**
 * Training loss of the `standard` SAE (sae_lens/saes/standard_sae.py `calculate_aux_loss`, lp_norm 1):
 *   f  = ReLU(sae_in · W_enc + b_enc)                                  [B, d_sae]
 *   x̂  = f · W_dec + b_dec                                             [B, d_in]
 *   L  = mean_b Σ_i (x̂ − x)²  +  λ · mean_b Σ_j f_bj ‖W_dec_j‖
 * The decoder norms carry gradient into W_dec, as in SAELens (W_dec.norm is not detached).
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, PickList, SaeGradients } from './loss-common.js';
import {
  addNormGradient, checkBatch, decodePicksAndMse, decoderNorms, encodeProduct, encoderInput, FUSED_DECODER_MAX_WEIGHTS, FUSED_ENCODER_MAX_WEIGHTS, pickBackward, requireGrad, takesFused,
} from './loss-common.js';

/**
 * Default λ (also gated's), chosen on the embedded model's blocks.2.hook_resid_post (512 latents,
 * ~2000 steps, the shipped sweep): L1 2 reaches L0 19 with explained variance 0.81 (L1 5: L0 11 but 0.55).
 */
export const DEFAULT_L1_COEFFICIENT = 2;

export interface StandardLossOptions {
  /** λ, SAELens `l1_coefficient` (after any warm-up the trainer applies). */
  l1Coefficient: number;
  /** The encoder: 'fused' (SaeKernels.encodeRelu) or 'grid' (the [B, d_sae] pre-activations written out); default as topKLoss's. */
  encoder?: 'fused' | 'grid';
  /** The decoder's passes: as topKLoss's `decoder` option (default: fused up to FUSED_DECODER_MAX_WEIGHTS). */
  decoder?: 'fused' | 'separate';
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function standardLoss(
  sae: Sae, x: Float32Array, batch: number, opts: StandardLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_in, d_sae } = sae.config;
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', 'standard');
  const lambda = opts.l1Coefficient;
  const norms = decoderNorms(sae, ws);

  // f = ReLU(pre + b_enc) as an index list (its positive entries), and every later step visits only the
  // active entries (nnz of B·d_sae), never the dense grid again (with the fused encoder, not even once).
  let k: number;
  if (takesFused(opts.encoder, sae.config, FUSED_ENCODER_MAX_WEIGHTS)) {
    k = backend.encodeRelu(ws.topIdx, ws.topVal, encoderInput(sae, x, batch, ws, backend), sae.weights.W_enc, bEnc, batch, d_in, d_sae);
  } else {
    encodeProduct(sae, x, batch, ws, backend);
    backend.addRowVector(ws.pre, bEnc, batch, d_sae);
    k = backend.positiveEntries(ws.topIdx, ws.topVal, ws.pre, batch, d_sae);
  }
  const f: PickList = { idx: ws.topIdx, val: ws.topVal, k };
  // d L1 / d f_bj = λ‖W_dec_j‖/B, through the ReLU; d L1 / d‖W_dec_j‖ = λ Σ_b f_bj / B. d loss / d f
  // is one dot product dOut_b · W_dec_j per active entry; b_enc's gradient sums it, and the firing
  // counts (ws.fires) and Σ_b f_bj come with it.
  const d = ws.scratch.subarray(0, batch * f.k);
  const normCoef = ws.perLatent;
  ws.fires.fill(0);
  let mse: number;
  let l1 = 0;
  let nnz = 0;
  if (takesFused(opts.decoder, sae.config, FUSED_DECODER_MAX_WEIGHTS)) {
    const addend = ws.colSums; // λ‖W_dec_j‖/B per latent
    for (let j = 0; j < d_sae; j++) addend[j] = (lambda * norms[j]) / batch;
    const r = backend.sparseDecodeBackward(
      { out: ws.out, dOut: ws.dOut, dPre: d, gradDec: grads.W_dec, gradEncT: ws.gradEncT, gradBias: gbEnc, counts: ws.fires, actSums: normCoef },
      { idx: f.idx, act: f.val, rows: batch, k: f.k, x, saeIn: ws.saeIn, wDec: sae.weights.W_dec, bDec: sae.weights.b_dec, width: d_in, batch, dPreAddend: addend },
    );
    mse = r.sse / batch;
    nnz = r.active;
    for (let j = 0; j < d_sae; j++) {
      l1 += normCoef[j] * norms[j];
      normCoef[j] = (lambda * normCoef[j]) / batch;
    }
    pickBackward(sae, grads, batch, [], gbEnc, ws, backend, true);
  } else {
    for (let r = 0; r < batch * f.k; r++) l1 += f.val[r] * norms[f.idx[r]];
    mse = decodePicksAndMse(sae, x, batch, f, ws, backend);
    backend.gatheredDots(d, ws.dOut, f.idx, batch, f.k, sae.weights.W_dec, d_in);
    normCoef.fill(0);
    gbEnc.fill(0);
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
  }
  addNormGradient(sae, grads, normCoef, norms);
  const sparsity = (lambda * l1) / batch;
  return { mse, sparsity, aux: 0, total: mse + sparsity, l0: nnz / batch };
}
