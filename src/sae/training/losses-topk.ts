/**
 * Training loss of the `topk` SAE (sae_lens/saes/topk_sae.py; Gao et al. 2024, "Scaling and
 * evaluating sparse autoencoders", AuxK in appendix A.2 / B.1):
 *   pre = sae_in · W_enc + b_enc,  h = pre ⊙ ‖W_dec‖ (rescale_acts_by_decoder_norm) or pre
 *   f   = ReLU(h) on each token's k largest h, 0 elsewhere;  x̂ = (f / ‖W_dec‖ or f) · W_dec + b_dec
 *   mse = mean_b Σ_i (x̂ − x)²
 *   aux = α · min(n_dead / k_aux, 1) · mean_b Σ_i (ê − e)²            (AuxK, only when n_dead > 0)
 *   e   = x − x̂ (detached),  ê = z · W_dec (no bias), z = h on each token's min(k_aux, n_dead)
 *         largest dead latents (not ReLU'd; divided by ‖W_dec‖ when rescaling), 0 elsewhere
 * With rescaling, f / ‖W_dec‖ = ReLU(pre) and z / ‖W_dec‖ = pre, so the decoder norms change which
 * latents are picked but carry no gradient (their derivative cancels exactly).
 */
import type { Backend } from '../../tensor/backend.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import { ShapeError, UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import { auxKPlan, checkBatch, decodeAndMse, decoderBackward, decoderNorms, dot, encodeProduct, encoderBackward, requireGrad } from './loss-common.js';

export interface TopKLossOptions {
  /** 1 for each latent counted as dead (no activation over the trainer's window); [d_sae]. Omitted: no AuxK. */
  deadMask?: Uint8Array;
  /** Dead latents used per token (default ⌊d_in / 2⌋, SAELens' heuristic from appendix B.1). */
  kAux?: number;
  /** α (default 1/32). */
  auxCoefficient?: number;
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function topKLoss(
  sae: Sae, x: Float32Array, batch: number, opts: TopKLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: Backend = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_in, d_sae } = sae.config;
  const k = sae.config.k;
  if (k === undefined || k < 1 || k > d_sae) throw new UsageError(`topk loss needs 1 ≤ k ≤ d_sae = ${d_sae}, got k = ${k}`);
  if (ws.picks.length < batch * k) throw new ShapeError(`loss workspace has room for ${ws.picks.length / batch} picks per token, topk needs k = ${k}`);
  const rescale = sae.config.rescale_acts_by_decoder_norm === true;
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', 'topk');
  const norms = decoderNorms(sae, ws);
  const dead = opts.deadMask;
  if (dead && dead.length !== d_sae) throw new UsageError(`deadMask has ${dead.length} entries, expected d_sae = ${d_sae}`);

  encodeProduct(sae, x, batch, ws, backend);
  // pre += b_enc row by row on the backend's add (SIMD, threaded: this is the one pass over the dense
  // [B, d_sae] grid); selection scores h are pre itself, or pre ⊙ ‖W_dec‖ in ws.scratch when rescaling.
  const h = rescale ? ws.scratch : ws.pre;
  for (let b = 0; b < batch; b++) {
    const o = b * d_sae;
    backend.addInPlace(ws.pre.subarray(o, o + d_sae), bEnc, d_sae);
    if (rescale) for (let j = 0; j < d_sae; j++) h[o + j] = ws.pre[o + j] * norms[j];
  }
  backend.topKRows(ws.picks, ws.topVal, h, batch, d_sae, k);
  // Rows 0..B of acts: ReLU(pre) on the selected latents (what f / ‖W_dec‖ decodes to when rescaling).
  // Everything below visits only the picks (B·k entries), not the dense [B, d_sae] grid.
  const { useAux, kAux, auxScale } = auxKPlan(dead, d_sae, d_in, opts);
  const rows = useAux ? 2 * batch : batch;
  ws.acts.fill(0, 0, rows * d_sae);
  ws.fires.fill(0);
  let active = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = b * k; r < (b + 1) * k; r++) {
      const j = ws.picks[r];
      const pre = ws.pre[b * d_sae + j];
      if (pre > 0) {
        ws.acts[b * d_sae + j] = pre;
        ws.fires[j]++;
        active++;
      }
    }
  }

  if (useAux && dead) {
    // Rows B..2B of acts: pre on each token's k_aux highest-scoring dead latents.
    const hDead = ws.scratch;
    for (let n = 0; n < batch * d_sae; n++) hDead[n] = dead[n % d_sae] ? h[n] : -Infinity;
    backend.topKRows(ws.topIdx, ws.topVal, hDead, batch, d_sae, kAux);
    for (let b = 0; b < batch; b++) {
      for (let r = b * kAux; r < (b + 1) * kAux; r++) {
        const j = ws.topIdx[r];
        ws.acts[(batch + b) * d_sae + j] = ws.pre[b * d_sae + j];
      }
    }
  }
  const mse = decodeAndMse(sae, x, batch, rows, batch, ws, backend);
  let aux = 0;
  if (useAux) {
    // ê − e = ê − (x − x̂); x̂ is a constant here (SAELens detaches the residual).
    const off = batch * d_in;
    for (let n = 0; n < batch * d_in; n++) {
      const diff = ws.out[off + n] - (x[n] - ws.out[n]);
      aux += diff * diff;
      ws.dOut[off + n] = (auxScale * 2 * diff) / batch;
    }
    aux = (auxScale * aux) / batch;
  }

  // d loss / d f is needed at the picks only: one d_in-long dot product dOut_b · W_dec_j each
  // (nnz·d_in multiply-adds, not the dense [rows, d_in]·[d_in, d_sae] product), written straight
  // into dPre (zero elsewhere) and summed into b_enc's gradient.
  decoderBackward(sae, grads, rows, batch, ws, backend, false);
  ws.dPre.fill(0);
  gbEnc.fill(0);
  const W = sae.weights.W_dec;
  for (let b = 0; b < batch; b++) {
    for (let r = b * k; r < (b + 1) * k; r++) {
      const j = ws.picks[r];
      const q = b * d_sae + j;
      if (ws.acts[q] > 0) {
        const g = dot(ws.dOut, b * d_in, W, j * d_in, d_in);
        ws.dPre[q] = g;
        gbEnc[j] += g;
      }
    }
    if (useAux) {
      // ws.topIdx holds the AuxK picks; z = pre there, so d z / d pre = 1.
      for (let r = b * kAux; r < (b + 1) * kAux; r++) {
        const j = ws.topIdx[r];
        const g = dot(ws.dOut, (batch + b) * d_in, W, j * d_in, d_in);
        ws.dPre[b * d_sae + j] += g;
        gbEnc[j] += g;
      }
    }
  }
  encoderBackward(sae, grads, batch, ws, backend, gbEnc);
  return { mse, sparsity: 0, aux, total: mse + aux, l0: active / batch };
}
