import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import type { Tokenizer } from '../src/model/tokenizer.js';
import type { ShapeName } from './bench-utils.js';
import {
  backendInfo,
  backendLabel,
  backendOption,
  emit,
  log,
  positiveInt,
  positiveNumber,
  printTable,
  runMain,
  selectShapes,
  shapeFiles,
  shapeOption,
  threadsOption,
  tinymorphThreadCounts,
  useBackend,
  validationStories,
  withNativeThreads,
} from './bench-utils.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape, runCTranscript, sameTranscript } from './llama2c-baseline.js';
import type { AtThreads } from './versus-runc.js';
import { atThreads, emitRatios, RATIO_NOTE, ratiosVsBest, threadRows, threadSides } from './versus-runc.js';

/**
 * Prompt throughput (prefill tokens/s) of a 256-token TinyStories prompt: tinymorph processes the
 * prompt in one batched forward pass (`model.forward(cache, [tokens], { allLogits: true })`, timed
 * alone); llama2.c run.c processes a prompt one token at a time, so its prompt throughput is its
 * own tok/s over a run that covers only the prompt positions (-n = prompt tokens with BOS). Same
 * model file, one invocation.
 */

const WARMUP_TOKENS = 32;

/**
 * run.c's forward computes the classifier (logits over the vocabulary) at every position, prompt
 * positions included, so tinymorph's timed prefill does too (`allLogits`), rather than only for the
 * last token, which is all generation needs: the same work on both sides. On 15m the classifier is
 * 18.4 of the 30 MFLOP per token, so leaving it out of one side only would flatter that side.
 */
const CLASSIFIER = 'every position, both sides';

interface Opts {
  shape: ShapeName | 'all';
  promptTokens: number;
  repeats: number;
  budget: number;
  seed: number;
  threads: number[];
  backend?: string;
}

interface Row {
  shape: ShapeName;
  tokens: number;
  ours: AtThreads[];
  runc: AtThreads[];
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
  const { seqLen, vocabSize } = loaded.model.config;
  if (opts.promptTokens > seqLen) throw new UsageError(`${shape}: --prompt-tokens ${opts.promptTokens} is more than the model's seq_len ${seqLen}`);
  const { text, ids } = promptOfTokens(loaded.tokenizer, opts.promptTokens);
  if (ids.length !== opts.promptTokens) log(`note: ${shape}: no prefix of the text encodes to exactly ${opts.promptTokens} tokens; using ${ids.length}`);
  const P = ids.length;
  const model = loaded.model;

  /** One timed prefill of the whole prompt on a fresh cache; the classifier at every position (CLASSIFIER). */
  const prefill = (tokens: number[]): { ms: number; next: number } => {
    const cache = model.newCache(1, tokens.length);
    const t0 = performance.now();
    const { logits } = model.forward(cache, [tokens], { allLogits: true });
    const ms = performance.now() - t0;
    return { ms, next: argmax(logits.subarray((tokens.length - 1) * vocabSize, tokens.length * vocabSize)) };
  };
  const ourThreads = tinymorphThreadCounts(model.backend.name, opts.threads);
  // JIT warm-up and the thread pool's start on a short prompt (a full one would cost a minute on 110m with the reference kernels).
  for (const t of ourThreads) withNativeThreads(t, () => prefill(ids.slice(0, WARMUP_TOKENS)));
  let next = -1;
  let runcStdout: Buffer | undefined;
  // run.c -n P: forwards at positions 0..P−1, all of them prompt tokens (the last one's logits give
  // the first sampled token); its clock covers positions 1..P−1, so it reports (P − 1) / elapsed.
  const runcSides = !runc
    ? []
    : threadSides('run.c', opts.threads, (threads) => {
        const c = runc.tryRun({ ...files, steps: P, prompt: text, threads }, shape);
        runcStdout ??= c?.stdout;
        return c?.rate;
      });
  const ourSides = threadSides('tinymorph', ourThreads, (threads) => {
    const r = withNativeThreads(threads, () => prefill(ids));
    next = r.next;
    return (P * 1000) / r.ms;
  });
  const samples = interleave([...runcSides, ...ourSides], { repeats: opts.repeats, budgetS: opts.budget, progress: `${shape}, ${P}-token prompt` });
  const theirs = atThreads(samples, opts.threads.slice(0, runcSides.length), rateStats);
  const ours = atThreads(samples.slice(runcSides.length), ourThreads, rateStats);
  const row: Row = { shape, tokens: P, ours, runc: theirs };
  const common = { bench: 'prefill', shape, prompt_tokens: P, classifier: CLASSIFIER };
  for (const o of ours) emit({ ...common, runtime: 'tinymorph', ...backendInfo(model.backend.name, o.threads), threads: o.threads, ...statsFields('tokens_per_s', o.stats), tokens: P });
  if (theirs.length > 0 && runcStdout) {
    // run.c prints every prompt piece and then its first sampled token: compare with ours.
    const expected = runCTranscript(loaded.tokenizer, [...ids, next], P);
    row.sameText = sameTranscript(shape, expected.text, runcStdout.toString('latin1'), { randomWeights: files.random });
    for (const r of theirs) emit({ ...common, runtime: 'llama2c-run.c', threads: r.threads, ...statsFields('tokens_per_s', r.stats), tokens: P - 1 });
    emitRatios({ bench: 'prefill', shape }, ratiosVsBest(ours, theirs, 'rate'), { same_text: row.sameText });
  }
  return row;
}

async function main(): Promise<void> {
  const program = new Command('prefill')
    .description('Prompt throughput (tokens/s) of a 256-token prompt: tinymorph batched prefill vs llama2.c run.c token by token, same model file, and their ratio.')
    .addOption(shapeOption('all'))
    .option('--prompt-tokens <n>', 'prompt length in tokens, BOS included (TinyStories validation text)', positiveInt, 256)
    .option('--repeats <n>', 'interleaved runs per side and thread count at most; the median and the best are reported', positiveInt, 3)
    .option('--budget <s>', 'stop repeating a shape once this many seconds have passed (after one round)', positiveNumber, 60)
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(threadsOption())
    .addOption(backendOption())
    .parse();
  const opts = program.opts<Opts>();
  useBackend(opts.backend);
  const rows = await benchEveryShape('prefill', selectShapes(opts.shape), (shape, dir, runc) => benchShape(shape, opts, dir, runc));
  printTable(
    `prefill of a ${opts.promptTokens}-token prompt, tokens/s: median (best) of interleaved repeats; classifier computed at ${CLASSIFIER} (run.c's forward always does; tinymorph with allLogits); tinymorph ${backendLabel(activeBackend().name, false)}; target ratio ≥ 5`,
    ['shape', 'tokens', 'threads', 'tinymorph tok/s', 'run.c tok/s', 'ratio vs run.c best', 'same text'],
    rows.flatMap((r) => threadRows(r.ours, r.runc, 'rate', fmtStats).map((cells) => [r.shape, String(r.tokens), ...cells, r.sameText === undefined ? '-' : r.sameText ? 'yes' : 'NO'])),
  );
  console.log(RATIO_NOTE);
}

await runMain(main);
