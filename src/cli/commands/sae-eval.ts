import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { validationTextPath } from '../../model/embedded.js';
import type { HookName } from '../../model/hook-points.js';
import { loadModel } from '../../model/load-model.js';
import { corpusDocuments } from '../../sae/activation-store/activation-store.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import type { SaeEvalResult } from '../../sae/eval/run-sae-eval.js';
import { runSaeEval } from '../../sae/eval/run-sae-eval.js';
import { readSaeLensFolder } from '../../sae/saelens-format.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { flagNumber, positiveFlag } from '../options.js';
import { startProgress } from '../progress.js';
import { DENSITY_PLOT_FILE, heldOutDensityPlotSvg } from '../../sae/training/training-plots.js';
import { checkOutputFile } from '../../util/output-target.js';

/** Where `sae eval --out <file>` puts its density plot: feature_density.svg in the same folder. */
export const densityPlotPath = (out: string): string => join(dirname(out), DENSITY_PLOT_FILE);

export interface SaeEvalCliOptions {
  contexts: string;
  contextSize: string;
  batch: string;
  corpus?: string;
  out?: string;
  model?: string;
  hook?: string;
  seed: string;
  errorTerm?: boolean;
  /** Whether --contexts was given (not left at its default): then a text too short for it is an error, else a note. */
  contextsGiven?: boolean;
}

/**
 * What happens when the held-out text holds fewer contexts than --contexts: an error naming both
 * numbers when the user asked for that many, a note on stderr when it was the default.
 */
export function fewerContextsHandler(corpus: string, given: boolean): (available: number, asked: number, contextSize: number) => void {
  return (available, asked, contextSize) => {
    const holds = `${corpus} holds only ${available} contexts of ${contextSize} tokens`;
    if (given) throw new UsageError(`--contexts ${asked}: ${holds}`);
    process.stderr.write(`tinymorph: note: ${holds}; evaluating those (--contexts defaults to ${asked})\n`);
  };
}

/**
 * Evaluates the SAELens folder `dir` on held-out text; with --out, writes the JSON there and the
 * feature density histogram as feature_density.svg next to it.
 */
export async function saeEval(dir: string, o: SaeEvalCliOptions): Promise<SaeEvalResult> {
  if (o.out !== undefined) {
    checkOutputFile(o.out, '--out');
    checkOutputFile(densityPlotPath(o.out), '--out (its density plot)');
  }
  const contexts = positiveFlag('--contexts', o.contexts, true);
  const contextSize = positiveFlag('--context-size', o.contextSize, true);
  const batchContexts = positiveFlag('--batch', o.batch, true);
  const seed = flagNumber('--seed', o.seed, true);
  const { model, tokenizer } = loadModel({ model: o.model });
  const sae = readSaeLensFolder(dir, { model: model.config, hookName: o.hook });
  const corpus = o.corpus ?? validationTextPath();
  const docs = corpusDocuments(corpus);
  const progress = startProgress('evaluating', contexts, 'contexts');
  let result: SaeEvalResult;
  try {
    result = runSaeEval(model, tokenizer, sae, docs, {
      hook: o.hook as HookName | undefined,
      contexts,
      contextSize,
      batchContexts,
      seed,
      errorTerm: o.errorTerm ?? false,
      onProgress: (d) => progress.update(d),
      onFewerContexts: fewerContextsHandler(corpus, o.contextsGiven ?? true),
    });
  } finally {
    progress.stop();
  }
  if (o.out) {
    writeFileAtomic(o.out, JSON.stringify(result, null, 2) + '\n');
    writeFileAtomic(densityPlotPath(o.out), heldOutDensityPlotSvg(result.feature_metrics.feature_density_histogram, result.token_stats.contexts));
  }
  return result;
}

/** A short human table of the headline metrics. */
export function formatSaeEval(r: SaeEvalResult): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toPrecision(5) : String(x));
  const rows: [string, number][] = [
    ['l0', r.sparsity.l0],
    ['l1', r.sparsity.l1],
    ['explained_variance', r.reconstruction_quality.explained_variance],
    ['mse', r.reconstruction_quality.mse],
    ['cossim', r.reconstruction_quality.cossim],
    ['l2_ratio', r.shrinkage.l2_ratio],
    ['relative_reconstruction_bias', r.shrinkage.relative_reconstruction_bias],
    ['ce_loss_without_sae', r.model_performance_preservation.ce_loss_without_sae],
    ['ce_loss_with_sae', r.model_performance_preservation.ce_loss_with_sae],
    ['ce_loss_with_ablation', r.model_performance_preservation.ce_loss_with_ablation],
    ['ce_loss_score', r.model_performance_preservation.ce_loss_score],
    ['kl_div_with_sae', r.model_behavior_preservation.kl_div_with_sae],
    ['kl_div_with_ablation', r.model_behavior_preservation.kl_div_with_ablation],
    ['kl_div_score', r.model_behavior_preservation.kl_div_score],
    ['kl_div_sae_over_random', r.pathology.kl_div_sae_over_random],
    ['dead_features_fraction', r.sparsity.dead_features_fraction],
    ['dense_features_fraction', r.sparsity.dense_features_fraction],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${f(v)}`).join('\n') + `\n(${r.token_stats.contexts} contexts × ${r.token_stats.context_size} tokens)\n`;
}

/** `tinymorph sae eval <sae-folder>`. */
export function registerSaeEval(sae: Command): void {
  sae
    .command('eval <sae-folder>')
    .description('evaluate a SAELens SAE folder on held-out text: reconstruction, sparsity, CE/KL with the SAE spliced in (SAELens metric names)')
    .option('--contexts <n>', 'held-out contexts', '32')
    .option('--context-size <n>', 'tokens per context, BOS included', String(DEFAULT_CONTEXT_SIZE))
    .option('--batch <n>', 'contexts per forward call', '8')
    .option('--corpus <file>', 'held-out text (default: the TinyStories validation text)')
    .option('--out <file>', 'write the metrics as JSON (atomically)')
    .option('--model <file>', 'llama2.c model file (default: the embedded stories260K)')
    .option('--hook <name>', 'hook point (default: the SAE cfg.json metadata.hook_name)')
    .option('--seed <n>', 'seed of the random directions of the pathology check', '0')
    .option('--error-term', 'splice the SAE with its error term (a check: SAE metrics equal the clean model\'s)')
    .action(async (dir: string, o: SaeEvalCliOptions, cmd: Command) => {
      const r = await saeEval(dir, { ...o, contextsGiven: cmd.getOptionValueSource('contexts') !== 'default' });
      process.stdout.write(formatSaeEval(r) + (o.out ? `wrote ${o.out} and ${densityPlotPath(o.out)}\n` : ''));
    });
}
