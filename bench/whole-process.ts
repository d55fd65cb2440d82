import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { readLlama2cHeader } from '../src/model/llama2c-format.js';
import { withFile } from '../src/model/llama2c-tensor-source.js';
import { Llama2cTokenizer } from '../src/model/llama2c-tokenizer.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import { packageRoot } from '../src/util/package-root.js';
import type { ModelFiles, ShapeName } from './bench-utils.js';
import { backendInfo, backendLabel, backendOption, emit, log, positiveInt, positiveNumber, printTable, runMain, selectShapes, shapeFiles, shapeOption, threadsOption, tinymorphThreadCounts, useBackend } from './bench-utils.js';
import { fmtStats, interleave, timeStats, statsFields } from './interleaved-repeats.js';
import type { Llama2cBaseline } from './llama2c-baseline.js';
import { benchEveryShape } from './llama2c-baseline.js';
import type { AtThreads } from './versus-runc.js';
import { atThreads, emitRatios, RATIO_NOTE, ratiosVsBest, threadRows, threadSides } from './versus-runc.js';

/**
 * The whole process, the way a user runs each program: start, load the model and tokenizer,
 * prefill, decode, print, exit. Wall-clock seconds from spawn to exit of
 *   node dist/src/cli/main.js generate PROMPT -t 0 -n N --model M --tokenizer T   (TINYMORPH_THREADS=t)
 *   llama2c-run M -z T -t 0 -n P+N−1 -i PROMPT                                      (OMP_NUM_THREADS=t)
 * on the same model file, tokenizer, prompt and number of generated tokens, greedy. run.c's -n counts
 * positions, the prompt's P tokens (with BOS) included, and it samples from position P−1 on, so
 * P + N − 1 positions give N new tokens, as the CLI's -n N does. Node's start-up (≈ 40 ms), reading
 * the weights (run.c maps them) and tinymorph's prefill all count here, unlike in decode.ts.
 * Both stdouts must carry the same text (the CLI prints the prompt as given, run.c its decoded pieces).
 */

interface Opts {
  shape: ShapeName | 'all';
  tokens: number;
  prompt: string;
  repeats: number;
  budget: number;
  seed: number;
  threads: number[];
  backend?: string;
}

interface Row {
  shape: ShapeName;
  ours: AtThreads[];
  runc: AtThreads[];
  sameText?: boolean;
}

/** The built CLI; the bench times the program a user runs, so it needs `npx tsc` first. */
function cliPath(): string {
  const p = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(p)) throw new UsageError(`${p} not found: build first (npx tsc -p tsconfig.json)`);
  return p;
}

/** Wall-clock seconds of one process run to its exit, and what it printed; throws on a failed run. */
function timeProcess(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  const stderr = r.stderr?.toString('utf8') ?? '';
  if (r.error || r.status !== 0) throw new Error(`${label} failed (exit ${r.status ?? r.error?.message}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return { seconds, stdout: r.stdout.toString('latin1'), stderr };
}

/** A failed run is logged and gives no sample, so that one failure does not end the bench. */
function sample(run: () => number): number | undefined {
  try {
    return run();
  } catch (e) {
    log(`warning: ${(e as Error).message}`);
    return undefined;
  }
}

const squash = (s: string): string => s.replace(/[ \t\n\v\f\r]+/g, ' ').trim();

function benchShape(shape: ShapeName, opts: Opts, dir: string, runc: Llama2cBaseline | undefined): Row | undefined {
  const files: ModelFiles | undefined = shapeFiles(shape, dir, opts.seed);
  if (!files) return undefined;
  const { config } = withFile(files.model, (fd, size) => readLlama2cHeader(fd, size, files.model));
  const P = Llama2cTokenizer.fromFile(files.tokenizer, config.vocabSize).encode(opts.prompt).length;
  const steps = P + opts.tokens - 1;
  if (steps > config.seqLen) throw new UsageError(`${shape}: a ${P}-token prompt and --tokens ${opts.tokens} need ${steps} positions; the model has seq_len ${config.seqLen}`);
  const backend = activeBackend().name;
  const ourThreads = tinymorphThreadCounts(backend, opts.threads);
  const cli = cliPath();
  const cliArgs = [cli, 'generate', opts.prompt, '-t', '0', '-n', String(opts.tokens), '--model', files.model, '--tokenizer', files.tokenizer, '--backend', backend];
  const texts = { ours: '', runc: '' };
  let ourTokens = -1;

  const runcSides = !runc
    ? []
    : threadSides('run.c', opts.threads, (threads) =>
        sample(() => {
          const r = timeProcess('run.c', runc.exe, [files.model, '-z', files.tokenizer, '-t', '0', '-n', String(steps), '-i', opts.prompt], { ...process.env, OMP_NUM_THREADS: String(threads) });
          texts.runc ||= r.stdout;
          return r.seconds;
        }),
      );
  const ourSides = threadSides('tinymorph', ourThreads, (threads) =>
    sample(() => {
      const r = timeProcess('tinymorph generate', process.execPath, cliArgs, { ...process.env, TINYMORPH_THREADS: String(threads) });
      texts.ours ||= r.stdout;
      ourTokens = Number(/^\[(\d+) tokens/m.exec(r.stderr)?.[1] ?? -1);
      return r.seconds;
    }),
  );
  const samples = interleave([...runcSides, ...ourSides], { repeats: opts.repeats, budgetS: opts.budget, progress: `${shape} (seconds)` });
  const runcAt = atThreads(samples, opts.threads.slice(0, runcSides.length), timeStats);
  const ours = atThreads(samples.slice(runcSides.length), ourThreads, timeStats);
  const row: Row = { shape, ours, runc: runcAt };
  if (ourTokens !== opts.tokens) log(`note: ${shape}: the CLI generated ${ourTokens} tokens of ${opts.tokens} (it stops at BOS or EOS)`);
  const common = { bench: 'whole-process', shape, prompt_tokens: P, new_tokens: opts.tokens };
  for (const o of ours) emit({ ...common, runtime: 'tinymorph-cli', ...backendInfo(backend, o.threads), threads: o.threads, ...statsFields('seconds', o.stats, 4), generated_tokens: ourTokens });
  if (runcAt.length > 0 && texts.runc) {
    row.sameText = squash(texts.ours) === squash(texts.runc);
    if (!row.sameText) log(`warning: ${shape}: the two programs printed different text:\n  tinymorph: ${JSON.stringify(squash(texts.ours).slice(0, 200))}\n  run.c:     ${JSON.stringify(squash(texts.runc).slice(0, 200))}`);
    for (const r of runcAt) emit({ ...common, runtime: 'llama2c-run.c', threads: r.threads, ...statsFields('seconds', r.stats, 4), steps });
    emitRatios({ bench: 'whole-process', shape }, ratiosVsBest(ours, runcAt, 'time'), { same_text: row.sameText });
  }
  return row;
}

async function main(): Promise<void> {
  const program = new Command('whole-process')
    .description('Wall-clock seconds of a whole greedy generation process (start, load, prefill, decode, exit): the tinymorph CLI vs llama2.c run.c, same model, tokenizer, prompt and token count, interleaved.')
    .addOption(shapeOption('all'))
    .option('--tokens <n>', 'new tokens to generate (CLI -n; run.c -n is prompt tokens + this − 1)', positiveInt, 128)
    .option('--prompt <text>', 'prompt for both programs', 'Once upon a time')
    .option('--repeats <n>', 'interleaved runs per program and thread count at most; the median and the best are reported', positiveInt, 5)
    .option('--budget <s>', 'stop repeating a shape once this many seconds have passed (after one round)', positiveNumber, 120)
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(threadsOption())
    .addOption(backendOption('the CLI\'s --backend (default: $TINYMORPH_BACKEND, else the fastest available)'))
    .parse();
  const opts = program.opts<Opts>();
  useBackend(opts.backend);
  const rows = await benchEveryShape('whole-process', selectShapes(opts.shape), (shape, dir, runc) => benchShape(shape, opts, dir, runc));
  printTable(
    `whole process (start, load, prefill, decode, exit), seconds per process: median (best) of interleaved runs; "${opts.prompt}" + ${opts.tokens} greedy tokens; tinymorph CLI ${backendLabel(activeBackend().name, false)}`,
    ['shape', 'threads', 'tinymorph s', 'run.c s', 'speed ratio vs run.c best', 'same text'],
    rows.flatMap((r) => threadRows(r.ours, r.runc, 'time', (s) => fmtStats(s, 3)).map((cells) => [r.shape, ...cells, r.sameText === undefined ? '-' : r.sameText ? 'yes' : 'NO'])),
  );
  console.log(`${RATIO_NOTE}; speed = 1 / seconds`);
}

await runMain(main);
