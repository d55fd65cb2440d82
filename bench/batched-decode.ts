import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { generate } from '../src/model/generate.js';
import type { LoadedModel } from '../src/model/load-model.js';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import type { RateStats, ShapeName, WeightsKind } from './bench-utils.js';
import {
  backendInfo,
  backendLabel,
  backendOption,
  emit,
  firstSentences,
  fmtRate,
  loadOptions,
  log,
  positiveInt,
  positiveIntList,
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
  useBackend,
  weightsOption,
} from './bench-utils.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape, runCTranscript, sameTranscript } from './llama2c-baseline.js';

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
  threads: number;
  weights: WeightsKind;
  backend?: string;
}

interface Point {
  batch: number;
  ours: RateStats;
  forward: RateStats;
  tokens: number;
}

interface Row {
  shape: ShapeName;
  points: Point[];
  runc?: RateStats;
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

  runBatch(loaded, prompts.slice(0, WARMUP_ROWS), WARMUP_TOKENS); // JIT warm-up, not timed
  const theirs: number[] = [];
  let runcStdout: Buffer | undefined;
  if (runc) {
    repeatWithin(opts.repeats, opts.budget, () => {
      const c = runc.tryRun({ ...files, steps, prompt: prompts[0], threads: opts.threads }, shape);
      if (c) theirs.push(c.rate);
      runcStdout ??= c?.stdout;
    });
  }
  const row: Row = { shape, points: [] };
  if (theirs.length > 0) {
    row.runc = rateStats(theirs);
    const windowMs = ((steps - 1) / row.runc.best) * 1000;
    if (windowMs < SHORT_WINDOW_MS) log(`note: ${shape}: run.c's timed window is ~${windowMs.toFixed(0)} ms with a millisecond clock; its rate is coarse (raise --max-tokens)`);
    emit({ bench: 'batched-decode', shape, runtime: 'llama2c-run.c', batch: 1, threads: opts.threads, tokens_per_s: round(row.runc.best, 2), tokens: steps - 1, median_tokens_per_s: round(row.runc.median, 2), steps, prompt_tokens: p0, repeats: row.runc.runs });
  }
  let row0: number[] = [];
  for (const B of batches) {
    const rates: number[] = [];
    const forwardRates: number[] = [];
    let tokens = 0;
    const runs = repeatWithin(opts.repeats, opts.budget, (r) => {
      log(`${shape}: batch ${B}: repeat ${r}/${opts.repeats}…`);
      const o = runBatch(loaded, prompts.slice(0, B), opts.maxTokens);
      rates.push(o.rate);
      forwardRates.push(forwardOnly(loaded, prompts.slice(0, B), o.rows));
      tokens = o.tokens;
      if (B === opts.rows) row0 = o.rows[0];
    });
    const point: Point = { batch: B, ours: rateStats(rates), forward: rateStats(forwardRates), tokens };
    row.points.push(point);
    emit({
      bench: 'batched-decode',
      shape,
      runtime: 'tinymorph',
      ...backendInfo(loaded.model.backend.name),
      weights: opts.weights,
      batch: B,
      tokens_per_s: round(point.ours.best, 2),
      tokens,
      median_tokens_per_s: round(point.ours.median, 2),
      per_row_tokens_per_s: round(point.ours.best / B, 2),
      forward_only_tokens_per_s: round(point.forward.best, 2),
      max_tokens: opts.maxTokens,
      repeats: runs,
      ...(row.runc ? { ratio: round(point.ours.best / row.runc.best, 4) } : {}),
    });
  }
  if (row.runc && runcStdout) {
    // Row 0 of the batch against run.c on the same prompt: batching must not change the text.
    const expected = runCTranscript(loaded.tokenizer, [...loaded.tokenizer.encode(prompts[0]), ...row0], steps);
    row.sameText = sameTranscript(`${shape} row 0`, expected.text, runcStdout.toString('latin1'), { randomWeights: files.random });
    const target = row.points.find((p) => p.batch === opts.rows)!;
    emit({ bench: 'batched-decode', shape, rows: opts.rows, ratio: round(target.ours.best / row.runc.best, 4), same_text: row.sameText });
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
    .option('--repeats <n>', 'runs per batch size at most; the best and the median are reported', positiveInt, 5)
    .option('--budget <s>', 'stop repeating a batch size once this many seconds have passed (after one repeat)', positiveNumber, 20)
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
    `aggregate decode tokens/s by batch size (best, median), ${opts.maxTokens} tokens per row; forward only = the same steps' forward passes without sampling; tinymorph ${backendLabel(activeBackend().name)}, ${opts.weights} weights; run.c batch 1 with ${opts.threads} threads; issue 4's target: ratio ≥ 8 at 16 rows on 15m`,
    ['shape', 'batch', 'tinymorph tok/s', 'per row', 'forward only', 'run.c b=1 tok/s', 'ratio', 'same text (row 0)'],
    rows.flatMap((r) =>
      r.points.map((p) => [
        r.shape,
        String(p.batch),
        fmtRate(p.ours),
        (p.ours.best / p.batch).toFixed(1),
        fmtRate(p.forward, 0),
        fmtRate(r.runc),
        r.runc ? (p.ours.best / r.runc.best).toFixed(2) : '-',
        p.batch === opts.rows && r.sameText !== undefined ? (r.sameText ? 'yes' : 'NO') : '',
      ]),
    ),
  );
}

await runMain(main);
