import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TinymorphError, UsageError } from '../src/errors.js';
import { embeddedModelPath, embeddedTokenizerPath } from '../src/model/embedded.js';
import { generate } from '../src/model/generate.js';
import type { LoadedModel } from '../src/model/load-model.js';
import { loadModel } from '../src/model/load-model.js';
import type { Tokenizer } from '../src/model/tokenizer.js';
import { availableBackends, setActiveBackend } from '../src/tensor/backend-registry.js';
import { packageRoot } from '../src/util/package-root.js';
import { benchmarkShapes, writeRandomLlama2c } from './random-llama2c-model.js';

/**
 * Decode tokens/s of greedy generation at batch 1: tinymorph and llama2.c run.c on the same model
 * file in one invocation (DESIGN.md "Performance"). Both are timed the way run.c times itself: the
 * clock starts once the first forward pass has produced a token and the rate is the number of
 * forward passes after that over the elapsed time. Prints JSON lines, then a table.
 */

const SHAPES = ['260k', '15m', '110m'] as const;
type ShapeName = (typeof SHAPES)[number];
const BOS_ID = 1;
const WARMUP_TOKENS = 8;

interface Opts {
  shape: ShapeName | 'all';
  steps?: number;
  repeats: number;
  prompt: string;
  seed: number;
  backend?: string;
  threads: number;
}

interface Rate {
  best: number;
  median: number;
  tokens: number | null;
}

interface Row {
  shape: ShapeName;
  ours: Rate;
  runc?: Rate;
  sameText?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

/** Compiles run.c into dir as the README in ../shared says; returns the executable, or why it cannot. */
function buildRunC(dir: string): { exe: string } | { missing: string } {
  const src = join(packageRoot(), '..', 'shared', 'baselines', 'llama2c', 'run.c');
  if (!existsSync(src)) return { missing: `${src} not found (../shared is not beside the repo)` };
  const exe = join(dir, 'llama2c-run');
  log('compiling run.c: gcc -Ofast -march=native -fopenmp run.c -lm');
  const r = spawnSync('gcc', ['-Ofast', '-march=native', '-fopenmp', src, '-lm', '-o', exe], { encoding: 'utf8' });
  if (r.error) return { missing: `cannot run gcc (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install gcc with OpenMP` };
  if (r.status !== 0) return { missing: `gcc failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { exe };
}

/** One run of run.c; its own "achieved tok/s" and what it printed on stdout. */
function runRunC(exe: string, model: string, tokenizer: string, steps: number, prompt: string, threads: number): { rate: number; stdout: Buffer } {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  const r = spawnSync(exe, [model, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt], { env, maxBuffer: 1 << 26 });
  const stderr = r.stderr?.toString('utf8') ?? '';
  const m = /achieved tok\/s: ([0-9.eE+-]+|inf)/.exec(stderr);
  if (r.error || r.status !== 0 || !m) {
    throw new Error(`run.c failed (exit ${r.status ?? r.error?.message}): ${stderr.trim().split('\n').slice(-2).join(' | ') || 'no "achieved tok/s" line'}`);
  }
  return { rate: Number(m[1] === 'inf' ? Infinity : m[1]), stdout: r.stdout };
}

/**
 * One greedy generation by tinymorph, timed like run.c: from the first token event (after the
 * prompt's forward pass) to the last; each later event is one single-token forward pass.
 */
function runOurs(loaded: LoadedModel, prompt: string, maxTokens: number): { rate: number; tokens: number; ids: number[] } {
  let events = 0;
  let first = 0;
  let last = 0;
  const [res] = generate(loaded.model, loaded.tokenizer, [{ prompt, maxTokens, sampling: { temperature: 0 }, seed: 0, stopAtEndOfText: false }], () => {
    last = performance.now();
    if (events++ === 0) first = last;
  });
  if (events !== maxTokens || res.tokens.length !== maxTokens) {
    throw new Error(`tinymorph generated ${res.tokens.length} tokens in ${events} events; asked for ${maxTokens}`);
  }
  return { rate: ((events - 1) * 1000) / (last - first), tokens: events - 1, ids: res.tokens };
}

const isPrintOrSpace = (b: number): boolean => (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);

/**
 * What run.c prints for this token sequence (prompt with BOS, then generated): decode(prev, next)
 * through safe_printf for every token after the first, stopping at BOS, then "\n"; and the count
 * of timed forward passes run.c divides by (pos − 1).
 */
function runCTranscript(tok: Tokenizer, ids: number[], steps: number): { text: string; timed: number } {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < steps) {
    const next = ids[pos + 1];
    pos++;
    if (next === BOS_ID) break;
    let piece = tok.pieceBytes(ids[pos - 1], next);
    const nul = piece.indexOf(0);
    if (nul >= 0) piece = piece.subarray(0, nul); // printf %s ends at NUL
    if (piece.length === 0 || (piece.length === 1 && !isPrintOrSpace(piece[0]))) continue;
    parts.push(Buffer.from(piece));
  }
  parts.push(Buffer.from('\n'));
  return { text: Buffer.concat(parts).toString('latin1'), timed: pos - 1 };
}

/** Byte text with runs of ASCII whitespace collapsed, for a comparison that ignores spacing details. */
const squash = (s: string): string => s.replace(/[ \t\n\v\f\r]+/g, ' ').trim();

function compareTexts(shape: ShapeName, expected: string, actual: string): boolean {
  const a = squash(expected);
  const b = squash(actual);
  if (a === b) return true;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const show = (s: string): string => JSON.stringify(Buffer.from(s.slice(Math.max(0, i - 30), i + 40), 'latin1').toString('utf8'));
  log(`warning: ${shape}: tinymorph and run.c texts differ at byte ${i} of ${a.length}/${b.length}:`);
  log(`  tinymorph (as run.c would print it): ${show(a)}`);
  log(`  run.c:                               ${show(b)}`);
  if (shape !== '260k') log('  (random weights make near-tied logits likely; float summation order can flip an argmax)');
  return false;
}

/** The model and tokenizer files of a shape, writing random weights into dir for 15m/110m. */
function shapeFiles(shape: ShapeName, dir: string, seed: number): { model: string; tokenizer: string } | undefined {
  if (shape === '260k') return { model: embeddedModelPath(), tokenizer: embeddedTokenizerPath() };
  const tokenizer = join(packageRoot(), '..', 'shared', 'models', 'tokenizer32000.bin');
  if (!existsSync(tokenizer)) {
    log(`skipping ${shape}: its tokenizer ${tokenizer} is missing (../shared is not beside the repo)`);
    return undefined;
  }
  const model = join(dir, `random-${shape}.bin`);
  const t0 = performance.now();
  const bytes = writeRandomLlama2c(model, benchmarkShapes[shape], { seed });
  log(`wrote random-weight ${shape} model: ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { model, tokenizer };
}

function benchShape(shape: ShapeName, opts: Opts, dir: string, exe: string | undefined): Row | undefined {
  const files = shapeFiles(shape, dir, opts.seed);
  if (!files) return undefined;
  const loaded = loadModel(files);
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

  runOurs(loaded, opts.prompt, Math.min(maxTokens, WARMUP_TOKENS)); // JIT warm-up, not timed
  const ours: number[] = [];
  const runc: number[] = [];
  let ourIds: number[] = [];
  let oursTokens = 0;
  let runcStdout: Buffer | undefined;
  for (let r = 1; r <= opts.repeats; r++) {
    if (exe) {
      try {
        const c = runRunC(exe, files.model, files.tokenizer, steps, opts.prompt, opts.threads);
        runc.push(c.rate);
        runcStdout ??= c.stdout;
      } catch (e) {
        log(`warning: ${shape}: ${(e as Error).message}`);
      }
    }
    log(`${shape}: repeat ${r}/${opts.repeats}: ${exe ? `run.c ${runc.at(-1)?.toFixed(1) ?? 'failed'} tok/s; ` : ''}tinymorph running…`);
    const o = runOurs(loaded, opts.prompt, maxTokens);
    ours.push(o.rate);
    ourIds = o.ids;
    oursTokens = o.tokens;
  }
  const row: Row = { shape, ours: { best: Math.max(...ours), median: median(ours), tokens: oursTokens } };
  // tokens_per_s is the best of the repeats; tokens is the count the rate divides by.
  const report = (who: Record<string, string | number>, rate: Rate): void =>
    console.log(JSON.stringify({ bench: 'decode', shape, ...who, tokens_per_s: round(rate.best, 2), tokens: rate.tokens, median_tokens_per_s: round(rate.median, 2), steps, prompt_tokens: promptTokens, repeats: opts.repeats }));
  report({ runtime: 'tinymorph', backend: loaded.model.backend.name }, row.ours);
  if (runc.length > 0 && runcStdout) {
    const expected = runCTranscript(loaded.tokenizer, [...loaded.tokenizer.encode(opts.prompt), ...ourIds], steps);
    row.sameText = compareTexts(shape, expected.text, runcStdout.toString('latin1'));
    // With the same text we know where run.c stopped (BOS ends it early); otherwise we cannot count.
    row.runc = { best: Math.max(...runc), median: median(runc), tokens: row.sameText ? expected.timed : null };
    if (row.sameText && expected.timed < steps - 1) log(`note: ${shape}: run.c stopped at BOS after ${expected.timed + 1} positions of ${steps}; its tok/s is still a rate`);
    report({ runtime: 'llama2c-run.c', threads: opts.threads }, row.runc);
    console.log(JSON.stringify({ bench: 'decode', shape, ratio: round(row.ours.best / row.runc.best, 4), same_text: row.sameText }));
  }
  return row;
}

/** How many cores' worth of CPU time the machine spent busy over the next `ms` (before we start any work). */
async function busyCores(ms: number): Promise<number> {
  const total = (): { busy: number; all: number } =>
    cpus().reduce((a, c) => ({ busy: a.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq, all: a.all + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }), { busy: 0, all: 0 });
  const a = total();
  await new Promise((r) => setTimeout(r, ms));
  const b = total();
  return b.all > a.all ? ((b.busy - a.busy) / (b.all - a.all)) * cpus().length : 0;
}

function printTable(rows: Row[]): void {
  const header = ['shape', 'tinymorph tok/s', 'run.c tok/s', 'ratio', 'same text'];
  const cells = rows.map((r) => [
    r.shape,
    `${r.ours.best.toFixed(1)} (med ${r.ours.median.toFixed(1)})`,
    r.runc ? `${r.runc.best.toFixed(1)} (med ${r.runc.median.toFixed(1)})` : '-',
    r.runc ? (r.ours.best / r.runc.best).toFixed(3) : '-',
    r.sameText === undefined ? '-' : r.sameText ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i])).join(' | ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const program = new Command('decode')
    .description('Greedy batch-1 decode tokens/s of tinymorph and llama2.c run.c on the same model file, and their ratio.')
    .addOption(new Option('--shape <shape>', 'model: the shipped stories260K, or random weights of the stories15M/110M shapes').choices([...SHAPES, 'all']).default('260k'))
    .option('--steps <n>', 'positions including prompt tokens, as run.c -n (default 256; 128 for 110m)', positiveInt)
    .option('--repeats <n>', 'runs per side; the best and the median are reported', positiveInt, 3)
    .option('--prompt <text>', 'prompt for both runtimes', 'Once upon a time')
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .option('--threads <n>', 'OMP_NUM_THREADS for run.c', positiveInt, availableParallelism())
    .addOption(new Option('--backend <name>', 'tinymorph kernel backend (default: $TINYMORPH_BACKEND or reference)').choices(availableBackends()))
    .parse();
  const opts = program.opts<Opts>();
  if (opts.backend) setActiveBackend(opts.backend);
  // OpenMP's barriers stall when another process holds a core, which can slow run.c tenfold.
  const busy = await busyCores(500);
  if (busy > 0.3) log(`warning: other processes kept ${busy.toFixed(1)} of ${availableParallelism()} cores busy just now: timings (run.c's most) will be noisy`);
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-bench-decode-'));
  try {
    const built = buildRunC(dir);
    if ('missing' in built) log(`llama2.c baseline unavailable: ${built.missing}; measuring tinymorph only`);
    const exe = 'exe' in built ? built.exe : undefined;
    const rows: Row[] = [];
    for (const shape of opts.shape === 'all' ? SHAPES : [opts.shape]) {
      const row = benchShape(shape, opts, dir, exe);
      if (row) rows.push(row);
    }
    printTable(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  if (!(e instanceof TinymorphError)) throw e;
  process.stderr.write(`error: ${e.message}\n`);
  process.exitCode = 1;
}
