import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { generate } from '../src/model/generate.js';
import type { LoadedModel } from '../src/model/load-model.js';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import type { ShapeName, WeightsKind } from './bench-utils.js';
import {
  backendInfo,
  backendLabel,
  backendOption,
  emit,
  firstSentences,
  loadOptions,
  log,
  positiveInt,
  positiveIntList,
  positiveNumber,
  printTable,
  round,
  runMain,
  selectShapes,
  shapeFiles,
  shapeOption,
  threadsOption,
  tinymorphThreadCounts,
  useBackend,
  weightsOption,
  withNativeThreads,
} from './bench-utils.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape, runCTranscript, sameTranscript } from './llama2c-baseline.js';
import type { AtThreads } from './versus-runc.js';
import { atThreads, emitRatios, RATIO_NOTE, ratiosVsBest, threadRows, threadSides } from './versus-runc.js';

/**
 * Aggregate greedy decode tokens/s of tinymorph generating for B rows at once (B different
 * prompts: first sentences of different TinyStories), against llama2.c run.c's batch-1 decode
 * tok/s on the same file. The prefill step is excluded: the clock starts when the batched prompt
 * forward has produced every row's first token, and counts the tokens of the decode steps after it.
 * Beside it, the same decode steps' forward passes alone (no sampling), to show where time goes.
 */

const SHAPE_CHOICES = ['260k', '15m'] as const satisfies readonly ShapeName[];
const WARMUP_ROWS = 4;
const WARMUP_TOKENS = 4;
/** run.c's clock has millisecond resolution: a shorter timed window gives a coarse rate. */
const SHORT_WINDOW_MS = 50;

interface Opts {
  shape: ShapeName | 'all';
  rows: number;
  batches: number[];
  maxTokens: number;
  repeats: number;
  budget: number;
  seed: number;
  threads: number[];
  weights: WeightsKind;
  backend?: string;
}

interface Point {
  batch: number;
  ours: AtThreads[];
  forward: AtThreads[];
  tokens: number;
}

interface Row {
  shape: ShapeName;
  points: Point[];
  runc: AtThreads[];
  sameText?: boolean;
}

/**
 * One batched greedy generation of maxTokens per row. The first `prompts.length` token events come
 * from the prefill forward; the clock runs from the last of them to the last event.
 */
function runBatch(loaded: LoadedModel, prompts: string[], maxTokens: number): { rate: number; tokens: number; rows: number[][] } {
  const B = prompts.length;
  let events = 0;
  let start = 0;
  let last = 0;
  const requests = prompts.map((prompt) => ({ prompt, maxTokens, sampling: { temperature: 0 }, seed: 0, stopAtEndOfText: false }));
  const res = generate(loaded.model, loaded.tokenizer, requests, { onToken: () => {
    last = performance.now();
    if (++events === B) start = last;
  } });
  if (events !== B * maxTokens) throw new Error(`tinymorph gave ${events} token events for ${B} rows × ${maxTokens} tokens`);
  const tokens = events - B;
  return { rate: (tokens * 1000) / (last - start), tokens, rows: res.map((r) => r.tokens) };
}

/**
 * The forward passes of those decode steps alone (no sampling, detokenising or bookkeeping):
 * prefill the prompts untimed, then feed each row the tokens it generated, one step at a time.
 * The gap to runBatch's rate is what generate() spends outside the model.
 */
function forwardOnly(loaded: LoadedModel, prompts: string[], generated: number[][]): number {
  const model = loaded.model;
  const ids = prompts.map((p) => loaded.tokenizer.encode(p));
  const steps = generated[0].length - 1;
  // withCache, as generate: a fresh cache's garbage would cost the next timed generation a full GC.
  return model.withCache(prompts.length, Math.max(...ids.map((x) => x.length)) + steps, (cache) => {
    model.forward(cache, ids);
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) model.forward(cache, generated.map((g) => [g[s]]));
    return (prompts.length * steps * 1000) / (performance.now() - t0);
  });
}

function benchShape(shape: ShapeName, opts: Opts, dir: string, runc: Llama2cBaseline | undefined): Row | undefined {
  const files = shapeFiles(shape, dir, opts.seed);
  if (!files) return undefined;
  const loaded = loadModel(loadOptions(files, opts.weights));
  const batches = [...new Set([...opts.batches, opts.rows])].sort((a, b) => a - b);
  const prompts = firstSentences(batches[batches.length - 1]);
  const p0 = loaded.tokenizer.encode(prompts[0]).length;
  const longest = Math.max(...prompts.map((p) => loaded.tokenizer.encode(p).length));
  if (longest + opts.maxTokens - 1 > loaded.model.config.seqLen) {
    throw new UsageError(`${shape}: a ${longest}-token prompt and --max-tokens ${opts.maxTokens} exceed seq_len ${loaded.model.config.seqLen}`);
  }
  // run.c on row 0's prompt over the same positions as our row 0: -n = P + maxTokens − 1.
  const steps = p0 + opts.maxTokens - 1;
  const ourThreads = tinymorphThreadCounts(loaded.model.backend.name, opts.threads);
  // JIT warm-up and the thread pool's start, not timed.
  for (const t of ourThreads) withNativeThreads(t, () => runBatch(loaded, prompts.slice(0, WARMUP_ROWS), WARMUP_TOKENS));

  let runcStdout: Buffer | undefined;
  const runcSides = !runc
    ? []
    : threadSides('run.c b=1', opts.threads, (threads) => {
        const c = runc.tryRun({ ...files, steps, prompt: prompts[0], threads }, shape);
        runcStdout ??= c?.stdout;
        return c?.rate;
      });
  // Every batch size at every thread count is a side of its own; each run is also followed by the
  // same decode steps' forward passes alone (forwardRates), inside the side's turn.
  const forwardRates = new Map<string, number[]>();
  let row0: number[] = [];
  const tokensAt = new Map<number, number>();
  const batchSides = batches.map((B) =>
    threadSides(`b=${B}`, ourThreads, (threads) =>
      withNativeThreads(threads, () => {
        const o = runBatch(loaded, prompts.slice(0, B), opts.maxTokens);
        const key = `${B}/${threads}`;
        forwardRates.set(key, [...(forwardRates.get(key) ?? []), forwardOnly(loaded, prompts.slice(0, B), o.rows)]);
        tokensAt.set(B, o.tokens);
        if (B === opts.rows) row0 = o.rows[0];
        return o.rate;
      }),
    ),
  );
  const samples = interleave([...runcSides, ...batchSides.flat()], { repeats: opts.repeats, budgetS: opts.budget, progress: shape });
  const runcAt = atThreads(samples, opts.threads.slice(0, runcSides.length), rateStats);
  const row: Row = { shape, points: [], runc: runcAt };
  if (runcAt.length > 0) {
    const slowest = Math.min(...runcAt.map((r) => r.stats.median));
    const windowMs = ((steps - 1) / slowest) * 1000;
    if (windowMs < SHORT_WINDOW_MS) log(`note: ${shape}: run.c's timed window is ~${windowMs.toFixed(0)} ms with a millisecond clock; its rate is coarse (raise --max-tokens)`);
    for (const r of runcAt) emit({ bench: 'batched-decode', shape, runtime: 'llama2c-run.c', batch: 1, threads: r.threads, ...statsFields('tokens_per_s', r.stats), tokens: steps - 1, steps, prompt_tokens: p0 });
  }
  let at = runcSides.length;
  for (const B of batches) {
    const ours = atThreads(samples.slice(at), ourThreads, rateStats);
    at += ourThreads.length;
    const forward = ours.map((o) => ({ threads: o.threads, stats: rateStats(forwardRates.get(`${B}/${o.threads}`)!) }));
    row.points.push({ batch: B, ours, forward, tokens: tokensAt.get(B) ?? 0 });
    for (const o of ours) {
      const f = forward.find((x) => x.threads === o.threads)!.stats;
      emit({
        bench: 'batched-decode', shape, runtime: 'tinymorph', ...backendInfo(loaded.model.backend.name, o.threads), threads: o.threads, weights: opts.weights, batch: B,
        ...statsFields('tokens_per_s', o.stats), tokens: tokensAt.get(B), median_per_row_tokens_per_s: round(o.stats.median / B, 2),
        median_forward_only_tokens_per_s: round(f.median, 2), best_forward_only_tokens_per_s: round(f.best, 2), max_tokens: opts.maxTokens,
      });
    }
    emitRatios({ bench: 'batched-decode', shape, batch: B }, ratiosVsBest(ours, runcAt, 'rate'));
  }
  if (runcAt.length > 0 && runcStdout) {
    // Row 0 of the batch against run.c on the same prompt: batching must not change the text.
    const expected = runCTranscript(loaded.tokenizer, [...loaded.tokenizer.encode(prompts[0]), ...row0], steps);
    row.sameText = sameTranscript(`${shape} row 0`, expected.text, runcStdout.toString('latin1'), { randomWeights: files.random });
    emit({ bench: 'batched-decode', shape, rows: opts.rows, same_text_row0: row.sameText });
  }
  return row;
}

async function main(): Promise<void> {
  const program = new Command('batched-decode')
    .description('Aggregate greedy decode tokens/s of tinymorph at batch B (different prompts) vs llama2.c run.c at batch 1 on the same model file.')
    .addOption(shapeOption('all', SHAPE_CHOICES))
    .option('--rows <n>', 'the batch size of the headline ratio (target ≥ 8× run.c on 15m)', positiveInt, 16)
    .option('--batches <list>', 'batch sizes of the throughput curve', positiveIntList, [1, 4, 16, 64])
    .option('--max-tokens <n>', 'tokens generated per row (the first comes from the untimed prefill)', positiveInt, 32)
    .option('--repeats <n>', 'interleaved rounds (every batch size and run.c, at every thread count) at most; the median and the best are reported', positiveInt, 5)
    .option('--budget <s>', 'stop repeating a shape once this many seconds have passed (after one round)', positiveNumber, 120)
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(threadsOption())
    .addOption(backendOption())
    .addOption(weightsOption())
    .parse();
  const opts = program.opts<Opts>();
  if (opts.maxTokens < 2) throw new UsageError('--max-tokens must be at least 2 (the first token comes from the prefill)');
  useBackend(opts.backend);
  const rows = await benchEveryShape('batched-decode', selectShapes(opts.shape, SHAPE_CHOICES), (shape, dir, runc) => benchShape(shape, opts, dir, runc));
  printTable(
    `aggregate decode tokens/s by batch size: median (best) of interleaved repeats, ${opts.maxTokens} tokens per row; forward only = the same steps' forward passes without sampling; tinymorph ${backendLabel(activeBackend().name, false)}, ${opts.weights} weights; run.c at batch 1; issue 4's target: ratio ≥ 8 at 16 rows on 15m`,
    ['shape', 'batch', 'threads', 'tinymorph tok/s', 'per row', 'forward only', 'run.c b=1 tok/s', 'ratio vs run.c best', 'same text (row 0)'],
    rows.flatMap((r) =>
      r.points.flatMap((p) =>
        threadRows(p.ours, r.runc, 'rate', fmtStats).map(([threads, ours, theirs, ratio]) => {
          const o = p.ours.find((x) => String(x.threads) === threads);
          const f = p.forward.find((x) => String(x.threads) === threads);
          const same = p.batch === opts.rows && r.sameText !== undefined ? (r.sameText ? 'yes' : 'NO') : '';
          return [r.shape, String(p.batch), threads, ours, o ? (o.stats.median / p.batch).toFixed(1) : '-', fmtStats(f?.stats, 0), theirs, ratio, same];
        }),
      ),
    ),
  );
  console.log(RATIO_NOTE);
}

await runMain(main);
