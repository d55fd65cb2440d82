/**
 * Training loss of the Matryoshka BatchTopK SAE (Bussmann et al. 2025, "Learning Multi-Level
 * Features with Matryoshka Sparse Autoencoders"; dictionary_learning
 * trainers/matryoshka_batch_top_k.py, SAELens matryoshka_batchtopk_sae.py): BatchTopK activations
 * over the whole dictionary, and the reconstruction loss summed over nested prefixes of it —
 * prefix m uses only latents 0..m (x̂_m = f[:, :m] · W_dec[:m] + b_dec):
 *   mse = Σ_p w_p · mean_b Σ_i (x̂_{m_p} − x)²   (w_p = 1 by default; the last prefix is d_sae)
 * plus AuxK on dead latents against the full reconstruction. See losses-batchtopk.ts.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { Sae } from '../sae.js';
import type { LossWorkspace, SaeGradients } from './loss-common.js';
import type { BatchTopKLossOptions, BatchTopKLossTerms } from './losses-batchtopk.js';
import { prefixBatchTopKLoss } from './losses-batchtopk.js';

export { normalizePrefixes } from './losses-batchtopk.js';

/** Default nested prefix sizes: d_sae/8, d_sae/4, d_sae/2, d_sae (dropping non-increasing ones). */
export function defaultMatryoshkaPrefixes(d_sae: number): number[] {
  const out: number[] = [];
  for (const f of [8, 4, 2, 1]) {
    const m = Math.max(1, Math.floor(d_sae / f));
    if (out.length === 0 || m > out[out.length - 1]) out.push(m);
  }
  return out;
}

export interface MatryoshkaLossOptions extends BatchTopKLossOptions {
  /** Nested prefix sizes, strictly increasing; d_sae is appended when missing (default defaultMatryoshkaPrefixes). */
  prefixes?: readonly number[];
  /** Weight of each prefix's MSE (default 1 each). */
  prefixWeights?: readonly number[];
}

export function matryoshkaLoss(
  sae: Sae, x: Float32Array, batch: number, opts: MatryoshkaLossOptions, grads: SaeGradients, ws: LossWorkspace, backend: SaeKernels = activeBackend(),
): BatchTopKLossTerms {
  const prefixes = opts.prefixes ?? defaultMatryoshkaPrefixes(sae.config.d_sae);
  return prefixBatchTopKLoss(sae, x, batch, prefixes, opts.prefixWeights, opts, grads, ws, backend, 'matryoshka');
}
