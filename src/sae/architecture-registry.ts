/**
 * SAE architectures by name, one file each in architectures/ holding what inference needs (encode,
 * by the SAELens cfg.json `architecture` name) and what training needs (the loss and its defaults,
 * by the `sae train --architecture` name), as SAELens registers an SAE class and its TrainingSAE
 * class per architecture (sae_lens/registry.py). Adding an architecture is its file plus one entry
 * in the lists at the bottom. A training architecture may train in another one's shape and be saved
 * as a third (BatchTopK: topk-shaped weights, saved as jumprelu), so the two kinds are registered
 * separately. Registering a name twice is refused: two encoders answering to one name would make a
 * file's meaning depend on import order.
 */
import { UsageError } from '../errors.js';
import type { SaeKernels } from '../tensor/sae-kernels.js';
import { batchTopKTraining } from './architectures/batchtopk.js';
import { gatedArchitecture, gatedTraining } from './architectures/gated.js';
import { jumpReluArchitecture, jumpReluTraining } from './architectures/jumprelu.js';
import { matryoshkaTraining } from './architectures/matryoshka.js';
import { standardArchitecture, standardTraining } from './architectures/standard.js';
import { topKArchitecture, topKTraining } from './architectures/topk.js';
import type { SaeConfig } from './sae-config.js';
import type { Sae, SaeTensorName } from './sae.js';
import type { LossTerms, LossWorkspace, SaeGradients } from './training/loss-common.js';
import type { SaeTrainerConfig } from './training/trainer.js';

export interface SaeArchitecture {
  readonly name: string;
  /** Weights besides W_enc, W_dec and b_dec, each [d_sae]. */
  readonly tensors: readonly SaeTensorName[];
  /** What is wrong with `config` for this architecture (e.g. topk without k), or undefined. */
  configProblem?(config: SaeConfig): string | undefined;
  /**
   * out [T, d_sae] ← latent activations of saeIn [T, d_in], the input already normalised and with
   * b_dec subtracted (SAELens `process_sae_in`).
   */
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void;
  /**
   * out [T, indices.length] ← the activations encode() would give for just the listed latents, when
   * that is cheaper than a full encode (a column per latent, or one product and no selection);
   * `scratch` holds at least T·d_sae floats. Absent: callers encode fully and pick the columns.
   */
  encodeSelected?(sae: Sae, saeIn: Float32Array, tokens: number, indices: readonly number[], out: Float32Array, backend: SaeKernels, scratch: Float32Array): void;
  /** A per-latent factor applied to the activations before W_dec, or undefined for none. */
  decodeScale?(sae: Sae): Float32Array | undefined;
}

/** What one training step's loss reads. */
export interface TrainingLossInputs {
  sae: Sae;
  /** The batch [batch, d_in], already scaled by the trainer's norm scale. */
  x: Float32Array;
  batch: number;
  grads: SaeGradients;
  ws: LossWorkspace;
  backend: SaeKernels;
  cfg: SaeTrainerConfig;
  /** λ at this step (after the warm-up), 0 for an architecture without sparsityCoefficient. */
  sparsityCoefficient: number;
  /** 1 for each latent that has not fired for cfg.deadAfterTokens tokens; [d_sae]. */
  deadMask: Uint8Array;
}

export interface TrainingLoss {
  terms: LossTerms;
  /** The reconstruction's own MSE when terms.mse is something else (Matryoshka: the sum over prefixes). */
  reconstructionMse?: number;
  /** globalThreshold architectures: the batch's smallest kept activation (Infinity when none). */
  minKept?: number;
}

/** An architecture `sae train` can train (SAELens' TrainingSAE side). */
export interface SaeTrainingArchitecture {
  readonly name: string;
  /** The registered (inference) architecture whose weights and encode the SAE has while training. */
  readonly trainsAs: string;
  /** Takes cfg.k into the training config (the topk family). */
  readonly usesK?: boolean;
  /** SAELens' init for L1 / L0-penalised SAEs: decoder rows of norm 0.1 and b_dec at the data mean (see training/init.ts). */
  readonly penalisedInit?: boolean;
  /** Adam trains log θ instead of the threshold θ, so θ stays positive (SAELens JumpReLUTrainingSAE `log_threshold`). */
  readonly logThreshold?: boolean;
  /**
   * Trains a batch-level selection whose running threshold θ the trainer keeps (from each step's
   * minKept) and saves the SAE as jumprelu with θ for every latent (dictionary_learning BatchTopKSAE).
   */
  readonly globalThreshold?: boolean;
  /** Decoder rows renormalised after each step unless cfg.normalizeDecoder says otherwise. */
  readonly normalizeDecoder?: boolean;
  /** What is wrong with `cfg` for this architecture, or undefined. */
  configProblem?(cfg: SaeTrainerConfig): string | undefined;
  /** The sparsity coefficient λ before its warm-up; absent: the loss has none. */
  sparsityCoefficient?(cfg: SaeTrainerConfig): number;
  /** The loss and every gradient of one batch (each gradient buffer overwritten). */
  loss(inputs: TrainingLossInputs): TrainingLoss;
}

const registry = new Map<string, SaeArchitecture>();
const trainingRegistry = new Map<string, SaeTrainingArchitecture>();

export function registerArchitecture(arch: SaeArchitecture): void {
  if (registry.has(arch.name)) throw new UsageError(`SAE architecture "${arch.name}" is already registered`);
  registry.set(arch.name, arch);
}

export function findArchitecture(name: string): SaeArchitecture | undefined {
  return registry.get(name);
}

/** The architecture named `name`, or a UsageError listing the known ones. */
export function architectureByName(name: string): SaeArchitecture {
  const arch = registry.get(name);
  if (!arch) throw new UsageError(`unknown SAE architecture "${name}" (known: ${architectureNames().join(', ')})`);
  return arch;
}

export function architectureNames(): string[] {
  return [...registry.keys()];
}

export function registerTrainingArchitecture(arch: SaeTrainingArchitecture): void {
  if (trainingRegistry.has(arch.name)) throw new UsageError(`SAE training architecture "${arch.name}" is already registered`);
  if (!registry.has(arch.trainsAs)) throw new UsageError(`SAE training architecture "${arch.name}" trains as "${arch.trainsAs}", which is not registered`);
  trainingRegistry.set(arch.name, arch);
}

/** The training architecture named `name`, or a UsageError listing the trainable ones. */
export function trainingArchitectureByName(name: string): SaeTrainingArchitecture {
  const arch = trainingRegistry.get(name);
  if (!arch) throw new UsageError(`cannot train architecture "${name}" (trainable: ${trainingArchitectureNames().join(', ')})`);
  return arch;
}

export function findTrainingArchitecture(name: string): SaeTrainingArchitecture | undefined {
  return trainingRegistry.get(name);
}

export function trainingArchitectureNames(): string[] {
  return [...trainingRegistry.keys()];
}

for (const arch of [standardArchitecture, gatedArchitecture, jumpReluArchitecture, topKArchitecture]) registerArchitecture(arch);
for (const arch of [topKTraining, standardTraining, jumpReluTraining, gatedTraining, batchTopKTraining, matryoshkaTraining]) registerTrainingArchitecture(arch);
