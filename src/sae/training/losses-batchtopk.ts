/**
 * Training loss of the `batchtopk` SAE (Bussmann, Leask & Nanda 2024, "BatchTopK Sparse
 * Autoencoders"; dictionary_learning trainers/batch_top_k.py, SAELens batchtopk_sae.py) and the
 * shared core of the Matryoshka BatchTopK loss (losses-matryoshka.ts):
 *   pre = sae_in · W_enc + b_enc                                   [B, d_sae]
 *   f   = ReLU(pre) on the k·B largest entries of pre over the whole batch (flattened), 0 elsewhere
 *   x̂_p = f[:, :m_p] · W_dec[:m_p] + b_dec  for each prefix size m_1 < … < m_P = d_sae
 *   mse = Σ_p w_p · mean_b Σ_i (x̂_p − x)²          (batchtopk: one prefix, d_sae, weight 1)
 *   aux = AuxK exactly as in losses-topk.ts, against the full reconstruction's residual (detached)
 * Gradients reach the kept entries only (as in topk). The per-batch minimum kept positive
 * activation is returned as `minKept`; the trainer averages it into the global threshold θ that
 * the saved (jumprelu) SAE uses at inference: acts = pre · 1[pre > θ].
 * The selection is an O(B·d_sae) quickselect of the (k·B)-th largest value (backend.topKRows is an
 * O(n·k) per-row kernel, too slow for n = B·d_sae); ties at the cut are kept in index order, so
 * exactly k·B entries are selected.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import { UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import { auxKPlan, checkBatch, encodeProduct, encoderBackward, countFires, requireGrad } from './loss-common.js';

export interface BatchTopKLossOptions {
  /** 1 for each latent counted as dead; [d_sae]. Omitted: no AuxK. */
  deadMask?: Uint8Array;
  /** Dead latents used per token by AuxK (default ⌊d_in / 2⌋). */
  kAux?: number;
  /** AuxK α (default 1/32). */
  auxCoefficient?: number;
}

export interface BatchTopKLossTerms extends LossTerms {
  /** Smallest positive activation kept in this batch (Infinity when none was positive). */
  minKept: number;
  /** Number of (batch, latent) entries selected: min(k·B, B·d_sae). */
  selected: number;
  /** Each prefix's unweighted reconstruction MSE (batchtopk: [mse]). */
  prefixMse: number[];
}

/** Extra buffers of the prefix (Matryoshka) path, allocated once per loss workspace. */
interface PrefixWorkspace {
  readonly groupActs: Float32Array; // [2B, d_sae] one group's columns, contiguous
  readonly dGroup: Float32Array; // [2B, d_sae]
  readonly tmp: Float32Array; // [B, d_in]
  readonly G: Float32Array; // [2B, d_in] d loss / d (group product), accumulated over prefixes
  resid: Float32Array; // [P, B, d_in] x̂_p − x
  readonly select: Float32Array; // [B·d_sae] quickselect scratch
}
const prefixWorkspaces = new WeakMap<LossWorkspace, PrefixWorkspace>();

function prefixWorkspace(ws: LossWorkspace, d_in: number, d_sae: number, groups: number): PrefixWorkspace {
  let pw = prefixWorkspaces.get(ws);
  if (!pw) {
    const B = ws.batch;
    pw = {
      groupActs: new Float32Array(2 * B * d_sae), dGroup: new Float32Array(2 * B * d_sae), tmp: new Float32Array(B * d_in),
      G: new Float32Array(2 * B * d_in), resid: new Float32Array(groups * B * d_in), select: new Float32Array(B * d_sae),
    };
    prefixWorkspaces.set(ws, pw);
  }
  if (pw.resid.length < groups * ws.batch * d_in) pw.resid = new Float32Array(groups * ws.batch * d_in);
  return pw;
}

/** The `rank`-th largest value (0-based) of a[0..n), reordering a (Hoare quickselect, median of three). */
export function kthLargest(a: Float32Array, n: number, rank: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = rank;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // median of three, descending order
    let p1 = a[lo], p2 = a[mid], p3 = a[hi];
    if (p1 < p2) { const t = p1; p1 = p2; p2 = t; }
    if (p2 < p3) { const t = p2; p2 = p3; p3 = t; }
    if (p1 < p2) { const t = p1; p1 = p2; p2 = t; }
    const pivot = p2;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Writes the indices (into the flattened [B·d_sae] pre) of the K largest entries into idx[0..K):
 * every entry above the K-th largest value, then entries equal to it in index order.
 */
export function selectBatchTopK(idx: Int32Array, pre: Float32Array, n: number, K: number, scratch: Float32Array): void {
  if (K >= n) {
    for (let q = 0; q < n; q++) idx[q] = q;
    return;
  }
  scratch.set(pre.subarray(0, n));
  const cut = kthLargest(scratch, n, K - 1);
  let c = 0;
  for (let q = 0; q < n; q++) if (pre[q] > cut) idx[c++] = q;
  for (let q = 0; q < n && c < K; q++) if (pre[q] === cut) idx[c++] = q;
}

/** Validated prefix sizes: strictly increasing, positive, ending at d_sae (appended when missing). */
export function normalizePrefixes(prefixes: readonly number[] | undefined, d_sae: number): number[] {
  const p = prefixes && prefixes.length > 0 ? [...prefixes] : [d_sae];
  if (p[p.length - 1] !== d_sae) p.push(d_sae);
  for (let i = 0; i < p.length; i++) {
    const m = p[i];
    if (!Number.isSafeInteger(m) || m < 1 || m > d_sae || (i > 0 && m <= p[i - 1])) {
      throw new UsageError(`matryoshka prefix sizes must be strictly increasing integers in 1..d_sae = ${d_sae}, got ${prefixes?.join(',')}`);
    }
  }
  return p;
}

/**
 * The loss over nested prefixes (one prefix = plain BatchTopK). Every gradient buffer is
 * overwritten; ws.acts rows 0..B hold the activations and ws.out rows 0..B the full reconstruction.
 */
export function prefixBatchTopKLoss(
  sae: Sae, x: Float32Array, batch: number, prefixes: readonly number[], weights: readonly number[] | undefined, opts: BatchTopKLossOptions,
  grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels, arch: string,
): BatchTopKLossTerms {
  checkBatch(sae, x, batch, ws);
  const { d_in, d_sae } = sae.config;
  const k = sae.config.k;
  if (k === undefined || !(k > 0) || k > d_sae) throw new UsageError(`${arch} loss needs 0 < k ≤ d_sae = ${d_sae}, got k = ${k}`);
  const m = normalizePrefixes(prefixes, d_sae);
  const P = m.length;
  if (weights && weights.length !== P) throw new UsageError(`${arch}: ${weights.length} prefix weights for ${P} prefixes`);
  const bEnc = requireWeight(sae, 'b_enc');
  const gbEnc = requireGrad(grads, 'b_enc', arch);
  const W = sae.weights.W_dec;
  const bDec = sae.weights.b_dec;
  const dead = opts.deadMask;
  if (dead && dead.length !== d_sae) throw new UsageError(`deadMask has ${dead.length} entries, expected d_sae = ${d_sae}`);
  const pw = prefixWorkspace(ws, d_in, d_sae, P);
  const n = batch * d_sae;

  encodeProduct(sae, x, batch, ws, backend);
  for (let b = 0; b < batch; b++) for (let j = 0; j < d_sae; j++) ws.pre[b * d_sae + j] += bEnc[j];
  const K = Math.min(n, Math.round(k * batch));
  selectBatchTopK(ws.topIdx, ws.pre, n, K, pw.select);
  ws.acts.fill(0);
  let minKept = Infinity;
  for (let r = 0; r < K; r++) {
    const q = ws.topIdx[r];
    const v = ws.pre[q];
    if (v > 0) {
      ws.acts[q] = v;
      if (v < minKept) minKept = v;
    }
  }

  // AuxK picks (per token, as in topk) into rows B..2B of ws.acts.
  const { useAux, kAux, auxScale } = auxKPlan(dead, d_sae, d_in, opts);
  if (useAux && dead) {
    const h = ws.scratch;
    for (let q = 0; q < n; q++) h[q] = dead[q % d_sae] ? ws.pre[q] : -Infinity;
    backend.topKRows(ws.topIdx, ws.topVal, h, batch, d_sae, kAux);
    for (let b = 0; b < batch; b++) {
      for (let r = b * kAux; r < (b + 1) * kAux; r++) ws.acts[(batch + b) * d_sae + ws.topIdx[r]] = ws.pre[b * d_sae + ws.topIdx[r]];
    }
  }
  const rows = useAux ? 2 * batch : batch;

  // Forward over the prefixes: x̂_p = x̂_{p−1} + f[:, group p] · W_dec[group p].
  const cur = ws.out; // rows 0..B
  for (let b = 0; b < batch; b++) for (let i = 0; i < d_in; i++) cur[b * d_in + i] = bDec[i];
  const prefixMse: number[] = [];
  let mse = 0;
  for (let p = 0; p < P; p++) {
    const lo = p === 0 ? 0 : m[p - 1];
    const size = m[p] - lo;
    const fp = gatherColumns(pw.groupActs, ws.acts, batch, d_sae, lo, size);
    backend.matmulNN(pw.tmp, fp, W.subarray(lo * d_in, m[p] * d_in), batch, size, d_in);
    const resid = pw.resid.subarray(p * batch * d_in, (p + 1) * batch * d_in);
    let s = 0;
    for (let q = 0; q < batch * d_in; q++) {
      cur[q] += pw.tmp[q];
      const e = cur[q] - x[q];
      resid[q] = e;
      s += e * e;
    }
    prefixMse.push(s / batch);
    mse += (weights ? weights[p] : 1) * (s / batch);
  }
  let aux = 0;
  const G = pw.G;
  G.fill(0);
  if (useAux) {
    const off = batch * d_in;
    backend.matmulNN(ws.out.subarray(off, 2 * off), ws.acts.subarray(n, 2 * n), W, batch, d_sae, d_in);
    for (let q = 0; q < off; q++) {
      const diff = ws.out[off + q] - (x[q] - cur[q]);
      aux += diff * diff;
      G[off + q] = (auxScale * 2 * diff) / batch;
    }
    aux = (auxScale * aux) / batch;
  }

  // Backward, last group first: group p's latents feed every prefix p' ≥ p, so their upstream
  // gradient is G = Σ_{p' ≥ p} w_p' · 2(x̂_p' − x)/B (plus the AuxK rows, which use the full decoder).
  grads.b_dec.fill(0);
  for (let p = P - 1; p >= 0; p--) {
    const c = (2 * (weights ? weights[p] : 1)) / batch;
    const resid = pw.resid.subarray(p * batch * d_in, (p + 1) * batch * d_in);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < d_in; i++) {
        const g = c * resid[b * d_in + i];
        G[b * d_in + i] += g;
        grads.b_dec[i] += g;
      }
    }
    const lo = p === 0 ? 0 : m[p - 1];
    const size = m[p] - lo;
    const fp = gatherColumns(pw.groupActs, ws.acts, rows, d_sae, lo, size);
    const Wp = W.subarray(lo * d_in, m[p] * d_in);
    backend.matmulTN(grads.W_dec.subarray(lo * d_in, m[p] * d_in), fp, G, size, rows, d_in); // [size, d_in]
    if (size === d_sae) {
      backend.matmul(ws.dActs, G, Wp, rows, d_in, size);
    } else {
      backend.matmul(pw.dGroup, G, Wp, rows, d_in, size); // [rows, size]
      for (let r = 0; r < rows; r++) ws.dActs.set(pw.dGroup.subarray(r * size, (r + 1) * size), r * d_sae + lo);
    }
  }
  for (let q = 0; q < n; q++) ws.dPre[q] = ws.acts[q] > 0 ? ws.dActs[q] : 0;
  if (useAux) {
    for (let b = 0; b < batch; b++) {
      for (let r = b * kAux; r < (b + 1) * kAux; r++) ws.dPre[b * d_sae + ws.topIdx[r]] += ws.dActs[(batch + b) * d_sae + ws.topIdx[r]];
    }
  }
  backend.columnSums(gbEnc, ws.dPre, batch, d_sae);
  encoderBackward(sae, grads, batch, ws, backend, gbEnc);
  return { mse, sparsity: 0, aux, total: mse + aux, l0: countFires(ws, batch, d_sae), minKept, selected: K, prefixMse };
}

/** Columns lo..lo+size of rows 0..rows of m [·, width], contiguous (m itself when it is all of it). */
function gatherColumns(out: Float32Array, m: Float32Array, rows: number, width: number, lo: number, size: number): Float32Array {
  if (size === width) return m;
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * width + lo, r * width + lo + size), r * size);
  return out;
}

/** BatchTopK loss of batch x [B, d_in] (k = sae.config.k latents per token on average). */
export function batchTopKLoss(
  sae: Sae, x: Float32Array, batch: number, opts: BatchTopKLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): BatchTopKLossTerms {
  return prefixBatchTopKLoss(sae, x, batch, [sae.config.d_sae], undefined, opts, grads, ws, backend, 'batchtopk');
}
