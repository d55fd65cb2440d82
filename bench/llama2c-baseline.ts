import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UsageError } from '../src/errors.js';
import { Llama2cTokenizer } from '../src/model/llama2c-tokenizer.js';
import type { Tokenizer } from '../src/model/tokenizer.js';
import type { ShapeName } from './bench-utils.js';
import { emit, emitMachine, log, round, sharedPath, startQuietCheck, withTempDir } from './bench-utils.js';

/**
 * Karpathy's llama2.c run.c (../shared/baselines/llama2c) as the baseline of the benchmarks: compiled
 * once per invocation as ../shared/README.md says, run on the same model file as tinymorph, and read
 * back through its own "achieved tok/s" line.
 *
 * What run.c's clock covers (generate() in run.c): one single-token forward per position pos =
 * 0..steps−1; positions 0..P−2 force the prompt tokens (P = prompt tokens with BOS), from P−1 on it
 * samples. After each forward it decodes and prints the piece; the clock starts after the first
 * iteration, and it reports (pos − 1) / elapsed with a millisecond clock: the forwards at positions
 * 1..pos−1, each with its sampling (argmax at -t 0) and printing. It stops early if it samples BOS.
 * It clamps -n to the model's seq_len.
 */

export const BOS_ID = 1;

export interface RunCResult {
  /** run.c's own "achieved tok/s". */
  rate: number;
  /** What it printed. */
  stdout: Buffer;
}

export interface RunCArgs {
  model: string;
  tokenizer: string;
  /** -n: positions including the prompt. */
  steps: number;
  prompt: string;
  /** OMP_NUM_THREADS. */
  threads: number;
}

export class Llama2cBaseline {
  private constructor(readonly exe: string) {}

  /**
   * Compiles run.c into dir with `gcc -Ofast -march=native -fopenmp`; undefined (with the reason
   * logged) when ../shared or gcc is missing, so that the caller measures tinymorph alone.
   */
  static build(dir: string): Llama2cBaseline | undefined {
    const why = (msg: string): undefined => void log(`llama2.c baseline unavailable: ${msg}; measuring tinymorph only`);
    const src = sharedPath('baselines', 'llama2c', 'run.c');
    if (!src) return why('run.c not found');
    const exe = join(dir, 'llama2c-run');
    log('compiling run.c: gcc -Ofast -march=native -fopenmp run.c -lm');
    const r = spawnSync('gcc', ['-Ofast', '-march=native', '-fopenmp', src, '-lm', '-o', exe], { encoding: 'utf8' });
    if (r.error) return why(`cannot run gcc (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install gcc with OpenMP`);
    if (r.status !== 0) return why(`gcc failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return new Llama2cBaseline(exe);
  }

  /** One greedy run (-t 0); throws when run.c fails or prints no rate. */
  run(a: RunCArgs): RunCResult {
    const env = { ...process.env, OMP_NUM_THREADS: String(a.threads) };
    const r = spawnSync(this.exe, [a.model, '-z', a.tokenizer, '-t', '0', '-n', String(a.steps), '-i', a.prompt], { env, maxBuffer: 1 << 26 });
    const stderr = r.stderr?.toString('utf8') ?? '';
    const m = /achieved tok\/s: ([0-9.eE+-]+|inf)/.exec(stderr);
    if (r.error || r.status !== 0 || !m) {
      throw new Error(`run.c failed (exit ${r.status ?? r.error?.message}): ${stderr.trim().split('\n').slice(-2).join(' | ') || 'no "achieved tok/s" line'}`);
    }
    return { rate: m[1] === 'inf' ? Infinity : Number(m[1]), stdout: r.stdout };
  }

  /** Like run, but a failure is logged and gives undefined (one failed repeat does not end a benchmark). */
  tryRun(a: RunCArgs, label: string): RunCResult | undefined {
    try {
      return this.run(a);
    } catch (e) {
      log(`warning: ${label}: ${(e as Error).message}`);
      return undefined;
    }
  }
}

const isPrintOrSpace = (b: number): boolean => (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);

/**
 * What run.c prints for this token sequence (prompt with BOS, then generated): decode(prev, next)
 * through safe_printf for every token after the first, stopping at BOS, then "\n"; and the count
 * of timed forward passes run.c divides by (pos − 1).
 */
export function runCTranscript(tok: Tokenizer, ids: readonly number[], steps: number): { text: string; timed: number } {
  // run.c prints llama2.c pieces (pieceBytes, with "<unk>" and "</s>"); other tokenizers have no such transcript.
  if (!(tok instanceof Llama2cTokenizer)) throw new UsageError('the run.c comparison needs a model with a llama2.c tokenizer.bin');
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < steps && pos + 1 < ids.length) {
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

/**
 * Compares run.c's stdout with what it would print for tinymorph's tokens (whitespace runs
 * collapsed); logs where they differ. With `prefixOnly`, run.c's text need only start with ours.
 */
export function sameTranscript(label: string, expected: string, actual: string, opts: { randomWeights: boolean; prefixOnly?: boolean }): boolean {
  const a = squash(expected);
  const b = squash(actual);
  if (opts.prefixOnly ? b.startsWith(a) : a === b) return true;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const show = (s: string): string => JSON.stringify(Buffer.from(s.slice(Math.max(0, i - 30), i + 40), 'latin1').toString('utf8'));
  log(`warning: ${label}: tinymorph and run.c texts differ at byte ${i} of ${a.length}/${b.length}:`);
  log(`  tinymorph (as run.c would print it): ${show(a)}`);
  log(`  run.c:                               ${show(b)}`);
  if (opts.randomWeights) log('  (random weights make near-tied logits likely; float summation order can flip an argmax)');
  return false;
}

/**
 * Runs `body` for each shape in one temp dir with one run.c build, under the quiet-machine check
 * (whose result is emitted as a JSON line, after the machine's), and keeps the rows it returns.
 */
export async function benchEveryShape<R>(bench: string, shapes: readonly ShapeName[], body: (shape: ShapeName, dir: string, runc: Llama2cBaseline | undefined) => R | undefined): Promise<R[]> {
  emitMachine(bench);
  const load = await startQuietCheck();
  const rows = await withTempDir(bench, (dir) => {
    const runc = Llama2cBaseline.build(dir);
    const out: R[] = [];
    for (const shape of shapes) {
      const row = body(shape, dir, runc);
      if (row) out.push(row);
    }
    return out;
  });
  emit({ bench, other_load_cores: round(load.finish(), 2) });
  return rows;
}
