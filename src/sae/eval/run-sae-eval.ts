/**
 * `tinymorph sae eval`: an SAE's metrics over held-out token contexts, keyed and grouped as
 * SAELens' `run_evals` returns them (sae_lens/evals.py: model_behavior_preservation,
 * model_performance_preservation, reconstruction_quality, shrinkage, sparsity, token_stats, and the
 * per-latent `feature_density`), plus dead/dense fractions, a density histogram and the
 * pathology check of Gurnee 2024 (the SAE's KL against a random perturbation as far from x).
 * Scores follow evals.py: ce_loss_score = (CE_abl − CE_sae)/(CE_abl − CE_clean) and
 * kl_div_score = (KL_abl − KL_sae)/KL_abl, with zero-ablation as the baseline.
 */
import { UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import { Prng } from '../../model/sampling/prng.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { contextSettings, tokenContexts } from '../activation-store/token-contexts.js';
import type { Sae } from '../sae.js';
import type { DensitySummary } from './feature-density.js';
import { FeatureDensityAccumulator, summarizeDensity } from './feature-density.js';
import type { ReconstructionMetrics } from './reconstruction-metrics.js';
import { ReconstructionAccumulator } from './reconstruction-metrics.js';
import { evalBatch, newLossAccumulators } from './spliced-passes.js';

export interface SaeEvalOptions {
  /** Hook to splice at; default the SAE's metadata.hook_name. */
  hook?: HookName;
  /** Held-out contexts to evaluate (default 32). */
  contexts?: number;
  /** Tokens per context, BOS included (default 128). */
  contextSize?: number;
  /** Contexts per forward call (default 8). */
  batchContexts?: number;
  /** Splice the SAE with its error term (a check: the SAE metrics then equal the clean ones). */
  errorTerm?: boolean;
  /** Seed of the random directions of the pathology check (default 0). */
  seed?: number;
  /** Called after each batch with the contexts done so far. */
  onProgress?: (contextsDone: number) => void;
  /**
   * When the text holds fewer contexts than asked for: called with both numbers before any
   * forward pass, and the eval runs on those there are. Without it that is a UsageError, since
   * metrics over fewer tokens than asked are noisier than the caller thinks.
   */
  onFewerContexts?: (available: number, asked: number, contextSize: number) => void;
}

export interface SaeEvalResult {
  model_behavior_preservation: { kl_div_score: number; kl_div_with_ablation: number; kl_div_with_sae: number };
  model_performance_preservation: { ce_loss_score: number; ce_loss_with_ablation: number; ce_loss_with_sae: number; ce_loss_without_sae: number };
  reconstruction_quality: Pick<ReconstructionMetrics, 'explained_variance' | 'explained_variance_legacy' | 'mse' | 'cossim'>;
  shrinkage: Pick<ReconstructionMetrics, 'l2_norm_in' | 'l2_norm_out' | 'l2_ratio' | 'relative_reconstruction_bias'>;
  sparsity: { l0: number; l1: number } & Omit<DensitySummary, 'feature_density_histogram'>;
  /** Gurnee 2024: how much worse the SAE's reconstruction is than a random one at the same distance. */
  pathology: {
    kl_div_with_sae: number;
    kl_div_with_random_error: number;
    kl_div_sae_over_random: number;
    ce_loss_with_random_error: number;
    kl_div_with_mean_ablation: number;
    ce_loss_with_mean_ablation: number;
    kl_div_score_mean_ablation: number;
    ce_loss_score_mean_ablation: number;
  };
  token_stats: { total_tokens_eval_reconstruction: number; total_tokens_eval_sparsity_variance: number; contexts: number; context_size: number };
  feature_metrics: { feature_density: number[]; feature_density_histogram: DensitySummary['feature_density_histogram'] };
}

/** Evaluates `sae` on contexts cut from `documents` (held-out text). */
export function runSaeEval(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, documents: Iterable<string>, o: SaeEvalOptions = {}): SaeEvalResult {
  const hook = o.hook ?? (sae.config.metadata.hook_name as HookName | null | undefined);
  if (!hook) throw new UsageError('the SAE names no hook (cfg.json metadata.hook_name); pass one');
  const want = o.contexts ?? 32;
  const batchContexts = o.batchContexts ?? 8;
  if (!Number.isSafeInteger(want) || want < 1) throw new UsageError(`contexts must be a positive integer, got ${want}`);
  if (!Number.isSafeInteger(batchContexts) || batchContexts < 1) throw new UsageError(`batch contexts must be a positive integer, got ${batchContexts}`);
  const settings = contextSettings({ contextSize: o.contextSize, prependBos: true }, model.config.seqLen);
  const special = new Set([tokenizer.bosId, tokenizer.eosId]); // SAELens' get_special_token_ids
  const prng = new Prng(o.seed ?? 0);
  const losses = newLossAccumulators();
  const recon = new ReconstructionAccumulator(sae.config.d_in, sae.config.d_sae);
  const density = new FeatureDensityAccumulator(sae.config.d_sae);

  // All contexts first (want × contextSize token ids): a short text is known before the first forward pass.
  const contexts: Int32Array[] = [];
  for (const ctx of tokenContexts(tokenizer, documents, settings)) {
    contexts.push(ctx);
    if (contexts.length === want) break;
  }
  if (contexts.length === 0) throw new UsageError(`the corpus is too short for one context of ${settings.contextSize} tokens`);
  if (contexts.length < want) {
    if (!o.onFewerContexts) throw new UsageError(`the text holds ${contexts.length} contexts of ${settings.contextSize} tokens, fewer than the ${want} asked for`);
    o.onFewerContexts(contexts.length, want, settings.contextSize);
  }
  let done = 0;
  while (done < contexts.length) {
    const batch = contexts.slice(done, done + batchContexts);
    const view = evalBatch(model, sae, batch, { hook, special, errorTerm: o.errorTerm ?? false, prng }, losses);
    recon.add(view.x, view.xHat, view.acts, view.n);
    density.add(view.acts, view.n);
    done += batch.length;
    o.onProgress?.(done);
  }

  const r = recon.result();
  const ceClean = losses.ceClean.mean();
  const ce = (v: 'sae' | 'zero' | 'mean' | 'random'): number => losses.ce[v].mean();
  const kl = (v: 'sae' | 'zero' | 'mean' | 'random'): number => losses.kl[v].mean();
  const featureDensity = Array.from(density.density());
  const { feature_density_histogram, ...densityStats } = summarizeDensity(featureDensity);
  return {
    model_behavior_preservation: { kl_div_score: (kl('zero') - kl('sae')) / kl('zero'), kl_div_with_ablation: kl('zero'), kl_div_with_sae: kl('sae') },
    model_performance_preservation: {
      ce_loss_score: (ce('zero') - ce('sae')) / (ce('zero') - ceClean),
      ce_loss_with_ablation: ce('zero'),
      ce_loss_with_sae: ce('sae'),
      ce_loss_without_sae: ceClean,
    },
    reconstruction_quality: { explained_variance: r.explained_variance, explained_variance_legacy: r.explained_variance_legacy, mse: r.mse, cossim: r.cossim },
    shrinkage: { l2_norm_in: r.l2_norm_in, l2_norm_out: r.l2_norm_out, l2_ratio: r.l2_ratio, relative_reconstruction_bias: r.relative_reconstruction_bias },
    sparsity: { l0: r.l0, l1: r.l1, ...densityStats },
    pathology: {
      kl_div_with_sae: kl('sae'),
      kl_div_with_random_error: kl('random'),
      kl_div_sae_over_random: kl('sae') / kl('random'),
      ce_loss_with_random_error: ce('random'),
      kl_div_with_mean_ablation: kl('mean'),
      ce_loss_with_mean_ablation: ce('mean'),
      kl_div_score_mean_ablation: (kl('mean') - kl('sae')) / kl('mean'),
      ce_loss_score_mean_ablation: (ce('mean') - ce('sae')) / (ce('mean') - ceClean),
    },
    token_stats: {
      // As SAELens counts them: every token of every context, special tokens included.
      total_tokens_eval_reconstruction: done * settings.contextSize,
      total_tokens_eval_sparsity_variance: done * settings.contextSize,
      contexts: done,
      context_size: settings.contextSize,
    },
    feature_metrics: { feature_density: featureDensity, feature_density_histogram },
  };
}
