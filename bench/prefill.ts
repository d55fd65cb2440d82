import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import type { Tokenizer } from '../src/model/tokenizer.js';
import type { RateStats, ShapeName } from './bench-utils.js';
import {
  backendInfo,
  backendLabel,
  backendOption,
  emit,
  fmtRate,
  log,
  positiveInt,
  positiveNumber,
  printTable,
  rateStats,
  repeatWithin,
  round,
  runMain,
  selectShapes,
  shapeFiles,
  shapeOption,
  threadsOption,
  timeMs,
  useBackend,
  validationStories,
} from './bench-utils.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape, runCTranscript, sameTranscript } from './llama2c-baseline.js';

/**
 * Prompt throughput (prefill tokens/s) of a 256-token TinyStories prompt: tinymorph processes the
 * prompt in one batched forward pass (`model.forward(cache, [tokens])`, timed alone); llama2.c run.c
 * processes a prompt one token at a time, so its prompt throughput is its own tok/s over a run that
 * covers only the prompt positions (-n = prompt tokens with BOS). Same model file, one invocation.
 */

const WARMUP_TOKENS = 32;

interface Opts {
  shape: ShapeName | 'all';
  promptTokens: number;
  repeats: number;
  budget: number;
  seed: number;
  threads: number;
  backend?: string;
}

interface Row {
  shape: ShapeName;
  tokens: number;
  ours: RateStats;
  bestMs: number;
  runc?: RateStats;
  sameText?: boolean;
}

/**
 * A prefix of the validation stories that encodes (with BOS) to exactly `count` tokens: whole
 * words while they fit, then characters of the next word; fewer tokens only if no prefix hits count.
 */
function promptOfTokens(tok: Tokenizer, count: number): { text: string; ids: number[] } {
  const words = validationStories().join('\n\n').split(/(?<=\s)/); // words keep their trailing space
  const len = (k: number): number => tok.encode(words.slice(0, k).join('').trimEnd()).length;
  // Largest k with len(k) ≤ count (token counts grow with the text, give or take a merge).
  let lo = 0;
  let hi = Math.min(words.length, count);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (len(mid) <= count) lo = mid;
    else hi = mid - 1;
  }
  let text = words.slice(0, lo).join('').trimEnd();
  const next = words[lo] ?? '';
  for (let j = 1; j <= next.length && tok.encode(text).length < count; j++) {
    const longer = words.slice(0, lo).join('') + next.slice(0, j);
    if (tok.encode(longer).length <= count && longer.trim() === longer) text = longer;
  }
  return { text, ids: tok.encode(text) };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function benchShape(shape: ShapeName, opts: Opts, dir: string, runc: Llama2cBaseline | undefined): Row | undefined {
  const files = shapeFiles(shape, dir, opts.seed);
  if (!files) return undefined;
  const loaded = loadModel(files);
  const seqLen = loaded.model.config.seqLen;
  if (opts.promptTokens > seqLen) throw new UsageError(`${shape}: --prompt-tokens ${opts.promptTokens} is more than the model's seq_len ${seqLen}`);
  const { text, ids } = promptOfTokens(loaded.tokenizer, opts.promptTokens);
  if (ids.length !== opts.promptTokens) log(`note: ${shape}: no prefix of the text encodes to exactly ${opts.promptTokens} tokens; using ${ids.length}`);
  const P = ids.length;

  // JIT warm-up on a short prompt (a full one would cost a minute on 110m with the reference kernels).
  loaded.model.forward(loaded.model.newCache(1, WARMUP_TOKENS), [ids.slice(0, WARMUP_TOKENS)]);
  const ours: number[] = [];
  const theirs: number[] = [];
  let bestMs = Infinity;
  let next = -1;
  let runcStdout: Buffer | undefined;
  // run.c -n P: forwards at positions 0..P−1, all of them prompt tokens (the last one's logits give
  // the first sampled token); its clock covers positions 1..P−1, so it reports (P − 1) / elapsed.
  const runs = repeatWithin(opts.repeats, opts.budget, (r) => {
    const c = runc?.tryRun({ ...files, steps: P, prompt: text, threads: opts.threads }, shape);
    if (c) theirs.push(c.rate);
    runcStdout ??= c?.stdout;
    log(`${shape}: repeat ${r}/${opts.repeats}: ${runc ? `run.c ${c?.rate.toFixed(1) ?? 'failed'} tok/s; ` : ''}tinymorph prefilling ${P} tokens…`);
    const cache = loaded.model.newCache(1, P);
    let logits: Float32Array | undefined;
    const ms = timeMs(() => {
      logits = loaded.model.forward(cache, [ids]).logits;
    });
    next = argmax(logits!);
    bestMs = Math.min(bestMs, ms);
    ours.push((P * 1000) / ms);
  });
  const row: Row = { shape, tokens: P, ours: rateStats(ours), bestMs };
  emit({ bench: 'prefill', shape, runtime: 'tinymorph', ...backendInfo(loaded.model.backend.name), tokens_per_s: round(row.ours.best, 2), tokens: P, median_tokens_per_s: round(row.ours.median, 2), best_ms: round(bestMs, 1), prompt_tokens: P, repeats: runs });
  if (theirs.length > 0 && runcStdout) {
    // run.c prints every prompt piece and then its first sampled token: compare with ours.
    const expected = runCTranscript(loaded.tokenizer, [...ids, next], P);
    row.sameText = sameTranscript(shape, expected.text, runcStdout.toString('latin1'), { randomWeights: files.random });
    row.runc = rateStats(theirs);
    emit({ bench: 'prefill', shape, runtime: 'llama2c-run.c', threads: opts.threads, tokens_per_s: round(row.runc.best, 2), tokens: P - 1, median_tokens_per_s: round(row.runc.median, 2), prompt_tokens: P, repeats: row.runc.runs });
    emit({ bench: 'prefill', shape, ratio: round(row.ours.best / row.runc.best, 4), same_text: row.sameText });
  }
  return row;
}

async function main(): Promise<void> {
  const program = new Command('prefill')
    .description('Prompt throughput (tokens/s) of a 256-token prompt: tinymorph batched prefill vs llama2.c run.c token by token, same model file, and their ratio.')
    .addOption(shapeOption('all'))
    .option('--prompt-tokens <n>', 'prompt length in tokens, BOS included (TinyStories validation text)', positiveInt, 256)
    .option('--repeats <n>', 'runs per side at most; the best and the median are reported', positiveInt, 3)
    .option('--budget <s>', 'stop repeating a shape once this many seconds have passed (after one repeat)', positiveNumber, 30)
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(threadsOption())
    .addOption(backendOption())
    .parse();
  const opts = program.opts<Opts>();
  useBackend(opts.backend);
  const rows = await benchEveryShape('prefill', selectShapes(opts.shape), (shape, dir, runc) => benchShape(shape, opts, dir, runc));
  printTable(
    `prefill of a ${opts.promptTokens}-token prompt, tokens/s (best, median of the repeats); tinymorph ${backendLabel(activeBackend().name)}; run.c with ${opts.threads} threads; target ratio ≥ 5`,
    ['shape', 'tokens', 'tinymorph tok/s', 'ms', 'run.c tok/s', 'ratio', 'same text'],
    rows.map((r) => [r.shape, String(r.tokens), fmtRate(r.ours), r.bestMs.toFixed(0), fmtRate(r.runc), r.runc ? (r.ours.best / r.runc.best).toFixed(2) : '-', r.sameText === undefined ? '-' : r.sameText ? 'yes' : 'NO']),
  );
}

await runMain(main);
