import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import { trainingArchitectureByName, trainingArchitectureNames } from '../../sae/architecture-registry.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import type { JumpReluSparsityMode } from '../../sae/training/losses-jumprelu.js';
import { DEFAULT_JUMPRELU_MODE, DEFAULT_L0_COEFFICIENT, JUMPRELU_SPARSITY_MODES } from '../../sae/training/losses-jumprelu.js';
import { DEFAULT_L1_COEFFICIENT } from '../../sae/training/losses-standard.js';
import { LR_SCHEDULES } from '../../sae/training/schedules.js';
import type { LrSchedule } from '../../sae/training/schedules.js';
import { newTrainerOnSource, trainOnSource } from '../../sae/training/train-on-source.js';
import type { StepStats } from '../../sae/training/trainer.js';
import { SaeTrainer } from '../../sae/training/trainer.js';
import { writeTrainingPlots } from '../../sae/training/training-plots.js';
import { startProgress } from '../progress.js';
import type { TrainingStream } from './sae-train-source.js';
import { DEFAULT_HOOK, trainingStream } from './sae-train-source.js';
import { flagNumber, positiveFlag } from '../options.js';
import { checkOutputDir } from '../../util/output-target.js';

export interface SaeTrainOptions {
  hook?: string;
  architecture: string;
  dSae: string;
  k: string;
  l1: string;
  l0: string;
  jumpreluMode: string;
  tokens: string;
  batch: string;
  lr: string;
  lrSchedule: string;
  lrWarmup: string;
  sparsityWarmup: string;
  deadAfter: string;
  contextSize?: string;
  seed: string;
  out: string;
  resume?: string;
  /** An activation cache folder to train from. */
  activations?: string;
  checkpointEvery: string;
  /** History row interval in steps (training_log.jsonl and the plots); default 10. */
  logEvery?: string;
  model?: string;
  corpus?: string;
  normalize: boolean;
  /** matryoshka: comma-separated nested prefix sizes, e.g. "64,128,256,512". */
  matryoshkaPrefixes?: string;
}



export interface SaeTrainResult {
  out: string;
  last: StepStats | undefined;
  seconds: number;
  tokensPerSecond: number;
  normScale: number;
  /** The SVG plots written into out. */
  plots: string[];
}

/**
 * Trains an SAE on the activations at --hook (the model's, or a cache's with --activations) and
 * writes a SAELens folder to --out (checkpoints in --out/checkpoint), with training_log.jsonl,
 * loss.svg, l0.svg and feature_density.svg.
 */
export async function saeTrain(o: SaeTrainOptions): Promise<SaeTrainResult> {
  // Every flag is checked before the model runs, so a mistake costs no training time.
  checkOutputDir(o.out, '--out');
  const checkpointEvery = flagNumber('--checkpoint-every', o.checkpointEvery, true);
  const flags = { hook: o.hook, contextSize: o.contextSize, model: o.model, corpus: o.corpus, activations: o.activations };
  let trainer: SaeTrainer;
  let stream: TrainingStream;
  if (o.resume) {
    trainer = SaeTrainer.resume(o.resume);
    stream = trainingStream(flags, { dir: o.resume, metadata: trainer.cfg.metadata });
  } else {
    if (!trainingArchitectureNames().includes(o.architecture)) throw new UsageError(`--architecture must be one of ${trainingArchitectureNames().join(', ')}`);
    const matryoshkaPrefixes = o.matryoshkaPrefixes === undefined ? undefined : o.matryoshkaPrefixes.split(',').map((v) => positiveFlag('--matryoshka-prefixes', v.trim(), true));
    if (matryoshkaPrefixes !== undefined && o.architecture !== 'matryoshka') throw new UsageError('--matryoshka-prefixes needs --architecture matryoshka');
    const batch = positiveFlag('--batch', o.batch, true);
    const tokens = positiveFlag('--tokens', o.tokens, true);
    if (tokens < batch) throw new UsageError(`--tokens ${tokens} is less than one batch (--batch ${batch})`);
    const d_sae = positiveFlag('--d-sae', o.dSae, true);
    const k = positiveFlag('--k', o.k, true);
    if (k > d_sae && trainingArchitectureByName(o.architecture).usesK) throw new UsageError(`--k ${k} is larger than --d-sae ${d_sae}`);
    const config = {
      architecture: o.architecture, d_sae, k, matryoshkaPrefixes,
      batchSize: batch, totalSteps: Math.floor(tokens / batch), lr: positiveFlag('--lr', o.lr), lrSchedule: o.lrSchedule as LrSchedule,
      lrWarmupSteps: flagNumber('--lr-warmup', o.lrWarmup, true), l1Coefficient: flagNumber('--l1', o.l1), l0Coefficient: flagNumber('--l0', o.l0),
      sparsityWarmupSteps: flagNumber('--sparsity-warmup', o.sparsityWarmup, true), deadAfterTokens: flagNumber('--dead-after', o.deadAfter, true), seed: flagNumber('--seed', o.seed, true),
      logEvery: positiveFlag('--log-every', o.logEvery ?? '10', true), jumpReluMode: o.jumpreluMode as JumpReluSparsityMode,
    };
    stream = trainingStream(flags);
    trainer = newTrainerOnSource(stream.source, { ...config, metadata: stream.metadata }, { normalize: o.normalize });
  }
  const cfg = trainer.cfg;
  const stepsTotal = Math.max(cfg.totalSteps, trainer.step);
  const total = stream.source.total;
  if (total !== undefined && total < stepsTotal * cfg.batchSize) {
    throw new UsageError(`${stream.describe}, fewer than the ${stepsTotal * cfg.batchSize} this run trains on (${stepsTotal} steps of ${cfg.batchSize}): lower --tokens, or cache more`);
  }
  const progress = startProgress('training', stepsTotal * cfg.batchSize, 'tokens', ['loss', 'l0', 'ev', 'dead']);
  const start = Date.now();
  const startTokens = trainer.tokens;
  let last: StepStats | undefined;
  try {
    last = trainOnSource(trainer, stream.source, {
      checkpointDir: join(o.out, 'checkpoint'),
      checkpointEvery,
      onStep: (l) => progress.update(trainer.tokens, { loss: `loss ${l.total.toFixed(3)}`, l0: `L0 ${l.l0.toFixed(1)}`, ev: `EV ${l.explainedVariance.toFixed(3)}`, dead: `dead ${(100 * l.deadFraction).toFixed(1)}%` }),
    });
  } finally {
    progress.stop();
  }
  trainer.save(o.out);
  const seconds = (Date.now() - start) / 1000;
  const plots = writeTrainingPlots(o.out, trainer.history, trainer.featureDensity());
  return { out: o.out, last, seconds, tokensPerSecond: (trainer.tokens - startTokens) / Math.max(1e-3, seconds), normScale: cfg.normScale, plots };
}

/** `tinymorph sae train`. */
export function registerSaeTrain(sae: Command): void {
  sae
    .command('train')
    .description('train a sparse autoencoder on the activations at a hook point (the model\'s, or a cache\'s with --activations) and write a SAELens v6 folder')
    .option('--hook <name>', `hook point (default: ${DEFAULT_HOOK}, or the cache's with --activations)`)
    .addOption(new Option('--architecture <name>', 'SAE architecture').choices(trainingArchitectureNames()).default('topk'))
    .option('--d-sae <n>', 'latents', '512')
    .option('--k <n>', 'topk: latents per token; batchtopk/matryoshka: mean latents per token (k·batch kept per batch)', '16')
    .option('--matryoshka-prefixes <sizes>', 'matryoshka: nested prefix sizes, comma-separated (default d_sae/8,d_sae/4,d_sae/2,d_sae)')
    .option('--l1 <x>', 'standard/gated: L1 coefficient', String(DEFAULT_L1_COEFFICIENT))
    .option('--l0 <x>', 'jumprelu: L0 coefficient', String(DEFAULT_L0_COEFFICIENT))
    .addOption(new Option('--jumprelu-mode <mode>', 'jumprelu: sparsity penalty, tanh (Anthropic) or step (DeepMind\'s L0)').choices(JUMPRELU_SPARSITY_MODES).default(DEFAULT_JUMPRELU_MODE))
    .option('--tokens <n>', 'training tokens', '2000000')
    .option('--batch <n>', 'tokens per step', '1024')
    .option('--lr <x>', 'Adam learning rate', '1e-3')
    .addOption(new Option('--lr-schedule <name>', 'after warm-up').choices(LR_SCHEDULES).default('cosine'))
    .option('--lr-warmup <steps>', 'linear learning-rate warm-up steps', '50')
    .option('--sparsity-warmup <steps>', 'linear sparsity-coefficient warm-up steps', '100')
    .option('--dead-after <tokens>', 'a latent is dead after this many tokens without firing', '200000')
    .option('--context-size <n>', `tokens per context, BOS included (default: ${DEFAULT_CONTEXT_SIZE}, or the cache's)`)
    .option('--seed <n>', 'seed of the initialisation and the shuffling', '1')
    .option('--out <dir>', 'SAELens folder to write (checkpoints in <dir>/checkpoint)', 'sae-out')
    .option('--activations <dir>', 'train from an activation cache folder (`tinymorph activations cache`) instead of running the model')
    .option('--resume <dir>', 'continue from a checkpoint folder (e.g. sae-out/checkpoint), reading the activations from where it stopped')
    .option('--checkpoint-every <steps>', 'checkpoint interval in steps (0: only at the end)', '500')
    .option('--log-every <steps>', 'training_log.jsonl / plot point interval in steps', '10')
    .option('--model <file>', 'llama2.c model file (default: the embedded stories260K, or the cache\'s)')
    .option('--corpus <file>', 'text corpus (default: the TinyStories train sample, or the cache\'s; repeated as needed)')
    .option('--no-normalize', 'train on raw activations (no expected_average_only_in scaling)')
    .action(async (o: SaeTrainOptions) => {
      const r = await saeTrain(o);
      const l = r.last;
      const stats = l ? `explained variance ${l.explainedVariance.toFixed(4)}, L0 ${l.l0.toFixed(2)}, dead ${(100 * l.deadFraction).toFixed(2)}%, mse ${l.mse.toFixed(4)}` : 'no steps';
      process.stdout.write(`wrote ${r.out}: ${stats} (last batch); ${r.tokensPerSecond.toFixed(0)} tokens/s over ${r.seconds.toFixed(1)} s; norm scale ${r.normScale.toPrecision(5)}\nplots: ${r.plots.join(', ')}\n`);
    });
}
