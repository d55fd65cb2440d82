import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { splitDocuments } from '../../model/documents.js';
import { meanCrossEntropy } from '../../model/perplexity.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions, parseInteger } from '../options.js';
import { startProgress } from '../progress.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';

interface PerplexityOptions extends ModelOptions {
  maxDocs?: number;
  context?: number;
  json?: boolean;
}

export function registerPerplexity(program: Command): void {
  addModelOptions(
    program
      .command('perplexity')
      .description('mean next-token cross-entropy (nats/token) of a text file, document by document (split on <|endoftext|> or blank lines), each BOS-prefixed')
      .argument('<file>', 'UTF-8 text file'),
  )
    .option('--max-docs <n>', 'only the first n documents', parseInteger(1))
    .option('--context <n>', "cut documents to n tokens (default: the model's context)", parseInteger(2))
    .option('--json', 'print JSON')
    .action((file: string, o: PerplexityOptions) => {
      const text = readTextBounded(file, READ_LIMITS.text, (problem) => new UsageError(`${file}: ${problem}`));
      const { model, tokenizer } = loadFromOptions(o);
      const context = Math.min(o.context ?? model.config.seqLen, model.config.seqLen);
      const docs = splitDocuments(text)
        .slice(0, o.maxDocs)
        .map((d) => tokenizer.encode(d).slice(0, context));
      if (docs.length === 0) throw new UsageError(`${file} has no text`);
      const progress = startProgress('perplexity', docs.length, 'docs');
      const r = meanCrossEntropy(model, docs, { onProgress: (n) => progress.update(n) });
      progress.stop();
      const out = { file, documents: r.documents, tokens: r.tokens, mean_ce_nats: r.meanNats, perplexity: Math.exp(r.meanNats) };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else process.stdout.write(`${r.meanNats.toFixed(4)} nats/token (perplexity ${out.perplexity.toFixed(3)}) over ${r.tokens} tokens in ${r.documents} documents\n`);
    });
}
