import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { trainSampleTextPath, validationTextPath } from '../../model/embedded.js';
import type { HookName } from '../../model/hook-points.js';
import { loadModel } from '../../model/load-model.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../sae/activation-store/activation-store.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import type { SaeEvalResult } from '../../sae/eval/run-sae-eval.js';
import { runSaeEval } from '../../sae/eval/run-sae-eval.js';
import { finetuneScale } from '../../sae/finetune/scale-finetune.js';
import type { Sae } from '../../sae/sae.js';
import { readSaeLensFolder, writeSaeLensFolder } from '../../sae/saelens-format.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { startProgress } from '../progress.js';
import { fewerContextsHandler } from './sae-eval.js';
import { checkTrainingMemory } from '../../sae/training/loss-common.js';
import { cycleDocuments, flagNumber, positiveFlag } from '../options.js';
import { checkOutputDir } from '../../util/output-target.js';

/** The JSON report written into the output folder. */
export const FINETUNE_SCALE_REPORT_FILE = 'finetune_scale.json';

export interface SaeFinetuneScaleCliOptions {
  out: string;
  tokens: string;
  lr: string;
  batch: string;
  decoder?: boolean;
  model?: string;
  corpus?: string;
  evalCorpus?: string;
  contexts: string;
  seed: string;
  /** Whether --contexts was given (see fewerContextsHandler). */
  contextsGiven?: boolean;
}

/** The headline metrics compared before and after. */
export interface FinetuneScaleMetrics {
  mse: number;
  explained_variance: number;
  l2_ratio: number;
  l0: number;
  ce_loss_without_sae: number;
  ce_loss_with_sae: number;
  ce_loss_score: number;
  kl_div_score: number;
}

export interface FinetuneScaleReport {
  source: string;
  out: string;
  options: { tokens: number; lr: number; batch: number; decoder: boolean; seed: number; eval_contexts: number };
  steps: number;
  tokens: number;
  scale: { mean: number; min: number; max: number };
  before: FinetuneScaleMetrics;
  after: FinetuneScaleMetrics;
  seconds: number;
}



export const headline = (r: SaeEvalResult): FinetuneScaleMetrics => ({
  mse: r.reconstruction_quality.mse,
  explained_variance: r.reconstruction_quality.explained_variance,
  l2_ratio: r.shrinkage.l2_ratio,
  l0: r.sparsity.l0,
  ce_loss_without_sae: r.model_performance_preservation.ce_loss_without_sae,
  ce_loss_with_sae: r.model_performance_preservation.ce_loss_with_sae,
  ce_loss_score: r.model_performance_preservation.ce_loss_score,
  kl_div_score: r.model_behavior_preservation.kl_div_score,
});

/**
 * Loads the SAELens folder `dir`, evaluates it on held-out text, fine-tunes its per-latent scale
 * (and with --decoder its decoder) on the training corpus with the encoder frozen, writes the folded
 * SAE to --out with finetune_scale.json (metrics before and after) and returns the report.
 */
export function saeFinetuneScale(dir: string, o: SaeFinetuneScaleCliOptions): FinetuneScaleReport {
  const t0 = Date.now();
  checkOutputDir(o.out, '--out');
  const tokens = positiveFlag('--tokens', o.tokens, true);
  const lr = positiveFlag('--lr', o.lr);
  const batch = positiveFlag('--batch', o.batch, true);
  const seed = flagNumber('--seed', o.seed, true);
  const contexts = positiveFlag('--contexts', o.contexts, true);
  const { model, tokenizer } = loadModel({ model: o.model });
  const sae = readSaeLensFolder(dir, { model: model.config });
  const hook = sae.config.metadata.hook_name as HookName | null | undefined;
  if (!hook) throw new UsageError(`${dir}: the SAE names no hook (cfg.json metadata.hook_name)`);
  checkTrainingMemory(sae.config.d_in, sae.config.d_sae, batch);
  const contextSize = typeof sae.config.metadata.context_size === 'number' ? Math.min(sae.config.metadata.context_size, model.config.seqLen) : DEFAULT_CONTEXT_SIZE;
  const evalCorpus = o.evalCorpus ?? validationTextPath();
  const evalDocs = corpusDocuments(evalCorpus);
  const onFewerContexts = fewerContextsHandler(evalCorpus, o.contextsGiven ?? true);
  const evaluate = (s: Sae, label: string): FinetuneScaleMetrics => {
    const p = startProgress(label, contexts, 'contexts');
    try {
      return headline(runSaeEval(model, tokenizer, s, evalDocs, { hook, contexts, seed, onProgress: (d) => p.update(d), onFewerContexts }));
    } finally {
      p.stop();
    }
  };
  const before = evaluate(sae, 'eval before');

  const d = sae.config.d_in;
  const source = { hook, contextSize, prependBos: true };
  const stream = shuffledActivations(modelActivations(model, tokenizer, cycleDocuments(corpusDocuments(o.corpus ?? trainSampleTextPath())), source), { width: d, batchSize: batch, seed });
  const full = (function* () {
    for (const x of stream) if (x.length === batch * d) yield x;
  })();
  const progress = startProgress('fine-tuning scale', tokens, 'tokens', ['mse']);
  let run;
  try {
    run = finetuneScale(sae, full, { tokens, lr, decoder: o.decoder ?? false, onStep: (s) => progress.update(Math.min(s.tokens, tokens), { mse: s.mse.toPrecision(4) }) });
  } finally {
    progress.stop();
  }
  const after = evaluate(run.sae, 'eval after');
  writeSaeLensFolder(o.out, run.sae);
  let mn = Infinity;
  let mx = -Infinity;
  let sum = 0;
  for (const v of run.scale) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
    sum += v;
  }
  const report: FinetuneScaleReport = {
    source: dir,
    out: o.out,
    options: { tokens, lr, batch, decoder: o.decoder ?? false, seed, eval_contexts: contexts },
    steps: run.steps,
    tokens: run.tokens,
    scale: { mean: sum / run.scale.length, min: mn, max: mx },
    before,
    after,
    seconds: (Date.now() - t0) / 1000,
  };
  writeFileAtomic(join(o.out, FINETUNE_SCALE_REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Before → after table. */
export function formatFinetuneScale(r: FinetuneScaleReport): string {
  const keys = Object.keys(r.before) as (keyof FinetuneScaleMetrics)[];
  const w = Math.max(...keys.map((k) => k.length));
  const f = (x: number): string => (Number.isFinite(x) ? x.toPrecision(5) : String(x));
  const rows = keys.map((k) => {
    const b = r.before[k];
    const a = r.after[k];
    const rel = b !== 0 && Number.isFinite(a / b) ? ` (${((a / b - 1) * 100).toFixed(1)}%)` : '';
    return `${k.padEnd(w)}  ${f(b)} → ${f(a)}${rel}`;
  });
  return `${rows.join('\n')}\n${r.steps} steps, ${r.tokens} tokens; scale mean ${f(r.scale.mean)} [${f(r.scale.min)}, ${f(r.scale.max)}]\n`;
}

/** `tinymorph sae finetune-scale <sae-folder> --out <dir>`. */
export function registerSaeFinetuneScale(sae: Command): void {
  sae
    .command('finetune-scale <sae-folder>')
    .description('fine-tune a per-latent scale (optionally the decoder) with the encoder frozen and MSE only, against feature suppression (Wright & Sharkey 2024)')
    .requiredOption('--out <dir>', 'SAELens folder to write (the scale folded into W_dec), with finetune_scale.json')
    .option('--tokens <n>', 'fine-tuning tokens', '500000')
    .option('--lr <x>', 'Adam learning rate', '1e-3')
    .option('--batch <n>', 'tokens per step', '1024')
    .option('--decoder', 'also train W_dec and b_dec')
    .option('--model <file>', 'llama2.c model file (default: the embedded stories260K)')
    .option('--corpus <file>', 'training text (default: the TinyStories train sample; repeated as needed)')
    .option('--eval-corpus <file>', 'held-out text for the before/after evaluation (default: the TinyStories validation text)')
    .option('--contexts <n>', 'held-out contexts evaluated before and after', '32')
    .option('--seed <n>', 'seed of the shuffling and of the evaluation', '1')
    .action((dir: string, o: SaeFinetuneScaleCliOptions, cmd: Command) => {
      const r = saeFinetuneScale(dir, { ...o, contextsGiven: cmd.getOptionValueSource('contexts') !== 'default' });
      process.stdout.write(formatFinetuneScale(r) + `wrote ${o.out} and ${join(o.out, FINETUNE_SCALE_REPORT_FILE)}\n`);
    });
}
