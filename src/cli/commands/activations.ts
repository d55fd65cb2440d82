import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { trainSampleTextPath } from '../../model/embedded.js';
import type { HookName } from '../../model/hook-points.js';
import { loadModel } from '../../model/load-model.js';
import { corpusDocuments } from '../../sae/activation-store/activation-store.js';
import { cacheDiskBytes } from '../../sae/activation-store/cache-reader.js';
import type { CacheActivationsResult } from '../../sae/activation-store/cache-writer.js';
import { cacheActivations, DEFAULT_SHARD_TOKENS } from '../../sae/activation-store/cache-writer.js';
import { DEFAULT_BATCH_CONTEXTS } from '../../sae/activation-store/hook-activations.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import { positiveFlag } from '../options.js';
import { startProgress } from '../progress.js';
import { checkOutputDir } from '../../util/output-target.js';

interface CacheCommandOptions {
  hook: string;
  out: string;
  tokens: string;
  contextSize: string;
  corpus?: string;
  batchContexts: string;
  shardTokens: string;
  model?: string;
  bos: boolean;
}

export const formatBytes = (b: number): string => (b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);

/** Runs the model over the corpus and caches the hook's activations as safetensors shards in o.out (resuming a partial cache). */
export function activationsCache(o: CacheCommandOptions): CacheActivationsResult & { seconds: number } {
  checkOutputDir(o.out, '--out');
  const tokens = positiveFlag('--tokens', o.tokens, true);
  const contextSize = positiveFlag('--context-size', o.contextSize, true);
  const batchContexts = positiveFlag('--batch-contexts', o.batchContexts, true);
  const shardTokens = positiveFlag('--shard-tokens', o.shardTokens, true);
  const { model, tokenizer, modelPath } = loadModel({ model: o.model });
  const corpus = o.corpus ?? trainSampleTextPath();
  const docs = corpusDocuments(corpus);
  if (docs.length === 0) throw new UsageError(`corpus ${corpus} holds no text`);
  const progress = startProgress('caching', tokens, 'activations', ['disk']);
  const start = Date.now();
  let disk = '';
  try {
    const result = cacheActivations(model, tokenizer, docs, {
      dir: o.out, hook: o.hook as HookName, tokens, modelName: modelPath, corpusName: corpus,
      contextSize, prependBos: o.bos, batchContexts, shardTokens,
      onShard: (m) => (disk = `disk ${formatBytes(cacheDiskBytes(o.out, m))}`),
      onProgress: (done) => progress.update(done, { disk }),
    });
    progress.update(result.manifest.total_tokens, { disk: `disk ${formatBytes(cacheDiskBytes(o.out, result.manifest))}` });
    return { ...result, seconds: (Date.now() - start) / 1000 };
  } finally {
    progress.stop();
  }
}

/** `tinymorph activations <subcommand>`: activations at hook points, cached to disk for SAE training. */
export function registerActivations(program: Command): void {
  const acts = program.command('activations').description('activations at hook points: cache them to disk for SAE training');
  acts
    .command('cache')
    .description('run the model over a corpus and write the activations of one hook point as safetensors shards (a rerun resumes)')
    .requiredOption('--hook <name>', 'hook point, e.g. blocks.2.hook_resid_post')
    .requiredOption('--out <dir>', 'cache folder (manifest.json + shard-NNNNN.safetensors)')
    .option('--tokens <n>', 'activations to cache (special tokens excluded)', '1000000')
    .option('--context-size <n>', 'tokens per context, BOS included', String(DEFAULT_CONTEXT_SIZE))
    .option('--corpus <file>', 'text corpus, documents separated by <|endoftext|> or blank lines (default: the TinyStories train sample)')
    .option('--batch-contexts <n>', 'contexts per forward pass', String(DEFAULT_BATCH_CONTEXTS))
    .option('--shard-tokens <n>', 'activations per shard file', String(DEFAULT_SHARD_TOKENS))
    .option('--model <file>', 'llama2.c model file (default: the embedded stories260K)')
    .option('--no-bos', 'do not start each context with BOS')
    .action((o: CacheCommandOptions) => {
      const r = activationsCache(o);
      const m = r.manifest;
      const added = m.total_tokens - r.resumedTokens;
      const resumed = r.resumedTokens > 0 ? `, resumed after ${r.resumedTokens}` : '';
      const exhausted = m.corpus_exhausted ? ' (corpus exhausted before --tokens)' : '';
      process.stdout.write(
        `cached ${m.total_tokens} activations of ${m.hook} [d_in ${m.d_in}] in ${m.shards.length} shards at ${o.out}${resumed}${exhausted}; ` +
          `${formatBytes(cacheDiskBytes(o.out, m))} on disk; ${(added / Math.max(r.seconds, 1e-3)).toFixed(0)} activations/s\n`,
      );
    });
  acts.exitOverride();
  for (const cmd of acts.commands) cmd.exitOverride();
}
