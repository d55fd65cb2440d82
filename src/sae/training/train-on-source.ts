/**
 * A training run over an activation source (SAELens' SAETrainer.fit over its ActivationsStore): a
 * new trainer takes its norm scale and b_dec from the head of the stream, then trains one step per
 * batch of the shuffling mixing buffer. Checkpoints carry the buffer's state, so a resumed run reads
 * the source from the row where the buffer stopped (a cache seeks there; the live store re-tokenizes
 * up to it and runs no forward pass before it) and serves exactly the batches an uninterrupted run
 * would have.
 */
import { UsageError } from '../../errors.js';
import type { ActivationSource } from '../activation-store/activation-source.js';
import { sampleActivations } from '../activation-store/activation-source.js';
import { DEFAULT_BUFFER_BATCHES, MixingBuffer } from '../activation-store/mixing-buffer.js';
import { estimateNormScale } from './activation-normalizer.js';
import { usesPenalisedInit } from './init.js';
import type { SaeTrainerConfig, StepStats } from './trainer.js';
import { SaeTrainer } from './trainer.js';

/** Activations the norm scale and b_dec are estimated from (whole forward batches reaching this many). */
export const SAMPLE_TOKENS = 64 * 1024;

export interface NewTrainerOptions {
  /** Train on activations scaled to E‖x‖ = √d_in (SAELens expected_average_only_in), estimated from the sample. */
  normalize: boolean;
  /** Activations in the estimates' sample; default SAMPLE_TOKENS. */
  sampleTokens?: number;
}

/** A fresh trainer for `source`: d_in is its width, the norm scale and (penalised init) b_dec come from its first activations. */
export function newTrainerOnSource(source: ActivationSource, cfg: Omit<SaeTrainerConfig, 'd_in' | 'normScale'>, o: NewTrainerOptions): SaeTrainer {
  const penalised = usesPenalisedInit(cfg.architecture);
  const sample = o.normalize || penalised ? sampleActivations(source, o.sampleTokens ?? SAMPLE_TOKENS) : [];
  const trainer = new SaeTrainer({ ...cfg, d_in: source.width, normScale: o.normalize ? estimateNormScale(sample, source.width) : 1 });
  if (penalised) trainer.initDecoderBiasToMean(sample);
  return trainer;
}

export interface TrainOnSourceOptions {
  /** Where checkpoints go (checkpoint.safetensors, with the stream's state). */
  checkpointDir: string;
  /** A checkpoint every this many steps (0: only at the end). */
  checkpointEvery: number;
  onStep?: (stats: StepStats) => void;
}

/**
 * Trains `trainer` up to its cfg.totalSteps on batches from `source` (a resumed trainer from where
 * its checkpoint's stream stopped), checkpointing along the way and at the end. Stops early if the
 * source runs out. Returns the last step's statistics (undefined if no step ran).
 */
export function trainOnSource(trainer: SaeTrainer, source: ActivationSource, o: TrainOnSourceOptions): StepStats | undefined {
  const cfg = trainer.cfg;
  if (source.width !== cfg.d_in) throw new UsageError(`the activations are ${source.width} wide but the SAE's d_in is ${cfg.d_in}`);
  const resumed = trainer.resumedStream;
  if (trainer.step > 0 && resumed === undefined) {
    throw new UsageError(`the trainer is at step ${trainer.step} but its checkpoint holds no activation stream state (written by an older tinymorph, or without one): train from the start`);
  }
  const buffer = new MixingBuffer(
    source.rows(resumed?.consumed ?? 0), { width: cfg.d_in, batchSize: cfg.batchSize, bufferSize: DEFAULT_BUFFER_BATCHES * cfg.batchSize, seed: cfg.seed }, resumed,
  );
  const steps = Math.max(cfg.totalSteps, trainer.step);
  let last: StepStats | undefined;
  while (trainer.step < steps) {
    const batch = buffer.next();
    if (batch === undefined) break;
    if (batch.length !== cfg.batchSize * cfg.d_in) continue;
    last = trainer.trainStep(batch);
    o.onStep?.(last);
    if (o.checkpointEvery > 0 && trainer.step % o.checkpointEvery === 0) trainer.checkpoint(o.checkpointDir, buffer.state());
  }
  trainer.checkpoint(o.checkpointDir, buffer.state());
  return last;
}
