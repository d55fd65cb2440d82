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
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import { encodeTopKOnGrid } from '../../tensor/encode-topk-grid.js';
import { ShapeError, UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, PickBackward, SaeGradients } from './loss-common.js';
import { auxKPlan, checkBatch, decodePicksAndMse, decoderNorms, encoderInput, FUSED_DECODER_MAX_WEIGHTS, FUSED_ENCODER_MAX_WEIGHTS, pickBackward, requireGrad, takesFused } from './loss-common.js';

export interface TopKLossOptions {
  /** 1 for each latent counted as dead (no activation over the trainer's window); [d_sae]. Omitted: no AuxK. */
  deadMask?: Uint8Array;
  /** Dead latents used per token (default ⌊d_in / 2⌋, SAELens' heuristic from appendix B.1). */
  kAux?: number;
  /** α (default 1/32). */
  auxCoefficient?: number;
  /**
   * How the picks are found: 'fused' (SaeKernels.encodeTopK), or 'grid' (the [B, d_sae] pre-activations
   * written out and ranked). Both give the same picks and values; default: fused up to
   * FUSED_ENCODER_MAX_WEIGHTS encoder weights.
   */
  encoder?: 'fused' | 'grid';
  /**
   * How the decoder's forward and backward run: 'fused' (SaeKernels.sparseDecodeBackward) or
   * 'separate' (one kernel per step, picks sorted by latent for the weight gradients). The same
   * results up to float rounding; default: fused up to FUSED_DECODER_MAX_WEIGHTS decoder weights.
   */
  decoder?: 'fused' | 'separate';
}

/** Loss terms of batch x [B, d_in]; every gradient buffer is overwritten with d total / d weight. */
export function topKLoss(
  sae: Sae, x: Float32Array, batch: number, opts: TopKLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): LossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_in, d_sae } = sae.config;
  const k = sae.config.k;
  if (k === undefined || k < 1 || k > d_sae) throw new UsageError(`topk loss needs 1 ≤ k ≤ d_sae = ${d_sae}, got k = ${k}`);
  if (ws.picks.length < batch * k) throw new ShapeError(`loss workspace has room for ${ws.picks.length / batch} picks per token, topk needs k = ${k}`);
  const rescale = sae.config.rescale_acts_by_decoder_norm === true;
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', 'topk');
  const dead = opts.deadMask;
  if (dead && dead.length !== d_sae) throw new UsageError(`deadMask has ${dead.length} entries, expected d_sae = ${d_sae}`);

  const { useAux, kAux, auxScale } = auxKPlan(dead, d_sae, d_in, opts);
  // AuxK: z = pre at each token's k_aux highest-scoring dead latents (ws.topIdx), ranked over only
  // the dead latents' columns, in index order, so ties still go to the lower latent index as they
  // would over the full row. z and its gradient live in ws.scratch ([B, k_aux] each; 2·k_aux ≤ d_sae).
  const z = ws.scratch.subarray(0, batch * kAux);
  const dz = ws.scratch.subarray(batch * kAux, 2 * batch * kAux);
  const deadCols = useAux && dead ? Int32Array.from(dead.keys()).filter((j) => dead[j]) : new Int32Array(0);
  // Each token's k picks by score h (pre, or pre ⊙ ‖W_dec‖ when rescaling) and pre there (ws.pickAct).
  const encodeOpts = { scale: rescale ? decoderNorms(sae, ws) : undefined, aux: useAux ? { cols: deadCols, k: kAux, idx: ws.topIdx, pre: z } : undefined };
  const sIn = encoderInput(sae, x, batch, ws, backend);
  const W_enc = sae.weights.W_enc;
  if (takesFused(opts.encoder, sae.config, FUSED_ENCODER_MAX_WEIGHTS)) {
    backend.encodeTopK({ idx: ws.picks, pre: ws.pickAct }, sIn, W_enc, bEnc, batch, d_in, d_sae, k, encodeOpts);
  } else {
    // The grid in ws.pre, scores in ws.scratch (read before z, which shares it, is written); the
    // dead latents' scores gathered into ws.dPre, unused by this loss.
    const grid = { pre: ws.pre, scores: ws.scratch, vals: ws.topVal, gathered: ws.dPre, auxVals: ws.topVal };
    encodeTopKOnGrid(backend, { idx: ws.picks, pre: ws.pickAct }, sIn, W_enc, bEnc, batch, d_in, d_sae, k, encodeOpts, grid);
  }
  // From here on only the picks are touched (Gao et al. 2024 §5.1): f = ReLU(pre) at each token's k
  // picks (what f / ‖W_dec‖ decodes to when rescaling), as an index list the sparse kernels read; and
  // d loss / d pre there, one d_in-long dot product dOut_b · W_dec_j each, zero where ReLU is off.
  const picks = ws.picks;
  const f = ws.pickAct;
  const df = ws.pickGrad;
  const W = sae.weights.W_dec;
  const fusedDecoder = takesFused(opts.decoder, sae.config, FUSED_DECODER_MAX_WEIGHTS);
  ws.fires.fill(0);
  let mse: number;
  let active: number;
  if (fusedDecoder) {
    const r = backend.sparseDecodeBackward(
      { out: ws.out, dOut: ws.dOut, dPre: df, gradDec: grads.W_dec, gradEncT: ws.gradEncT, gradBias: gbEnc, counts: ws.fires },
      { idx: picks, act: f, rows: batch, k, x, saeIn: ws.saeIn, wDec: W, bDec: sae.weights.b_dec, width: d_in, batch },
    );
    mse = r.sse / batch;
    active = r.active;
  } else {
    active = backend.reluPicks(f, picks, batch * k, ws.fires);
    mse = decodePicksAndMse(sae, x, batch, { idx: picks, val: f, k }, ws, backend);
    backend.gatheredDots(df, ws.dOut, picks, batch, k, W, d_in);
    gbEnc.fill(0);
    backend.scatterAddPicks(gbEnc, picks, df, batch * k, f);
  }
  // The lists whose weight gradients are still to be scattered (the fused kernel has done the main one's).
  const lists: PickBackward[] = fusedDecoder ? [] : [{ idx: picks, k, act: f, dOut: ws.dOut, dPre: df }];

  const auxOff = batch * d_in;
  let aux = 0;
  if (useAux) {
    // ê − e = ê − (x − x̂); x̂ is a constant here (SAELens detaches the residual).
    // Element-wise passes on the backend (a JavaScript loop over B·d_in was 8% of the 64 × 1024 step):
    // e into dOutAux, then Σ (ê − e)² with its gradient written over e, then scaled by auxScale.
    const outAux = ws.out.subarray(auxOff, 2 * auxOff);
    const dOutAux = ws.dOut.subarray(auxOff, 2 * auxOff);
    backend.gatherRows(outAux, ws.topIdx, z, batch, kAux, W, d_in);
    backend.scaleInto(dOutAux, ws.out, -1, auxOff);
    backend.addInPlace(dOutAux, x, auxOff);
    aux = (auxScale * backend.squaredError(dOutAux, outAux, dOutAux, auxOff, batch)) / batch;
    backend.scaleInto(dOutAux, dOutAux, auxScale, auxOff);
    // z is not ReLU'd: d z / d pre = 1.
    backend.gatheredDots(dz, dOutAux, ws.topIdx, batch, kAux, W, d_in);
    backend.scatterAddPicks(gbEnc, ws.topIdx, dz, batch * kAux, null);
    lists.push({ idx: ws.topIdx, k: kAux, act: z, dOut: dOutAux, dPre: dz });
  }
  pickBackward(sae, grads, batch, lists, gbEnc, ws, backend, fusedDecoder);
  return { mse, sparsity: 0, aux, total: mse + aux, l0: active / batch };
}
