/**
 * The SAE trainer (SAELens' SAETrainer): one Adam step per training batch of activations, with the
 * learning-rate and sparsity-coefficient schedules, activation normalisation (a fixed scale s applied
 * to every batch, folded into the weights at save), dead-latent tracking (tokens since each latent
 * last fired; topk's AuxK gets the dead mask), checkpoints that resume bit-identically, and a
 * SAELens folder at the end.
 *
 * Decoder norms: SAELens v6 does not renormalise W_dec during training (its standard L1 term is
 * weighted by ‖W_dec_j‖, which makes the loss invariant to the row scale; topk picks latents
 * independently of it unless rescale_acts_by_decoder_norm). That is the default here too;
 * `normalizeDecoder: true` renormalises every row to unit norm after each step instead (the older
 * SAELens `normalize_sae_decoder` / Gao et al. practice).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { Prng } from '../../model/sampling/prng.js';
import { SafetensorsFile, writeSafetensors } from '../../model/safetensors.js';
import type { TensorToWrite } from '../../model/safetensors.js';
import type { Backend } from '../../tensor/backend.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import { architectureByName } from '../architecture-registry.js';
import type { SaeConfig, SaeMetadata } from '../sae-config.js';
import type { Sae, SaeTensorName } from '../sae.js';
import { writeSaeLensFolder } from '../saelens-format.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { foldNormScale } from './activation-normalizer.js';
import { Adam } from './adam.js';
import { initSae } from './init.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import { createGradients, createLossWorkspace } from './loss-common.js';
import { gatedLoss } from './losses-gated.js';
import type { JumpReluSparsityMode } from './losses-jumprelu.js';
import { jumpReluLoss } from './losses-jumprelu.js';
import { standardLoss } from './losses-standard.js';
import { topKLoss } from './losses-topk.js';
import { batchTopKLoss, normalizePrefixes } from './losses-batchtopk.js';
import { defaultMatryoshkaPrefixes, matryoshkaLoss } from './losses-matryoshka.js';
import type { LrSchedule } from './schedules.js';
import { lrAt, sparsityCoefficientAt } from './schedules.js';

export const TRAINABLE_ARCHITECTURES = ['topk', 'standard', 'jumprelu', 'gated', 'batchtopk', 'matryoshka'] as const;
export type TrainableArchitecture = (typeof TRAINABLE_ARCHITECTURES)[number];

export interface SaeTrainerConfig {
  architecture: TrainableArchitecture;
  d_in: number;
  d_sae: number;
  /** topk: latents per token; batchtopk / matryoshka: mean latents per token (k·B kept per batch). */
  k?: number;
  /** matryoshka: nested prefix sizes (default d_sae/8, /4, /2, d_sae); d_sae is appended when missing. */
  matryoshkaPrefixes?: number[];
  /** batchtopk / matryoshka: EMA factor β of the threshold θ ← β θ + (1 − β) min kept activation (default 0.999). */
  thresholdBeta?: number;
  /** batchtopk / matryoshka: first step whose batch updates θ (default min(1000, ⌊totalSteps / 4⌋), dictionary_learning uses 1000). */
  thresholdStartStep?: number;
  /** Tokens per step (the loss workspace is sized for it). */
  batchSize: number;
  /** Optimiser steps planned (for the cosine schedule). */
  totalSteps: number;
  lr: number;
  lrSchedule: LrSchedule;
  lrWarmupSteps: number;
  minLr?: number;
  /** standard / gated: λ (SAELens l1_coefficient). */
  l1Coefficient?: number;
  /** jumprelu: λ (SAELens l0_coefficient). */
  l0Coefficient?: number;
  /** Linear warm-up of the sparsity coefficient over this many steps (SAELens l1_warm_up_steps). */
  sparsityWarmupSteps?: number;
  jumpReluBandwidth?: number;
  jumpReluMode?: JumpReluSparsityMode;
  /** topk AuxK: α and k_aux (defaults as in losses-topk.ts). */
  auxCoefficient?: number;
  kAux?: number;
  /** A latent is dead once it has not fired for this many tokens. */
  deadAfterTokens: number;
  /** Activation scale s (training sees s·x); 1 means none. */
  normScale: number;
  normalizeDecoder?: boolean;
  seed: number;
  /** Record a history entry every this many steps (and at step 1); default DEFAULT_LOG_EVERY. */
  logEvery?: number;
  /** cfg.json metadata: model_name, hook_name, context_size, prepend_bos, dataset_path, … */
  metadata: SaeMetadata;
}

export interface StepStats extends LossTerms {
  step: number;
  tokens: number;
  lr: number;
  sparsityCoefficient: number;
  /** 1 − mean_b ‖x − x̂‖² / mean_b ‖x − x̄‖² over the batch (SAELens' training explained_variance). */
  explainedVariance: number;
  /** Fraction of latents dead (no activation for deadAfterTokens tokens). */
  deadFraction: number;
}

/** One row of the training history (training_log.jsonl); loss terms as in LossTerms. */
export interface TrainingLogEntry {
  step: number;
  tokens: number;
  total: number;
  mse: number;
  sparsity: number;
  aux: number;
  l0: number;
  explained_variance: number;
  dead_fraction: number;
  lr: number;
}

export const DEFAULT_LOG_EVERY = 10;
/** The history never holds more rows than this: when full, every other row is dropped and the stride doubles. */
export const MAX_HISTORY_ENTRIES = 2048;
export const TRAINING_LOG_FILE = 'training_log.jsonl';

const CHECKPOINT_FILE = 'checkpoint.safetensors';
const CHECKPOINT_VERSION = 1;

export class SaeTrainer {
  readonly sae: Sae;
  readonly backend: Backend;
  readonly prng: Prng;
  readonly adam: Adam;
  /** Adam's parameters and gradients, by name, in a fixed order. */
  readonly paramNames: SaeTensorName[];
  private readonly grads: SaeGradients;
  private readonly gradList: Float32Array[];
  private ws: LossWorkspace;
  private readonly scaled: Float32Array;
  /** Tokens since each latent last fired; counted from the start, so nothing is dead before deadAfterTokens. */
  readonly tokensSinceFired: Float64Array;
  /** Activations > 0 per latent over the whole run (for sparsity.safetensors). */
  readonly fireCounts: Float64Array;
  private readonly deadMask: Uint8Array;
  /** matryoshka: the validated prefix sizes. */
  readonly prefixes: number[] | undefined;
  step = 0;
  tokens = 0;
  /**
   * batchtopk / matryoshka: the global threshold θ (dictionary_learning BatchTopKSAE.threshold), the
   * running mean of each batch's smallest kept activation; −1 until the first update. Saved as the
   * jumprelu threshold of every latent.
   */
  threshold = -1;
  /** Compact training history: step 1 and every `historyStride` steps; kept in checkpoints. */
  history: TrainingLogEntry[] = [];
  /** Steps between history rows: cfg.logEvery, doubled each time the history is thinned. */
  historyStride: number;

  constructor(readonly cfg: SaeTrainerConfig, backend: Backend = activeBackend()) {
    if (!(TRAINABLE_ARCHITECTURES as readonly string[]).includes(cfg.architecture)) {
      throw new UsageError(`cannot train architecture "${cfg.architecture}" (trainable: ${TRAINABLE_ARCHITECTURES.join(', ')})`);
    }
    if (!Number.isSafeInteger(cfg.batchSize) || cfg.batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${cfg.batchSize}`);
    if (!(cfg.normScale > 0 && Number.isFinite(cfg.normScale))) throw new UsageError(`activation norm scale must be positive and finite, got ${cfg.normScale}`);
    this.backend = backend;
    const config: SaeConfig = {
      architecture: cfg.architecture,
      d_in: cfg.d_in,
      d_sae: cfg.d_sae,
      dtype: 'float32',
      apply_b_dec_to_input: true,
      normalize_activations: cfg.normScale === 1 ? 'none' : 'expected_average_only_in',
      reshape_activations: 'none',
      metadata: { ...cfg.metadata },
      extra: {},
    };
    if (cfg.architecture === 'topk') config.k = cfg.k;
    // BatchTopK / Matryoshka train as a topk-shaped SAE (W_enc, W_dec, b_enc, b_dec, k) and are saved as jumprelu.
    if (isBatchTopK(cfg.architecture)) {
      config.architecture = 'topk';
      config.k = cfg.k;
      if (cfg.k === undefined || !(cfg.k > 0) || cfg.k > cfg.d_sae) throw new UsageError(`${cfg.architecture} needs 0 < k ≤ d_sae = ${cfg.d_sae}, got k = ${cfg.k}`);
      if (cfg.architecture === 'matryoshka') this.prefixes = normalizePrefixes(cfg.matryoshkaPrefixes ?? defaultMatryoshkaPrefixes(cfg.d_sae), cfg.d_sae);
    }
    this.prng = new Prng(cfg.seed);
    this.sae = initSae(config, this.prng);
    this.grads = createGradients(this.sae);
    this.paramNames = (['W_enc', 'W_dec', 'b_dec', ...architectureByName(config.architecture).tensors] as SaeTensorName[]).filter((n) => this.grads[n]);
    this.gradList = this.paramNames.map((n) => this.grads[n] as Float32Array);
    this.adam = new Adam(this.paramNames.map((n) => this.sae.weights[n] as Float32Array));
    this.ws = createLossWorkspace(config, cfg.batchSize);
    this.scaled = new Float32Array(cfg.batchSize * cfg.d_in);
    this.tokensSinceFired = new Float64Array(cfg.d_sae);
    this.fireCounts = new Float64Array(cfg.d_sae);
    this.deadMask = new Uint8Array(cfg.d_sae);
    const logEvery = cfg.logEvery ?? DEFAULT_LOG_EVERY;
    if (!Number.isSafeInteger(logEvery) || logEvery < 1) throw new UsageError(`log interval must be a positive integer, got ${logEvery}`);
    this.historyStride = logEvery;
  }

  /** One optimiser step on raw activations `batch` [n, d_in] (n = batchSize; a smaller last batch allocates its own workspace). */
  trainStep(batch: Float32Array): StepStats {
    const { d_in, d_sae } = this.cfg;
    if (batch.length % d_in !== 0 || batch.length === 0) throw new UsageError(`training batch of ${batch.length} values is not [n, ${d_in}]`);
    const n = batch.length / d_in;
    const ws = n === this.ws.batch ? this.ws : createLossWorkspace(this.sae.config, n);
    const x = n === this.cfg.batchSize ? this.scaled : new Float32Array(n * d_in);
    const s = this.cfg.normScale;
    for (let i = 0; i < n * d_in; i++) x[i] = batch[i] * s;

    const lr = lrAt(this.step, { lr: this.cfg.lr, warmupSteps: this.cfg.lrWarmupSteps, schedule: this.cfg.lrSchedule, totalSteps: this.cfg.totalSteps, minLr: this.cfg.minLr });
    let coef = 0;
    let terms: LossTerms;
    switch (this.cfg.architecture) {
      case 'topk':
        for (let j = 0; j < d_sae; j++) this.deadMask[j] = this.tokensSinceFired[j] >= this.cfg.deadAfterTokens ? 1 : 0;
        terms = topKLoss(this.sae, x, n, { deadMask: this.deadMask, kAux: this.cfg.kAux, auxCoefficient: this.cfg.auxCoefficient }, this.grads, ws, this.backend);
        break;
      case 'standard':
        coef = sparsityCoefficientAt(this.step, this.cfg.l1Coefficient ?? 5, this.cfg.sparsityWarmupSteps ?? 0);
        terms = standardLoss(this.sae, x, n, { l1Coefficient: coef }, this.grads, ws, this.backend);
        break;
      case 'gated':
        coef = sparsityCoefficientAt(this.step, this.cfg.l1Coefficient ?? 5, this.cfg.sparsityWarmupSteps ?? 0);
        terms = gatedLoss(this.sae, x, n, { l1Coefficient: coef }, this.grads, ws, this.backend);
        break;
      case 'jumprelu':
        coef = sparsityCoefficientAt(this.step, this.cfg.l0Coefficient ?? 1, this.cfg.sparsityWarmupSteps ?? 0);
        terms = jumpReluLoss(this.sae, x, n, { l0Coefficient: coef, bandwidth: this.cfg.jumpReluBandwidth ?? 0.05, mode: this.cfg.jumpReluMode ?? 'step' }, this.grads, ws, this.backend);
        break;
      case 'batchtopk':
      case 'matryoshka': {
        for (let j = 0; j < d_sae; j++) this.deadMask[j] = this.tokensSinceFired[j] >= this.cfg.deadAfterTokens ? 1 : 0;
        const o = { deadMask: this.deadMask, kAux: this.cfg.kAux, auxCoefficient: this.cfg.auxCoefficient };
        const t = this.cfg.architecture === 'batchtopk'
          ? batchTopKLoss(this.sae, x, n, o, this.grads, ws, this.backend)
          : matryoshkaLoss(this.sae, x, n, { ...o, prefixes: this.prefixes }, this.grads, ws, this.backend);
        this.updateThreshold(t.minKept);
        terms = { mse: t.mse, sparsity: t.sparsity, aux: t.aux, total: t.total, l0: t.l0 };
        break;
      }
    }
    const explainedVariance = explainedVarianceOf(x, ws.out, n, d_in);
    this.trackFiring(ws.acts, n);
    this.adam.step(this.gradList, lr);
    if (this.cfg.normalizeDecoder ?? isBatchTopK(this.cfg.architecture)) this.normalizeDecoderRows();
    this.step++;
    this.tokens += n;
    const stats: StepStats = { ...terms, step: this.step, tokens: this.tokens, lr, sparsityCoefficient: coef, explainedVariance, deadFraction: this.deadFraction() };
    this.record(stats);
    return stats;
  }

  private record(s: StepStats): void {
    if (s.step !== 1 && s.step % this.historyStride !== 0) return;
    this.history.push({
      step: s.step, tokens: s.tokens, total: s.total, mse: s.mse, sparsity: s.sparsity, aux: s.aux, l0: s.l0,
      explained_variance: s.explainedVariance, dead_fraction: s.deadFraction, lr: s.lr,
    });
    if (this.history.length >= MAX_HISTORY_ENTRIES) {
      this.historyStride *= 2;
      this.history = this.history.filter((e) => e.step === 1 || e.step % this.historyStride === 0);
    }
  }

  /** Firing density of each latent over the run (fires / tokens), 0 for a latent that never fired. */
  featureDensity(): Float64Array {
    const t = Math.max(1, this.tokens);
    return this.fireCounts.map((f) => f / t);
  }

  /** Fraction of latents that have not fired for deadAfterTokens tokens. */
  deadFraction(): number {
    let dead = 0;
    for (let j = 0; j < this.cfg.d_sae; j++) if (this.tokensSinceFired[j] >= this.cfg.deadAfterTokens) dead++;
    return dead / this.cfg.d_sae;
  }

  /** log10 of each latent's firing density over the run (SAELens log_feature_sparsity, +1e-10). */
  logFeatureDensity(): Float32Array {
    const out = new Float32Array(this.cfg.d_sae);
    for (let j = 0; j < out.length; j++) out[j] = Math.log10(this.fireCounts[j] / Math.max(1, this.tokens) + 1e-10);
    return out;
  }

  /** θ ← min kept (first update) or β θ + (1 − β) min kept, from thresholdStartStep on (dictionary_learning). */
  private updateThreshold(minKept: number): void {
    if (!Number.isFinite(minKept)) return;
    const start = this.cfg.thresholdStartStep ?? Math.min(1000, Math.floor(this.cfg.totalSteps / 4));
    if (this.step < start) return;
    const beta = this.cfg.thresholdBeta ?? 0.999;
    this.threshold = this.threshold < 0 ? minKept : beta * this.threshold + (1 - beta) * minKept;
  }

  /**
   * The trained SAE for raw activations (norm scale folded in), with sparsity. Copies. BatchTopK and
   * Matryoshka SAEs come out as jumprelu with threshold θ for every latent (0 if θ was never estimated);
   * the activations are unchanged by the norm-scale fold, so θ needs no rescaling.
   */
  exportSae(): Sae {
    const folded = foldNormScale(this.sae, this.cfg.normScale);
    if (isBatchTopK(this.cfg.architecture)) {
      folded.config = { ...folded.config, architecture: 'jumprelu' };
      delete folded.config.k;
      delete folded.config.rescale_acts_by_decoder_norm;
      folded.weights.threshold = new Float32Array(this.cfg.d_sae).fill(Math.max(0, this.threshold));
    }
    folded.sparsity = this.logFeatureDensity();
    folded.config.metadata = { ...folded.config.metadata };
    folded.config.extra = { ...folded.config.extra };
    return folded;
  }

  /**
   * Writes the SAELens v6 folder (cfg.json, sae_weights.safetensors, sparsity.safetensors) and the
   * training history as training_log.jsonl (one JSON object per line), each file atomically.
   */
  save(dir: string): Sae {
    const sae = this.exportSae();
    writeSaeLensFolder(dir, sae);
    writeFileAtomic(join(dir, TRAINING_LOG_FILE), this.history.map((e) => JSON.stringify(e) + '\n').join(''));
    return sae;
  }

  /**
   * Writes everything a resume needs to dir/checkpoint.safetensors in one atomic file: weights, Adam
   * moments, step, tokens, the Prng state and the dead-latent counters (in the file's metadata).
   */
  checkpoint(dir: string): void {
    const tensors: Record<string, TensorToWrite> = {};
    this.paramNames.forEach((name, i) => {
      const w = this.sae.weights[name] as Float32Array;
      tensors[`sae.${name}`] = { shape: [w.length], data: w };
      tensors[`adam.m.${name}`] = { shape: [w.length], data: this.adam.m[i] };
      tensors[`adam.v.${name}`] = { shape: [w.length], data: this.adam.v[i] };
    });
    const state = {
      version: CHECKPOINT_VERSION,
      config: this.cfg,
      step: this.step,
      tokens: this.tokens,
      adam_t: this.adam.t,
      prng: this.prng.state(),
      tokens_since_fired: Array.from(this.tokensSinceFired),
      fire_counts: Array.from(this.fireCounts),
      history: this.history,
      history_stride: this.historyStride,
      threshold: this.threshold,
    };
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, CHECKPOINT_FILE), tensors, { tinymorph_sae_trainer: JSON.stringify(state) });
  }

  /** A trainer continuing from checkpoint(dir) exactly where it stopped. */
  static resume(dir: string, backend: Backend = activeBackend()): SaeTrainer {
    const path = join(dir, CHECKPOINT_FILE);
    const file = SafetensorsFile.open(path);
    const raw = file.metadata.tinymorph_sae_trainer;
    if (raw === undefined) throw new UsageError(`${path} is not a tinymorph SAE trainer checkpoint (no trainer state in its metadata)`);
    const state = JSON.parse(raw) as {
      version: number; config: SaeTrainerConfig; step: number; tokens: number; adam_t: number;
      prng: [number, number, number, number]; tokens_since_fired: number[]; fire_counts: number[];
      /** Absent in checkpoints written before the history was kept. */
      history?: TrainingLogEntry[]; history_stride?: number; threshold?: number;
    };
    if (state.version !== CHECKPOINT_VERSION) throw new UsageError(`${path}: checkpoint version ${state.version}, expected ${CHECKPOINT_VERSION}`);
    const t = new SaeTrainer(state.config, backend);
    t.paramNames.forEach((name, i) => {
      (t.sae.weights[name] as Float32Array).set(file.readF32(`sae.${name}`));
      t.adam.m[i].set(file.readF32(`adam.m.${name}`));
      t.adam.v[i].set(file.readF32(`adam.v.${name}`));
    });
    t.adam.t = state.adam_t;
    t.step = state.step;
    t.tokens = state.tokens;
    const [a, b, c, d] = state.prng;
    const p = Prng.fromState(a, b, c, d);
    // Restore the generator in place (the trainer holds one instance).
    Object.assign(t.prng, p);
    t.tokensSinceFired.set(state.tokens_since_fired);
    t.fireCounts.set(state.fire_counts);
    t.history = state.history ?? [];
    if (state.history_stride !== undefined) t.historyStride = state.history_stride;
    if (state.threshold !== undefined) t.threshold = state.threshold;
    return t;
  }

  private trackFiring(acts: Float32Array, n: number): void {
    const d = this.cfg.d_sae;
    const fired = this.deadMask; // reused as scratch: 1 where the latent fired in this batch
    fired.fill(0);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < d; j++) {
        if (acts[b * d + j] > 0) {
          fired[j] = 1;
          this.fireCounts[j]++;
        }
      }
    }
    for (let j = 0; j < d; j++) this.tokensSinceFired[j] = fired[j] ? 0 : this.tokensSinceFired[j] + n;
  }

  private normalizeDecoderRows(): void {
    const { d_in, d_sae } = this.cfg;
    const W = this.sae.weights.W_dec;
    for (let j = 0; j < d_sae; j++) {
      let s = 0;
      for (let i = j * d_in; i < (j + 1) * d_in; i++) s += W[i] * W[i];
      if (s === 0) continue;
      const inv = 1 / Math.sqrt(s);
      for (let i = j * d_in; i < (j + 1) * d_in; i++) W[i] *= inv;
    }
  }
}

/** 1 − mean_b ‖x − x̂‖² / mean_b ‖x − x̄‖² over rows 0..n of x and out [·, d]. */
export function explainedVarianceOf(x: Float32Array, out: Float32Array, n: number, d: number): number {
  let err = 0;
  let total = 0;
  for (let i = 0; i < d; i++) {
    let mean = 0;
    for (let b = 0; b < n; b++) mean += x[b * d + i];
    mean /= n;
    for (let b = 0; b < n; b++) {
      const v = x[b * d + i];
      const e = out[b * d + i] - v;
      err += e * e;
      total += (v - mean) * (v - mean);
    }
  }
  return total === 0 ? 0 : 1 - err / total;
}

/** BatchTopK-family architectures (trained topk-shaped, saved as jumprelu). */
export function isBatchTopK(arch: string): arch is 'batchtopk' | 'matryoshka' {
  return arch === 'batchtopk' || arch === 'matryoshka';
}
