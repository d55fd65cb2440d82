import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { generate } from '../src/model/generate.js';
import type { LoadedModel } from '../src/model/load-model.js';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import type { ShapeName, WeightsKind } from './bench-utils.js';
import { backendInfo, backendLabel, backendOption, emit, loadOptions, log, positiveInt, printTable, runMain, selectShapes, shapeFiles, shapeOption, threadsOption, tinymorphThreadCounts, useBackend, weightsOption, withNativeThreads } from './bench-utils.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape, runCTranscript, sameTranscript } from './llama2c-baseline.js';
import type { AtThreads } from './versus-runc.js';
import { atThreads, emitRatios, RATIO_NOTE, ratiosVsBest, threadRows, threadSides } from './versus-runc.js';

/**
 * Decode tokens/s of greedy generation at batch 1: tinymorph and llama2.c run.c on the same model
 * file in one invocation (DESIGN.md "Performance"). Both are timed the way run.c times itself: the
 * clock starts once the first forward pass has produced a token and the rate is the number of
 * forward passes after that over the elapsed time. Prints JSON lines, then a table.
 */

const WARMUP_TOKENS = 8;

interface Opts {
  shape: ShapeName | 'all';
  steps?: number;
  repeats: number;
  prompt: string;
  seed: number;
  backend?: string;
  threads: number[];
  weights: WeightsKind;
}

interface Row {
  shape: ShapeName;
  ours: AtThreads[];
  runc: AtThreads[];
  sameText?: boolean;
}

/**
 * One greedy generation by tinymorph, timed like run.c: from the first token event (after the
 * prompt's forward pass) to the last; each later event is one single-token forward pass.
 */
function runOurs(loaded: LoadedModel, prompt: string, maxTokens: number): { rate: number; tokens: number; ids: number[] } {
  let events = 0;
  let first = 0;
  let last = 0;
  const [res] = generate(loaded.model, loaded.tokenizer, [{ prompt, maxTokens, sampling: { temperature: 0 }, seed: 0, stopAtEndOfText: false }], { onToken: () => {
    last = performance.now();
    if (events++ === 0) first = last;
  } });
  if (events !== maxTokens || res.tokens.length !== maxTokens) {
    throw new Error(`tinymorph generated ${res.tokens.length} tokens in ${events} events; asked for ${maxTokens}`);
  }
  return { rate: ((events - 1) * 1000) / (last - first), tokens: events - 1, ids: res.tokens };
}

function benchShape(shape: ShapeName, opts: Opts, dir: string, runc: Llama2cBaseline | undefined): Row | undefined {
  const files = shapeFiles(shape, dir, opts.seed);
  if (!files) return undefined;
  const loaded = loadModel(loadOptions(files, opts.weights));
  const seqLen = loaded.model.config.seqLen;
  const wanted = opts.steps ?? (shape === '110m' ? 128 : 256);
  // run.c clamps -n to seq_len; do the same so both sides run the same positions.
  const steps = Math.min(wanted, seqLen);
  if (steps < wanted) log(`${shape}: --steps ${wanted} is more than seq_len ${seqLen}; using ${steps} as run.c does`);
  const promptTokens = loaded.tokenizer.encode(opts.prompt).length;
  // run.c's -n counts positions: prompt tokens are forced for positions 0..P-2, and it samples
  // from position P-1 on, so it generates steps − P + 1 tokens.
  const maxTokens = steps - promptTokens + 1;
  if (maxTokens < 2) throw new UsageError(`${shape}: --steps ${steps} leaves no decode step after a ${promptTokens}-token prompt`);

  const ourThreads = tinymorphThreadCounts(loaded.model.backend.name, opts.threads);
  // JIT warm-up and the thread pool's start, not timed.
  for (const t of ourThreads) withNativeThreads(t, () => runOurs(loaded, opts.prompt, Math.min(maxTokens, WARMUP_TOKENS)));
  let ourIds: number[] = [];
  let oursTokens = 0;
  let runcStdout: Buffer | undefined;
  const runcSides = !runc
    ? []
    : threadSides('run.c', opts.threads, (threads) => {
        const c = runc.tryRun({ ...files, steps, prompt: opts.prompt, threads }, shape);
        runcStdout ??= c?.stdout;
        return c?.rate;
      });
  const ourSides = threadSides('tinymorph', ourThreads, (threads) => {
    const o = withNativeThreads(threads, () => runOurs(loaded, opts.prompt, maxTokens));
    ourIds = o.ids;
    oursTokens = o.tokens;
    return o.rate;
  });
  const samples = interleave([...runcSides, ...ourSides], { repeats: opts.repeats, progress: shape });
  const theirs = atThreads(samples, opts.threads.slice(0, runcSides.length), rateStats);
  const ours = atThreads(samples.slice(runcSides.length), ourThreads, rateStats);
  const row: Row = { shape, ours, runc: theirs };
  const common = { bench: 'decode', shape, steps, prompt_tokens: promptTokens };
  // tokens is the count each rate divides by.
  for (const o of ours) emit({ ...common, runtime: 'tinymorph', ...backendInfo(loaded.model.backend.name, o.threads), threads: o.threads, weights: opts.weights, ...statsFields('tokens_per_s', o.stats), tokens: oursTokens });
  if (theirs.length > 0 && runcStdout) {
    const expected = runCTranscript(loaded.tokenizer, [...loaded.tokenizer.encode(opts.prompt), ...ourIds], steps);
    row.sameText = sameTranscript(shape, expected.text, runcStdout.toString('latin1'), { randomWeights: files.random });
    // With the same text we know where run.c stopped (BOS ends it early); otherwise we cannot count.
    if (row.sameText && expected.timed < steps - 1) log(`note: ${shape}: run.c stopped at BOS after ${expected.timed + 1} positions of ${steps}; its tok/s is still a rate`);
    for (const r of theirs) emit({ ...common, runtime: 'llama2c-run.c', threads: r.threads, ...statsFields('tokens_per_s', r.stats), tokens: row.sameText ? expected.timed : null });
    emitRatios({ bench: 'decode', shape }, ratiosVsBest(ours, theirs, 'rate'), { same_text: row.sameText });
  }
  return row;
}

async function main(): Promise<void> {
  const program = new Command('decode')
    .description('Greedy batch-1 decode tokens/s of tinymorph and llama2.c run.c on the same model file, and their ratio.')
    .addOption(shapeOption('260k'))
    .option('--steps <n>', 'positions including prompt tokens, as run.c -n (default 256; 128 for 110m)', positiveInt)
    .option('--repeats <n>', 'interleaved runs per side and thread count; the median and the best are reported', positiveInt, 3)
    .option('--prompt <text>', 'prompt for both runtimes', 'Once upon a time')
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(threadsOption())
    .addOption(backendOption())
    .addOption(weightsOption())
    .parse();
  const opts = program.opts<Opts>();
  useBackend(opts.backend);
  const rows = await benchEveryShape('decode', selectShapes(opts.shape), (shape, dir, runc) => benchShape(shape, opts, dir, runc));
  printTable(
    `decode, batch 1, tokens/s: median (best) of ${opts.repeats} interleaved repeats; tinymorph ${backendLabel(activeBackend().name, false)}, ${opts.weights} weights`,
    ['shape', 'threads', 'tinymorph tok/s', 'run.c tok/s', 'ratio vs run.c best', 'same text'],
    rows.flatMap((r) => threadRows(r.ours, r.runc, 'rate', fmtStats).map((cells) => [r.shape, ...cells, r.sameText === undefined ? '-' : r.sameText ? 'yes' : 'NO'])),
  );
  console.log(RATIO_NOTE);
}

await runMain(main);
