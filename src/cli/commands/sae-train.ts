import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import { loadModel } from '../../model/load-model.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../sae/activation-store/activation-store.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import { estimateNormScale } from '../../sae/training/activation-normalizer.js';
import { usesPenalisedInit } from '../../sae/training/init.js';
import { LR_SCHEDULES } from '../../sae/training/schedules.js';
import type { LrSchedule } from '../../sae/training/schedules.js';
import type { SaeTrainerConfig, StepStats, TrainableArchitecture } from '../../sae/training/trainer.js';
import { DEFAULT_JUMPRELU_MODE, DEFAULT_L0_COEFFICIENT, DEFAULT_L1_COEFFICIENT, SaeTrainer, TRAINABLE_ARCHITECTURES } from '../../sae/training/trainer.js';
import type { JumpReluSparsityMode } from '../../sae/training/losses-jumprelu.js';
import { JUMPRELU_SPARSITY_MODES } from '../../sae/training/losses-jumprelu.js';
import { writeTrainingPlots } from '../../sae/training/training-plots.js';
import { trainSampleTextPath } from '../../model/embedded.js';
import { startProgress } from '../progress.js';
import { cycleDocuments, flagNumber, positiveFlag } from '../options.js';
import { hookWidth } from '../../sae/hook-width.js';
import { checkTrainingMemory } from '../../sae/training/loss-common.js';
import { packageRoot } from '../../util/package-root.js';
import { checkOutputDir } from '../../util/output-target.js';

export interface SaeTrainOptions {
  hook: string;
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
  contextSize: string;
  seed: string;
  out: string;
  resume?: string;
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
 * Trains an SAE on the model's activations at --hook and writes a SAELens folder to --out
 * (checkpoints in --out/checkpoint), with training_log.jsonl, loss.svg, l0.svg and feature_density.svg.
 */
export async function saeTrain(o: SaeTrainOptions): Promise<SaeTrainResult> {
  // Every flag is checked before the model runs, so a mistake costs no training time.
  checkOutputDir(o.out, '--out');
  const contextSize = positiveFlag('--context-size', o.contextSize, true);
  const batch = positiveFlag('--batch', o.batch, true);
  const tokens = positiveFlag('--tokens', o.tokens, true);
  if (tokens < batch) throw new UsageError(`--tokens ${tokens} is less than one batch (--batch ${batch})`);
  const totalSteps = Math.floor(tokens / batch);
  const seed = flagNumber('--seed', o.seed, true);
  const every = flagNumber('--checkpoint-every', o.checkpointEvery, true);
  const train = o.resume ? undefined : trainFlags(o);
  const { model, tokenizer, modelPath } = loadModel({ model: o.model });
  const corpus = o.corpus ?? trainSampleTextPath();
  const docs = corpusDocuments(corpus);
  const source = { hook: o.hook as HookName, contextSize, prependBos: true };
  const d_in = hookWidth(model.config, o.hook);
  if (d_in === undefined) throw new UsageError(`--hook ${o.hook} has no fixed per-token width; pick another hook point`);
  let trainer: SaeTrainer;
  if (!train) {
    trainer = SaeTrainer.resume(o.resume as string);
  } else {
    checkTrainingMemory(d_in, train.d_sae, batch);
    const first = modelActivations(model, tokenizer, cycleDocuments(docs), source);
    const sample: Float32Array[] = [];
    let n = 0;
    for (const b of first) {
      sample.push(b);
      n += b.length;
      if (n >= 64 * 1024 * d_in) break;
    }
    const normScale = o.normalize ? estimateNormScale(sample, d_in) : 1;
    trainer = new SaeTrainer({
      ...train, d_in, batchSize: batch, totalSteps, normScale, seed,
      metadata: { model_name: basename(modelPath, '.bin'), hook_name: o.hook, context_size: contextSize, prepend_bos: true, dataset_path: portableName(corpus), exclude_special_tokens: true },
    });
    if (usesPenalisedInit(o.architecture)) trainer.initDecoderBiasToMean(sample);
  }
  const cfg = trainer.cfg;
  const stream = shuffledActivations(modelActivations(model, tokenizer, cycleDocuments(docs), source), { width: cfg.d_in, batchSize: cfg.batchSize, seed: cfg.seed });
  // A resumed run replays the (deterministic) stream up to where it stopped.
  for (let i = 0; i < trainer.step; i++) stream.next();
  const stepsTotal = Math.max(cfg.totalSteps, trainer.step);
  const ckptDir = join(o.out, 'checkpoint');
  const progress = startProgress('training', stepsTotal * cfg.batchSize, 'tokens', ['loss', 'l0', 'ev', 'dead']);
  const start = Date.now();
  const startTokens = trainer.tokens;
  let last: StepStats | undefined;
  try {
    while (trainer.step < stepsTotal) {
      const next = stream.next();
      if (next.done) break;
      if (next.value.length !== cfg.batchSize * cfg.d_in) continue;
      last = trainer.trainStep(next.value);
      progress.update(trainer.tokens, { loss: `loss ${last.total.toFixed(3)}`, l0: `L0 ${last.l0.toFixed(1)}`, ev: `EV ${last.explainedVariance.toFixed(3)}`, dead: `dead ${(100 * last.deadFraction).toFixed(1)}%` });
      if (every > 0 && trainer.step % every === 0) trainer.checkpoint(ckptDir);
    }
  } finally {
    progress.stop();
  }
  trainer.checkpoint(ckptDir);
  trainer.save(o.out);
  const seconds = (Date.now() - start) / 1000;
  const plots = await writeTrainingPlots(o.out, trainer.history, trainer.featureDensity());
  return { out: o.out, last, seconds, tokensPerSecond: (trainer.tokens - startTokens) / Math.max(1e-3, seconds), normScale: cfg.normScale, plots };
}

/** The flags that shape a new SAE and its optimiser, checked (a resumed run takes them from its checkpoint). */
function trainFlags(o: SaeTrainOptions): Omit<SaeTrainerConfig, 'd_in' | 'batchSize' | 'totalSteps' | 'normScale' | 'seed' | 'metadata'> {
  if (!(TRAINABLE_ARCHITECTURES as readonly string[]).includes(o.architecture)) throw new UsageError(`--architecture must be one of ${TRAINABLE_ARCHITECTURES.join(', ')}`);
  const d_sae = positiveFlag('--d-sae', o.dSae, true);
  const k = positiveFlag('--k', o.k, true);
  if (k > d_sae && (o.architecture === 'topk' || o.architecture === 'batchtopk' || o.architecture === 'matryoshka')) throw new UsageError(`--k ${k} is larger than --d-sae ${d_sae}`);
  const matryoshkaPrefixes = o.matryoshkaPrefixes === undefined ? undefined : o.matryoshkaPrefixes.split(',').map((v) => positiveFlag('--matryoshka-prefixes', v.trim(), true));
  if (matryoshkaPrefixes !== undefined && o.architecture !== 'matryoshka') throw new UsageError('--matryoshka-prefixes needs --architecture matryoshka');
  return {
    architecture: o.architecture as TrainableArchitecture, d_sae, k, matryoshkaPrefixes,
    lr: positiveFlag('--lr', o.lr), lrSchedule: o.lrSchedule as LrSchedule, lrWarmupSteps: flagNumber('--lr-warmup', o.lrWarmup, true),
    l1Coefficient: flagNumber('--l1', o.l1), l0Coefficient: flagNumber('--l0', o.l0), sparsityWarmupSteps: flagNumber('--sparsity-warmup', o.sparsityWarmup, true),
    deadAfterTokens: flagNumber('--dead-after', o.deadAfter, true), logEvery: positiveFlag('--log-every', o.logEvery ?? '10', true),
    jumpReluMode: o.jumpreluMode as JumpReluSparsityMode,
  };
}

/** `tinymorph sae train`. */
export function registerSaeTrain(sae: Command): void {
  sae
    .command('train')
    .description('train a sparse autoencoder on the model\'s activations at a hook point and write a SAELens v6 folder')
    .option('--hook <name>', 'hook point', 'blocks.2.hook_resid_post')
    .addOption(new Option('--architecture <name>', 'SAE architecture').choices(TRAINABLE_ARCHITECTURES).default('topk'))
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
    .option('--context-size <n>', 'tokens per context, BOS included', String(DEFAULT_CONTEXT_SIZE))
    .option('--seed <n>', 'seed of the initialisation and the shuffling', '1')
    .option('--out <dir>', 'SAELens folder to write (checkpoints in <dir>/checkpoint)', 'sae-out')
    .option('--resume <dir>', 'continue from a checkpoint folder (e.g. sae-out/checkpoint)')
    .option('--checkpoint-every <steps>', 'checkpoint interval in steps (0: only at the end)', '500')
    .option('--log-every <steps>', 'training_log.jsonl / plot point interval in steps', '10')
    .option('--model <file>', 'llama2.c model file (default: the embedded stories260K)')
    .option('--corpus <file>', 'text corpus (default: the TinyStories train sample; repeated as needed)')
    .option('--no-normalize', 'train on raw activations (no expected_average_only_in scaling)')
    .action(async (o: SaeTrainOptions) => {
      const r = await saeTrain(o);
      const l = r.last;
      const stats = l ? `explained variance ${l.explainedVariance.toFixed(4)}, L0 ${l.l0.toFixed(2)}, dead ${(100 * l.deadFraction).toFixed(2)}%, mse ${l.mse.toFixed(4)}` : 'no steps';
      process.stdout.write(`wrote ${r.out}: ${stats} (last batch); ${r.tokensPerSecond.toFixed(0)} tokens/s over ${r.seconds.toFixed(1)} s; norm scale ${r.normScale.toPrecision(5)}\nplots: ${r.plots.join(', ')}\n`);
    });
}

/** A path for cfg.json that means the same on another machine: relative to the package when inside it (the embedded model and corpus). */
function portableName(path: string): string {
  const rel = relative(packageRoot(), resolve(path));
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}
