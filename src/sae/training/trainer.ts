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
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';
import type { SaeTrainingArchitecture } from '../architecture-registry.js';
import { architectureByName, trainingArchitectureByName } from '../architecture-registry.js';
import type { SaeConfig, SaeMetadata } from '../sae-config.js';
import type { Sae, SaeTensorName } from '../sae.js';
import { writeSaeLensFolder } from '../saelens-format.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { describeValue } from '../../util/describe-value.js';
import { parseJson } from '../../util/parse-json.js';
import type { MixingBufferState } from '../activation-store/mixing-buffer.js';
import { foldNormScale } from './activation-normalizer.js';
import { Adam } from './adam.js';
import { defaultDecoderInitNorm, initSae } from './init.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './loss-common.js';
import { checkTrainingMemory, createGradients, createLossWorkspace } from './loss-common.js';
import type { JumpReluSparsityMode } from './losses-jumprelu.js';
import type { LrSchedule } from './schedules.js';
import { lrAt, sparsityCoefficientAt } from './schedules.js';

export interface SaeTrainerConfig {
  /** A registered training architecture (architecture-registry.ts trainingArchitectureNames()). */
  architecture: string;
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
  /** jumprelu: θ at init (default in init.ts). */
  jumpReluInitThreshold?: number;
  /** ‖W_dec row‖ at init (default in init.ts). */
  decoderInitNorm?: number;
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
/** 2: jumprelu checkpoints hold log θ (not θ) under sae.threshold. */
const CHECKPOINT_VERSION = 2;

export class SaeTrainer {
  readonly sae: Sae;
  readonly backend: SaeKernels;
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
  /**
   * jumprelu: what Adam trains instead of θ, log θ (SAELens JumpReLUTrainingSAE `log_threshold`), so
   * θ = exp(log θ) stays positive. (This alone did not make the step L0 coefficient matter: see
   * DEFAULT_JUMPRELU_MODE.)
   */
  private readonly logThreshold: Float32Array | undefined;
  /** The architecture's loss and training defaults (architecture-registry.ts). */
  private readonly arch: SaeTrainingArchitecture;
  step = 0;
  tokens = 0;
  /**
   * globalThreshold architectures (batchtopk, matryoshka): the global threshold θ (dictionary_learning
   * BatchTopKSAE.threshold), the
   * running mean of each batch's smallest kept activation; −1 until the first update. Saved as the
   * jumprelu threshold of every latent.
   */
  threshold = -1;
  /** Compact training history: step 1 and every `historyStride` steps; kept in checkpoints. */
  history: TrainingLogEntry[] = [];
  /** Steps between history rows: cfg.logEvery, doubled each time the history is thinned. */
  historyStride: number;
  /** After resume(): the activation stream's state saved with the checkpoint, if it was. */
  resumedStream: MixingBufferState | undefined;

  constructor(readonly cfg: SaeTrainerConfig, backend: SaeKernels = activeBackend()) {
    this.arch = trainingArchitectureByName(cfg.architecture);
    for (const [name, v] of [['d_in', cfg.d_in], ['d_sae', cfg.d_sae], ['batch size', cfg.batchSize], ['total steps', cfg.totalSteps]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got ${v}`);
    }
    if (!(cfg.lr > 0 && Number.isFinite(cfg.lr))) throw new UsageError(`learning rate must be positive and finite, got ${cfg.lr}`);
    if (!(cfg.normScale > 0 && Number.isFinite(cfg.normScale))) throw new UsageError(`activation norm scale must be positive and finite, got ${cfg.normScale}`);
    checkTrainingMemory(cfg.d_in, cfg.d_sae, cfg.batchSize);
    this.backend = backend;
    const config: SaeConfig = {
      architecture: this.arch.trainsAs,
      d_in: cfg.d_in,
      d_sae: cfg.d_sae,
      dtype: 'float32',
      apply_b_dec_to_input: true,
      normalize_activations: cfg.normScale === 1 ? 'none' : 'expected_average_only_in',
      reshape_activations: 'none',
      metadata: { ...cfg.metadata },
      extra: {},
    };
    if (this.arch.usesK) config.k = cfg.k;
    const problem = this.arch.configProblem?.(cfg);
    if (problem) throw new UsageError(problem);
    this.prng = new Prng(cfg.seed);
    this.sae = initSae(config, this.prng, { decoderInitNorm: cfg.decoderInitNorm ?? defaultDecoderInitNorm(cfg.architecture), jumpReluInitThreshold: cfg.jumpReluInitThreshold });
    this.grads = createGradients(this.sae);
    this.paramNames = (['W_enc', 'W_dec', 'b_dec', ...architectureByName(config.architecture).tensors] as SaeTensorName[]).filter((n) => this.grads[n]);
    this.gradList = this.paramNames.map((n) => this.grads[n] as Float32Array);
    const theta = this.sae.weights.threshold;
    if (this.arch.logThreshold && theta) this.logThreshold = theta.map(Math.log);
    this.adam = new Adam(this.paramNames.map((n) => (n === 'threshold' && this.logThreshold ? this.logThreshold : (this.sae.weights[n] as Float32Array))), {}, backend);
    this.ws = createLossWorkspace(config, cfg.batchSize);
    this.scaled = new Float32Array(cfg.batchSize * cfg.d_in);
    this.tokensSinceFired = new Float64Array(cfg.d_sae);
    this.fireCounts = new Float64Array(cfg.d_sae);
    this.deadMask = new Uint8Array(cfg.d_sae);
    const logEvery = cfg.logEvery ?? DEFAULT_LOG_EVERY;
    if (!Number.isSafeInteger(logEvery) || logEvery < 1) throw new UsageError(`log interval must be a positive integer, got ${logEvery}`);
    this.historyStride = logEvery;
  }

  /**
   * b_dec ← the mean of `batches` (raw activations [n, d_in], scaled by the norm scale as training
   * sees them): SAELens' `b_dec_init_method="mean"` (Bricken et al. 2023 start b_dec at the geometric
   * median). The residual stream has a large mean; from b_dec = 0, Adam needs hundreds of steps
   * (about lr per step and element) to move b_dec there, and until then every L1-penalised latent pays
   * to encode the mean (on the embedded model, standard at L1 1: explained variance 0.75 → 0.83).
   * `sae train` does this for standard and jumprelu only (init.ts usesPenalisedInit): BatchTopK's
   * threshold estimate came out worse with it (blocks.2, k 16: explained variance 0.755 → 0.695).
   */
  initDecoderBiasToMean(batches: Iterable<Float32Array>): void {
    const d = this.cfg.d_in;
    const sum = new Float64Array(d);
    let n = 0;
    for (const b of batches) {
      if (b.length % d !== 0) throw new UsageError(`activation batch of ${b.length} values is not [n, ${d}]`);
      for (let r = 0; r < b.length / d; r++) for (let i = 0; i < d; i++) sum[i] += b[r * d + i];
      n += b.length / d;
    }
    if (n === 0) throw new UsageError('cannot initialise b_dec from no activations');
    const bDec = this.sae.weights.b_dec;
    for (let i = 0; i < d; i++) bDec[i] = (sum[i] / n) * this.cfg.normScale;
  }

  /** One optimiser step on raw activations `batch` [n, d_in] (n = batchSize; a smaller last batch allocates its own workspace). */
  trainStep(batch: Float32Array): StepStats {
    const { d_in, d_sae } = this.cfg;
    if (batch.length % d_in !== 0 || batch.length === 0) throw new UsageError(`training batch of ${batch.length} values is not [n, ${d_in}]`);
    const n = batch.length / d_in;
    const ws = n === this.ws.batch ? this.ws : createLossWorkspace(this.sae.config, n);
    const x = n === this.cfg.batchSize ? this.scaled : new Float32Array(n * d_in);
    const s = this.cfg.normScale;
    this.backend.scaleInto(x, batch, s, n * d_in);

    const lr = lrAt(this.step, { lr: this.cfg.lr, warmupSteps: this.cfg.lrWarmupSteps, schedule: this.cfg.lrSchedule, totalSteps: this.cfg.totalSteps, minLr: this.cfg.minLr });
    for (let j = 0; j < d_sae; j++) this.deadMask[j] = this.tokensSinceFired[j] >= this.cfg.deadAfterTokens ? 1 : 0;
    const base = this.arch.sparsityCoefficient?.(this.cfg);
    const coef = base === undefined ? 0 : sparsityCoefficientAt(this.step, base, this.cfg.sparsityWarmupSteps ?? 0);
    const loss = this.arch.loss({ sae: this.sae, x, batch: n, grads: this.grads, ws, backend: this.backend, cfg: this.cfg, sparsityCoefficient: coef, deadMask: this.deadMask });
    const terms: LossTerms = loss.terms;
    if (this.arch.globalThreshold) this.updateThreshold(loss.minKept ?? Infinity);
    // The loss already has Σ ‖x̂ − x‖² (as a mean over the batch); a second pass over ws.out cost 3% of a step.
    const explainedVariance = explainedVarianceOf(x, (loss.reconstructionMse ?? terms.mse) * n, n, d_in, this.backend);
    this.trackFiring(ws.fires, n);
    if (this.logThreshold) {
      // d L / d log θ = θ · d L / d θ
      const theta = this.sae.weights.threshold as Float32Array;
      const g = this.grads.threshold as Float32Array;
      for (let j = 0; j < d_sae; j++) g[j] *= theta[j];
    }
    this.adam.step(this.gradList, lr);
    if (this.logThreshold) this.syncThreshold();
    if (this.cfg.normalizeDecoder ?? this.arch.normalizeDecoder ?? false) this.normalizeDecoderRows();
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
    if (this.arch.globalThreshold) {
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
   * moments, step, tokens, the Prng state and the dead-latent counters (in the file's metadata), and
   * the state of the activation stream the batches come from, when given.
   */
  checkpoint(dir: string, stream?: MixingBufferState): void {
    const tensors: Record<string, TensorToWrite> = {};
    this.paramNames.forEach((name, i) => {
      const w = this.adam.params[i]; // log θ for jumprelu's threshold
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
      stream: stream && { serving: stream.serving, consumed: stream.consumed, source_done: stream.sourceDone, prng: stream.prng },
    };
    if (stream) tensors['stream.rows'] = { shape: [stream.rows.length], data: stream.rows };
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, CHECKPOINT_FILE), tensors, { tinymorph_sae_trainer: JSON.stringify(state) });
  }

  /** A trainer continuing from checkpoint(dir) exactly where it stopped. */
  static resume(dir: string, backend: SaeKernels = activeBackend()): SaeTrainer {
    const path = join(dir, CHECKPOINT_FILE);
    const file = SafetensorsFile.open(path);
    const raw = file.metadata.tinymorph_sae_trainer;
    if (raw === undefined) throw new UsageError(`${path} is not a tinymorph SAE trainer checkpoint (no trainer state in its metadata)`);
    const state = parseJson(raw, raw.length, (problem) => new UsageError(`${path}: the trainer state in its metadata ${problem}`)) as {
      version: number; config: SaeTrainerConfig; step: number; tokens: number; adam_t: number;
      prng: [number, number, number, number]; tokens_since_fired: number[]; fire_counts: number[];
      /** Absent in checkpoints written before the history was kept. */
      history?: TrainingLogEntry[]; history_stride?: number; threshold?: number;
      /** Absent when checkpoint() was given no stream state. */
      stream?: { serving: number; consumed: number; source_done: boolean; prng: [number, number, number, number] };
    };
    if (state.version !== CHECKPOINT_VERSION) throw new UsageError(`${path}: checkpoint version ${describeValue(state.version)}, expected ${CHECKPOINT_VERSION}`);
    const t = new SaeTrainer(state.config, backend);
    t.paramNames.forEach((name, i) => {
      t.adam.params[i].set(file.readF32(`sae.${name}`));
      t.adam.m[i].set(file.readF32(`adam.m.${name}`));
      t.adam.v[i].set(file.readF32(`adam.v.${name}`));
    });
    if (t.logThreshold) t.syncThreshold();
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
    if (state.stream) {
      const { serving, consumed, source_done: sourceDone, prng } = state.stream;
      t.resumedStream = { rows: file.readF32('stream.rows').slice(), serving, consumed, sourceDone, prng };
    }
    return t;
  }

  /** θ ← exp(log θ) after log θ changed. */
  private syncThreshold(): void {
    const theta = this.sae.weights.threshold as Float32Array;
    const log = this.logThreshold as Float32Array;
    for (let j = 0; j < log.length; j++) theta[j] = Math.exp(log[j]);
  }

  /** Counts the batch's firings (ws.fires, written by the loss) into fireCounts and tokensSinceFired. */
  private trackFiring(fires: Int32Array, n: number): void {
    for (let j = 0; j < this.cfg.d_sae; j++) {
      this.fireCounts[j] += fires[j];
      this.tokensSinceFired[j] = fires[j] > 0 ? 0 : this.tokensSinceFired[j] + n;
    }
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

/** 1 − Σ_b ‖x̂_b − x_b‖² / Σ_b ‖x_b − x̄‖² over rows 0..n of x [·, d], given the first sum (`sse`). */
export function explainedVarianceOf(x: Float32Array, sse: number, n: number, d: number, backend: SaeKernels = activeBackend()): number {
  const total = backend.centeredSquares(x, n, d);
  return total === 0 ? 0 : 1 - sse / total;
}
