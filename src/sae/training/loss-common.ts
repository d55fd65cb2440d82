/**
 * Shared pieces of the SAE training losses: gradient buffers shaped like the weights, a preallocated
 * workspace, and the encoder/decoder forward and backward products every architecture uses.
 *
 * Conventions (SAELens sae_lens/saes/sae.py `TrainingSAE.training_forward_pass`):
 *   sae_in = x − b_dec (when apply_b_dec_to_input)       x [B, d_in], already normalised by the trainer
 *   mse    = Σ_i (x̂ − x)² summed over d_in, averaged over the batch
 *   total  = mse + sparsity + aux
 * Every product runs on the backend's kernels: matmulNN (a·b), matmul (x·wᵀ), matmulTN (aᵀ·b).
 */
import { totalmem } from 'node:os';
import { ShapeError, UsageError } from '../../errors.js';
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeConfig } from '../sae-config.js';
import type { Sae, SaeWeights } from '../sae.js';

/** d loss / d weight, one buffer per weight the SAE has, shaped as the weight. */
export type SaeGradients = SaeWeights;

export interface LossTerms {
  /** Reconstruction: squared error summed over d_in, mean over the batch (SAELens mse_loss). */
  mse: number;
  /** The architecture's sparsity penalty, coefficient included (l1_loss / l0_loss). */
  sparsity: number;
  /** The auxiliary loss, coefficient included (AuxK, gated auxiliary reconstruction); 0 if none. */
  aux: number;
  total: number;
  /** Mean number of non-zero activations per token (not part of the loss). */
  l0: number;
}

/**
 * Scratch buffers for one batch size, allocated once (hot loops allocate nothing). Rows B..2B of the
 * stacked buffers hold a second path (AuxK, the gated auxiliary reconstruction) so that one kernel
 * call serves both. The dense losses (gated, jumprelu, batchtopk) leave the batch's activations in
 * `acts`; topk and standard keep theirs as index lists (PickList) and never fill `acts`.
 */
export interface LossWorkspace {
  readonly batch: number;
  readonly saeIn: Float32Array; // [B, d_in]
  readonly pre: Float32Array; // [B, d_sae] encoder product sae_in · W_enc (no bias)
  readonly acts: Float32Array; // [2B, d_sae] activations; rows B.. the second path's
  readonly out: Float32Array; // [2B, d_in] reconstructions
  readonly dOut: Float32Array; // [2B, d_in] d loss / d reconstruction
  readonly dActs: Float32Array; // [2B, d_sae] d loss / d activations
  readonly dPre: Float32Array; // [B, d_sae] d loss / d encoder product
  readonly dBDecEnc: Float32Array; // [d_in] b_dec's gradient through the encoder (negated)
  readonly scratch: Float32Array; // [B, d_sae]
  readonly topIdx: Int32Array; // [B, d_sae] room for any k
  readonly topVal: Float32Array; // [B, d_sae]
  readonly picks: Int32Array; // [B, k] topk: each token's selected latents (topIdx then holds the AuxK picks)
  readonly pickAct: Float32Array; // [B, k] topk: the activation at each pick
  readonly pickGrad: Float32Array; // [B, k] topk: d loss / d pre at each pick
  readonly norms: Float32Array; // [d_sae] ‖W_dec row‖
  readonly perLatent: Float32Array; // [d_sae] per-latent scratch
  readonly colSums: Float32Array; // [d_sae] Σ_b dPre[b, ·]
  readonly gradEncT: Float32Array; // [d_sae, d_in] the W_enc gradient, transposed
  /** [d_sae] tokens of the batch each latent fired on (> 0), written by countFires for dead-latent tracking. */
  readonly fires: Int32Array;
}

/**
 * Refuses a training run whose arrays alone would not fit in this machine's memory, before any is
 * allocated: a typed array of billions of floats is created lazily and only fails (or brings in the
 * OOM killer) once touched, deep inside the first step. The count is a floor: the weights and
 * their gradients, Adam's two moments and the transposed encoder gradient (9·d_sae·d_in), and the
 * workspace above (9·B·d_sae + 5·B·d_in).
 */
export function checkTrainingMemory(d_in: number, d_sae: number, batch: number): void {
  const bytes = 4 * (9 * d_sae * d_in + 9 * batch * d_sae + 5 * batch * d_in);
  const total = totalmem();
  if (bytes > total) {
    const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new UsageError(`training an SAE of d_sae ${d_sae} on d_in ${d_in} in batches of ${batch} needs at least ${gib(bytes)}, more than this machine's ${gib(total)}`);
  }
}

export function createLossWorkspace(config: SaeConfig, batch: number): LossWorkspace {
  const { d_in, d_sae } = config;
  return {
    batch,
    saeIn: new Float32Array(batch * d_in),
    pre: new Float32Array(batch * d_sae),
    acts: new Float32Array(2 * batch * d_sae),
    out: new Float32Array(2 * batch * d_in),
    dOut: new Float32Array(2 * batch * d_in),
    dActs: new Float32Array(2 * batch * d_sae),
    dPre: new Float32Array(batch * d_sae),
    dBDecEnc: new Float32Array(d_in),
    scratch: new Float32Array(batch * d_sae),
    topIdx: new Int32Array(batch * d_sae),
    topVal: new Float32Array(batch * d_sae),
    picks: new Int32Array(batch * (config.k ?? 0)),
    pickAct: new Float32Array(batch * (config.k ?? 0)),
    pickGrad: new Float32Array(batch * (config.k ?? 0)),
    norms: new Float32Array(d_sae),
    perLatent: new Float32Array(d_sae),
    colSums: new Float32Array(d_sae),
    gradEncT: new Float32Array(d_sae * d_in),
    fires: new Int32Array(d_sae),
  };
}

/** Zeroed gradient buffers for every weight `sae` has. */
export function createGradients(sae: Sae): SaeGradients {
  const w = sae.weights;
  const grads: SaeGradients = { W_enc: new Float32Array(w.W_enc.length), W_dec: new Float32Array(w.W_dec.length), b_dec: new Float32Array(w.b_dec.length) };
  for (const name of ['b_enc', 'threshold', 'b_gate', 'b_mag', 'r_mag'] as const) {
    const t = w[name];
    if (t) grads[name] = new Float32Array(t.length);
  }
  return grads;
}

/** A gradient buffer the architecture needs, or a failure naming it. */
export function requireGrad(grads: SaeGradients, name: keyof SaeGradients, arch: string): Float32Array {
  const g = grads[name];
  if (g === undefined) throw new ShapeError(`${arch} loss needs a gradient buffer for ${name}`);
  return g;
}

export function checkBatch(sae: Sae, x: Float32Array, batch: number, ws: LossWorkspace): void {
  const { d_in } = sae.config;
  if (!Number.isSafeInteger(batch) || batch < 1 || x.length !== batch * d_in) {
    throw new ShapeError(`training batch has ${x.length} values, expected [${batch}, ${d_in}] = ${batch * d_in}`);
  }
  if (ws.batch !== batch) throw new ShapeError(`loss workspace is for batch ${ws.batch}, got batch ${batch}`);
}

/** ws.saeIn ← x − b_dec (if apply_b_dec_to_input), the encoder's input. */
export function encoderInput(sae: Sae, x: Float32Array, batch: number, ws: LossWorkspace, backend: SaeKernels): Float32Array {
  const { d_in, apply_b_dec_to_input } = sae.config;
  if (apply_b_dec_to_input) backend.subRowVector(ws.saeIn, x, sae.weights.b_dec, batch, d_in);
  else ws.saeIn.set(x.subarray(0, batch * d_in));
  return ws.saeIn;
}

/** ws.saeIn ← x − b_dec (if apply_b_dec_to_input); ws.pre ← sae_in · W_enc. */
export function encodeProduct(sae: Sae, x: Float32Array, batch: number, ws: LossWorkspace, backend: SaeKernels): void {
  const { d_in, d_sae } = sae.config;
  backend.matmulNN(ws.pre, encoderInput(sae, x, batch, ws, backend), sae.weights.W_enc, batch, d_in, d_sae); // [B, d_sae]
}

/** ws.norms ← ‖W_dec row j‖. */
export function decoderNorms(sae: Sae, ws: LossWorkspace): Float32Array {
  const { d_in, d_sae } = sae.config;
  const W = sae.weights.W_dec;
  for (let j = 0; j < d_sae; j++) {
    let s = 0;
    for (let i = j * d_in; i < (j + 1) * d_in; i++) s += W[i] * W[i];
    ws.norms[j] = Math.sqrt(s);
  }
  return ws.norms;
}

/**
 * Decodes `rows` rows of ws.acts into ws.out (x̂ = acts · W_dec, plus b_dec on the first `biasRows`)
 * and returns the MSE of the first `batch` rows against x, writing d mse / d x̂ = 2(x̂ − x)/B into ws.dOut.
 */
export function decodeAndMse(sae: Sae, x: Float32Array, batch: number, rows: number, biasRows: number, ws: LossWorkspace, backend: SaeKernels): number {
  const { d_in, d_sae } = sae.config;
  const bDec = sae.weights.b_dec;
  backend.matmulNN(ws.out, ws.acts, sae.weights.W_dec, rows, d_sae, d_in); // [rows, d_in]
  for (let b = 0; b < biasRows; b++) for (let i = 0; i < d_in; i++) ws.out[b * d_in + i] += bDec[i];
  return mseAgainst(x, batch, d_in, ws, backend);
}

/**
 * Decoder backward over `rows` stacked rows: grads.W_dec ← actsᵀ · dOut, ws.dActs ← dOut · W_decᵀ;
 * grads.b_dec ← Σ over the first `biasRows` rows of dOut.
 * (TopK and standard SAEs use the index-list versions below, which touch only the active latents.)
 */
export function decoderBackward(sae: Sae, grads: SaeGradients, rows: number, biasRows: number, ws: LossWorkspace, backend: SaeKernels): void {
  const { d_in, d_sae } = sae.config;
  backend.matmulTN(grads.W_dec, ws.acts, ws.dOut, d_sae, rows, d_in); // [d_sae, d_in]
  backend.matmul(ws.dActs, ws.dOut, sae.weights.W_dec, rows, d_in, d_sae); // [rows, d_sae]
  backend.columnSums(grads.b_dec, ws.dOut, biasRows, d_in);
}

/**
 * Latents in use per token as an index list: row b's entries are idx/val[b·k, (b+1)·k) (a zero val is
 * padding). The sparse-row kernels (SaeKernels.gatherRows, …) read it; with it a step touches the
 * dense [B, d_sae] grid only in the encoder product (Gao et al. 2024 §5.1).
 */
export interface PickList {
  idx: Int32Array;
  val: Float32Array;
  k: number;
}

/** The MSE of ws.out's first `batch` rows against x, writing d mse / d x̂ = 2(x̂ − x)/B into ws.dOut. */
function mseAgainst(x: Float32Array, batch: number, d_in: number, ws: LossWorkspace, backend: SaeKernels): number {
  return backend.squaredError(ws.dOut, ws.out, x, batch * d_in, batch) / batch;
}

/** ws.out rows 0..B ← x̂ = f·W_dec + b_dec for the picks f; returns the MSE against x, writing d mse / d x̂ into ws.dOut. */
export function decodePicksAndMse(sae: Sae, x: Float32Array, batch: number, f: PickList, ws: LossWorkspace, backend: SaeKernels): number {
  const { d_in } = sae.config;
  backend.gatherRows(ws.out, f.idx, f.val, batch, f.k, sae.weights.W_dec, d_in);
  backend.addRowVector(ws.out, sae.weights.b_dec, batch, d_in);
  return mseAgainst(x, batch, d_in, ws, backend);
}

/**
 * Encoders up to this many weights take the fused encoders (encodeTopK, encodeRelu: the packed W_enc
 * stays in cache while the batch streams past; 64 × 1024 is 256 KB); larger ones, such as GPT-2
 * small's 768 × 24,576, run the blocked dense GEMM into the [B, d_sae] grid and select from that.
 */
export const FUSED_ENCODER_MAX_WEIGHTS = 1 << 20;

/**
 * Decoders up to this many weights take SaeKernels.sparseDecodeBackward (its token halves each keep
 * their gradient sums, two [d_sae, d_in] tables, in L2 beside the batch's rows: 64 × 1024 is
 * 256 KB each); larger ones, such as GPT-2 small's 768 × 24,576, the separate kernels and the
 * sorted scatters.
 */
export const FUSED_DECODER_MAX_WEIGHTS = 1 << 20;

/** Whether a loss takes its fused route: as `choice` says, else when the SAE has at most `maxWeights` weights per matrix. */
export function takesFused(choice: string | undefined, config: SaeConfig, maxWeights: number): boolean {
  return (choice ?? (config.d_in * config.d_sae <= maxWeights ? 'fused' : 'unfused')) === 'fused';
}

/**
 * One index list's part in the weight gradients: its activations `act` and the rows of d loss / d x̂
 * it decoded into (`dOut`), and d loss / d pre at its picks (`dPre`).
 */
export interface PickBackward {
  idx: Int32Array;
  k: number;
  act: Float32Array;
  dOut: Float32Array;
  dPre: Float32Array;
}

/**
 * The weight gradients through index lists: grads.W_dec ← Σ over the lists of actᵀ·dOut and
 * grads.W_enc ← Σ sae_inᵀ·dPre, a row update per pick (the W_enc gradient built transposed, in
 * ws.gradEncT, and transposed back; one scatterRowsPair per list, so the picks are sorted once for
 * both); grads.b_dec ← Σ_b of the first `batch` rows of ws.dOut, less b_dec's term through the
 * encoder from colSums = Σ_b dPre_b. With `started`, grads.W_dec and ws.gradEncT already hold a first
 * list's part (SaeKernels.sparseDecodeBackward's) and the lists are added to it.
 */
export function pickBackward(
  sae: Sae, grads: SaeGradients, batch: number, lists: readonly PickBackward[], colSums: Float32Array, ws: LossWorkspace, backend: SaeKernels, started = false,
): void {
  const { d_in, d_sae } = sae.config;
  if (!started) {
    grads.W_dec.fill(0);
    ws.gradEncT.fill(0);
  }
  for (const l of lists) backend.scatterRowsPair(grads.W_dec, l.idx, l.act, batch, l.k, l.dOut, d_in, ws.gradEncT, l.dPre, ws.saeIn);
  backend.transpose(grads.W_enc, ws.gradEncT, d_sae, d_in);
  backend.columnSums(grads.b_dec, ws.dOut, batch, d_in);
  encoderBiasBackward(sae, grads, colSums, ws, backend);
}

/**
 * Encoder backward from ws.dPre (d loss / d (sae_in · W_enc)): grads.W_enc ← sae_inᵀ · dPre, and
 * grads.b_dec −= Σ_b dPre_b · W_encᵀ when the encoder sees x − b_dec.
 *
 * Both are arranged so the sparsity of dPre (zero wherever a latent is off) saves work: the W_enc
 * gradient is computed transposed, dPreᵀ · sae_in, where the backend's TN product skips the zero
 * entries of its left operand, then transposed back (d_in·d_sae moves); and the b_dec term sums dPre
 * over the batch first — (Σ_b dPre_b) · W_encᵀ, one matrix-vector product instead of a
 * [B, d_sae]·[d_sae, d_in] GEMM. `colSums`, when the caller has it (it is b_enc's gradient for
 * every architecture with a b_enc), is Σ_b dPre_b.
 */
export function encoderBackward(sae: Sae, grads: SaeGradients, batch: number, ws: LossWorkspace, backend: SaeKernels, colSums?: Float32Array): void {
  const { d_in, d_sae, apply_b_dec_to_input } = sae.config;
  backend.matmulTN(ws.gradEncT, ws.dPre, ws.saeIn, d_sae, batch, d_in); // [d_sae, d_in]
  backend.transpose(grads.W_enc, ws.gradEncT, d_sae, d_in);
  let sums = colSums;
  if (!sums && apply_b_dec_to_input) {
    backend.columnSums(ws.colSums, ws.dPre, batch, d_sae);
    sums = ws.colSums;
  }
  if (sums) encoderBiasBackward(sae, grads, sums, ws, backend);
}

/** grads.b_dec −= (Σ_b dPre_b) · W_encᵀ when the encoder sees x − b_dec; `sums` is Σ_b dPre_b [d_sae]. */
export function encoderBiasBackward(sae: Sae, grads: SaeGradients, sums: Float32Array, ws: LossWorkspace, backend: SaeKernels): void {
  const { d_in, d_sae, apply_b_dec_to_input } = sae.config;
  if (!apply_b_dec_to_input) return;
  const t = ws.dBDecEnc;
  backend.matmul(t, sums, sae.weights.W_enc, 1, d_sae, d_in); // [1, d_in]
  for (let i = 0; i < d_in; i++) grads.b_dec[i] -= t[i];
}

/** grads.W_dec row j += c[j] · W_dec_j / ‖W_dec_j‖: the gradient of Σ_j c_j ‖W_dec_j‖ (0 for a zero row). */
export function addNormGradient(sae: Sae, grads: SaeGradients, c: Float32Array, norms: Float32Array): void {
  const { d_in, d_sae } = sae.config;
  const W = sae.weights.W_dec;
  for (let j = 0; j < d_sae; j++) {
    if (c[j] === 0 || norms[j] === 0) continue;
    const s = c[j] / norms[j];
    for (let i = j * d_in; i < (j + 1) * d_in; i++) grads.W_dec[i] += s * W[i];
  }
}

/**
 * Mean count of non-zero entries per row over the first `batch` rows of ws.acts [·, d_sae]; also
 * writes ws.fires (per latent, the rows it was non-zero in) for the trainer's dead-latent tracking.
 */
export function countFires(ws: LossWorkspace, batch: number, d_sae: number): number {
  const fires = ws.fires;
  fires.fill(0);
  let n = 0;
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < d_sae; j++) {
      if (ws.acts[b * d_sae + j] !== 0) {
        fires[j]++;
        n++;
      }
    }
  }
  return n / batch;
}

/** Gao et al.'s AuxK coefficient α (SAELens' `aux_loss_coefficient` defaults to 1.0 instead). */
export const AUXK_COEFFICIENT = 1 / 32;

/**
 * AuxK's budget (Gao et al. 2024, as SAELens topk_sae.py): k_aux = d_in/2 dead latents per token at
 * most, and the loss scaled by min(n_dead / k_aux, 1) so a few dead latents do not dominate.
 */
export function auxKPlan(dead: Uint8Array | undefined, d_sae: number, d_in: number, opts: { kAux?: number; auxCoefficient?: number }): { useAux: boolean; kAux: number; auxScale: number } {
  let nDead = 0;
  if (dead) for (let j = 0; j < d_sae; j++) if (dead[j]) nDead++;
  const kAuxWanted = opts.kAux ?? Math.floor(d_in / 2);
  const useAux = nDead > 0 && kAuxWanted > 0;
  const kAux = Math.min(kAuxWanted, nDead);
  return { useAux, kAux, auxScale: useAux ? (opts.auxCoefficient ?? AUXK_COEFFICIENT) * Math.min(nDead / kAuxWanted, 1) : 0 };
}
