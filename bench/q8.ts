import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { splitDocuments } from '../src/model/documents.js';
import { trainSampleTextPath, validationTextPath } from '../src/model/embedded.js';
import { generate } from '../src/model/generate.js';
import { LlamaModel } from '../src/model/llama-model.js';
import type { LlamaWeights } from '../src/model/llama-weights.js';
import { weightSummary } from '../src/model/llama-weights.js';
import { encodeLlama2c, parseLlama2c } from '../src/model/llama2c-format.js';
import { loadModel } from '../src/model/load-model.js';
import { meanCrossEntropy } from '../src/model/perplexity.js';
import { quantizeWeights } from '../src/model/quantize-weights.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import { backendOption, emit, emitMachine, log, positiveInt, printTable, round, runMain, useBackend } from './bench-utils.js';

/**
 * What Q8_0 weights cost in quality on the shipped stories260K (issue 4's acceptance: validation
 * perplexity within 1% of fp32; report where greedy output first diverges from fp32):
 * - perplexity (mean next-token cross-entropy) of the first N documents of the validation text and
 *   of the train sample, fp32 vs each Q8_0 variant, and the relative change of perplexity;
 * - for the reference prompts, the index of the first generated token where Q8_0 greedy decoding
 *   differs from fp32 greedy decoding (null: none within the tokens generated).
 * Q8_0 variants: `q8_0` = loadModel({ quantize: 'q8_0' }) (groups of 32, w2's 172-column rows in
 * 4); `q8_0-v2` = the llama2.c version 2 file `tinymorph quantize` writes (one group size for all,
 * 4 here, and the embedding itself quantised), read back. Prints JSON lines, then tables.
 */

const PROMPTS = ['', 'Zoo', 'Once upon a time', 'Lily and Ben'];

interface Opts {
  docs: number;
  tokens: number;
  backend?: string;
}

interface Variant {
  name: string;
  model: LlamaModel;
}

function variants(): { fp32: LlamaModel; q8: Variant[]; tokenizer: ReturnType<typeof loadModel>['tokenizer'] } {
  const base = loadModel();
  const c = base.model.config;
  const fp32 = base.model.weights as LlamaWeights<Float32Array>;
  const v2 = parseLlama2c(encodeLlama2c(c, quantizeWeights(fp32, c, { groupSize: 'uniform' }), 'llama2c-v2'), 'q8_0-v2');
  const q8: Variant[] = [
    { name: 'q8_0', model: loadModel({ quantize: 'q8_0' }).model },
    { name: 'q8_0-v2', model: new LlamaModel(c, v2.weights) },
  ];
  for (const v of [{ name: 'fp32', model: base.model }, ...q8]) {
    const s = weightSummary(v.model.weights, c);
    emit({ bench: 'q8', kind: 'weights', variant: v.name, format: s.format, group_sizes: s.groupSizes, bytes: s.bytes });
  }
  return { fp32: base.model, q8, tokenizer: base.tokenizer };
}

function firstDifference(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}

async function main(): Promise<void> {
  const program = new Command('q8')
    .description('Q8_0 vs fp32 on stories260K: perplexity change and first greedy divergence')
    .option('--docs <n>', 'documents of each text', positiveInt, 100)
    .option('--tokens <n>', 'greedy tokens per reference prompt', positiveInt, 256)
    .addOption(backendOption())
    .parse();
  const opts = program.opts<Opts>();
  useBackend(opts.backend);
  emitMachine('q8');
  const backend = activeBackend().name;
  const { fp32, q8, tokenizer } = variants();
  const seqLen = fp32.config.seqLen;

  const pplRows: string[][] = [];
  for (const [text, path] of [
    ['validation', validationTextPath()],
    ['train-sample', trainSampleTextPath()],
  ] as const) {
    const docs = splitDocuments(readFileSync(path, 'utf8'))
      .slice(0, opts.docs)
      .map((d) => tokenizer.encode(d).slice(0, seqLen));
    const base = meanCrossEntropy(fp32, docs);
    const basePpl = Math.exp(base.meanNats);
    emit({ bench: 'q8', kind: 'perplexity', text, variant: 'fp32', backend, documents: base.documents, tokens: base.tokens, nats: round(base.meanNats, 6), perplexity: round(basePpl, 5) });
    pplRows.push([text, 'fp32', String(base.documents), String(base.tokens), base.meanNats.toFixed(5), basePpl.toFixed(4), '']);
    for (const v of q8) {
      log(`perplexity: ${text}, ${v.name}…`);
      const r = meanCrossEntropy(v.model, docs);
      const ppl = Math.exp(r.meanNats);
      const change = ppl / basePpl - 1;
      emit({ bench: 'q8', kind: 'perplexity', text, variant: v.name, backend, documents: r.documents, tokens: r.tokens, nats: round(r.meanNats, 6), perplexity: round(ppl, 5), rel_change: round(change, 6) });
      pplRows.push([text, v.name, String(r.documents), String(r.tokens), r.meanNats.toFixed(5), ppl.toFixed(4), `${change >= 0 ? '+' : ''}${(100 * change).toFixed(3)}%`]);
    }
  }

  const greedy = (model: LlamaModel, prompt: string): number[] =>
    generate(model, tokenizer, [{ prompt, maxTokens: opts.tokens, sampling: { temperature: 0 }, stopAtEndOfText: false }])[0].tokens;
  const divRows: string[][] = [];
  for (const prompt of PROMPTS) {
    const ref = greedy(fp32, prompt);
    for (const v of q8) {
      const got = greedy(v.model, prompt);
      const at = firstDifference(ref, got);
      const context = at === null ? '' : ref.slice(Math.max(0, at - 6), at).map((t) => tokenizer.piece(t)).join('');
      const fork = at === null ? '' : `${JSON.stringify(tokenizer.piece(ref[at]))} vs ${JSON.stringify(tokenizer.piece(got[at]))}`;
      emit({ bench: 'q8', kind: 'divergence', prompt, variant: v.name, backend, tokens: ref.length, first_divergence: at, context, fp32_token: at === null ? null : ref[at], q8_token: at === null ? null : got[at] });
      divRows.push([JSON.stringify(prompt), v.name, at === null ? `none in ${ref.length}` : String(at), at === null ? '' : `…${JSON.stringify(context)} → ${fork}`]);
    }
  }

  printTable(`Perplexity, fp32 vs Q8_0 (stories260K, first ${opts.docs} documents, ${backend} kernels)`, ['text', 'weights', 'docs', 'tokens', 'nats/token', 'perplexity', 'change'], pplRows);
  printTable(`First generated token where Q8_0 greedy differs from fp32 greedy (${opts.tokens} tokens, 0-based)`, ['prompt', 'weights', 'first divergence', 'fp32 vs q8_0 at that token'], divRows);
}

await runMain(main);
