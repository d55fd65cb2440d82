import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, Option } from 'commander';
import { TinymorphError } from '../src/errors.js';
import { splitDocuments } from '../src/model/documents.js';
import { embeddedModelPath, embeddedTokenizerPath, validationTextPath } from '../src/model/embedded.js';
import type { LoadOptions } from '../src/model/load-model.js';
import { availableBackends, setActiveBackend } from '../src/tensor/backend-registry.js';
import { nativeStatus, nativeThreads, setNativeThreads } from '../src/tensor/native-backend.js';
import { packageRoot } from '../src/util/package-root.js';
import { describeMachine, machine } from './machine.js';
import { benchmarkShapes, writeRandomLlama2c } from './random-llama2c-model.js';

/**
 * What every benchmark script shares (DESIGN.md "Performance"): options, model shapes and their
 * files, the thread counts, the quiet-machine check, and output as JSON lines then a table
 * (timing over interleaved repeats is interleaved-repeats.ts).
 */

/** The shipped stories260K, and random weights of the stories15M/110M shapes (random-llama2c-model.ts). */
export const SHAPES = ['260k', '15m', '110m'] as const;
export type ShapeName = (typeof SHAPES)[number];

export const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
}

/** "1,4,16" → [1, 4, 16]. */
export function positiveIntList(v: string): number[] {
  return v.split(',').map((s) => positiveInt(s.trim()));
}

/** One JSON line on stdout: the machine-readable record of one measurement. */
export function emit(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

/** The first JSON line of every bench: the machine it ran on (machine.ts). */
export function emitMachine(bench: string): void {
  emit({ bench, machine: machine() });
}

/** A human table on stdout (after the JSON lines), under its title and the machine it ran on; columns padded to their widest cell. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((x, i) => (x ?? '').padEnd(widths[i])).join(' | ').trimEnd();
  console.log('');
  console.log(title);
  console.log(`machine: ${describeMachine()}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of rows) console.log(line(c));
}

/** How many cores' worth of CPU time the machine spent busy over the next `ms` (before we start any work). */
export async function busyCores(ms: number): Promise<number> {
  const total = (): { busy: number; all: number } =>
    cpus().reduce((a, c) => ({ busy: a.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq, all: a.all + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }), { busy: 0, all: 0 });
  const a = total();
  await new Promise((r) => setTimeout(r, ms));
  const b = total();
  return b.all > a.all ? ((b.busy - a.busy) / (b.all - a.all)) * cpus().length : 0;
}

/**
 * The quiet-machine check: warns when other processes are busy. On a small VM, OpenMP's barriers
 * (run.c) stall when another process holds a core, which can slow run.c tenfold; threaded kernels
 * of ours would suffer the same way.
 */
export async function warnIfBusy(): Promise<number> {
  const busy = await busyCores(500);
  if (busy > 0.3) log(`warning: other processes kept ${busy.toFixed(1)} of ${availableParallelism()} cores busy just now: timings (run.c's most) will be noisy`);
  return busy;
}

/** CPU seconds of this process and of its waited-for children (run.c), from /proc/self/stat (Linux). */
function ownCpuSeconds(): number {
  const self = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    children = (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17) in USER_HZ (100/s) ticks
  } catch {
    // not Linux: children unknown
  }
  return (self.user + self.system) / 1e6 + children;
}

const machineBusySeconds = (): number => cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0) / 1000;

/**
 * The quiet-machine check during a run: CPU time the whole machine spent busy minus our own (and
 * run.c's), per second of wall time — how many cores other processes took while we measured.
 */
export class LoadMonitor {
  private readonly t0 = performance.now();
  private readonly busy0 = machineBusySeconds();
  private readonly own0 = ownCpuSeconds();

  /** Other processes' average load in cores since construction; warns when it could have skewed timings. */
  finish(): number {
    const wall = (performance.now() - this.t0) / 1000;
    const others = Math.max(0, machineBusySeconds() - this.busy0 - (ownCpuSeconds() - this.own0)) / wall;
    if (others > 0.2) log(`warning: other processes used ${others.toFixed(2)} cores on average during this run: rerun on a quiet machine`);
    else log(`quiet-machine check: other processes used ${others.toFixed(2)} cores on average during this run`);
    return others;
  }
}

/** The quiet-machine check before (warnIfBusy) and during a run: call finish() on the result at the end. */
export async function startQuietCheck(): Promise<LoadMonitor> {
  await warnIfBusy();
  return new LoadMonitor();
}

/** `--shape` with the given choices (plus `all`). */
export function shapeOption(defaultShape: ShapeName | 'all', choices: readonly ShapeName[] = SHAPES): Option {
  return new Option('--shape <shape>', 'model: the shipped stories260K, or random weights of the stories15M/110M shapes').choices([...choices, 'all']).default(defaultShape);
}

export function selectShapes(shape: ShapeName | 'all', choices: readonly ShapeName[] = SHAPES): ShapeName[] {
  return shape === 'all' ? [...choices] : [shape];
}

/** `--backend`, listing what the registry has now (the reference kernels, and any faster backend). */
export function backendOption(description = 'tinymorph kernel backend (default: $TINYMORPH_BACKEND, else the fastest available)'): Option {
  return new Option('--backend <name>', description).choices(availableBackends());
}

/**
 * JSON fields naming a backend and, for the native one, its SIMD path and thread count: `threads`
 * when the bench set it for this measurement, else the current one ($TINYMORPH_THREADS or the cores).
 */
export function backendInfo(name: string, threads?: number): { backend: string; backend_simd?: string; backend_threads?: number } {
  const native = nativeStatus();
  return name === 'native' && native.available ? { backend: name, backend_simd: native.simd, backend_threads: threads ?? native.threads } : { backend: name };
}

/** "native (avx512, 2 threads)", or without the thread count where a bench varies it; or "reference". */
export function backendLabel(name: string, withThreads = true): string {
  const i = backendInfo(name);
  if (!i.backend_simd) return name;
  return withThreads ? `${name} (${i.backend_simd}, ${i.backend_threads} thread${i.backend_threads! > 1 ? 's' : ''})` : `${name} (${i.backend_simd})`;
}

/** Makes `name` the active backend (when given), so that loadModel builds models on it. */
export function useBackend(name: string | undefined): void {
  if (name) setActiveBackend(name);
}

/** Weights tinymorph runs on: the file's fp32, or quantised to Q8_0 at load (run.c always runs the fp32 file). */
export type WeightsKind = 'fp32' | 'q8_0';
export const weightsOption = (): Option =>
  new Option('--weights <kind>', "tinymorph's weights: the file's fp32, or Q8_0 quantised at load (run.c runs the fp32 file either way)").choices(['fp32', 'q8_0']).default('fp32');

/** loadModel's options for a shape's files and a --weights choice. */
export const loadOptions = (files: ModelFiles, weights: WeightsKind): LoadOptions => ({ model: files.model, tokenizer: files.tokenizer, ...(weights === 'q8_0' && { quantize: 'q8_0' }) });

/**
 * `--threads`: the thread counts both sides run at, run.c as OMP_NUM_THREADS and tinymorph's native
 * kernels as TINYMORPH_THREADS (setNativeThreads in process). Default 1 and the core count: on a
 * tiny model run.c's OpenMP fork/join per matmul can cost more than a second thread gains, so its
 * best setting is not known in advance, and ratios are taken against its best.
 */
export const threadsOption = (): Option =>
  new Option('--threads <list>', 'thread counts for both: run.c OMP_NUM_THREADS and tinymorph TINYMORPH_THREADS')
    .argParser((v) => [...new Set(positiveIntList(v))])
    .default([...new Set([1, availableParallelism()])], `1,${availableParallelism()}`);

/**
 * The thread counts tinymorph runs at: all of them on the native kernels; the reference kernels are
 * single-threaded, so there one count, labelled 1.
 */
export function tinymorphThreadCounts(backend: string, counts: readonly number[]): number[] {
  return backend === 'native' ? [...counts] : [1];
}

/** Runs fn with the native kernels at `threads` threads (what TINYMORPH_THREADS sets at startup), then restores the count. */
export function withNativeThreads<T>(threads: number, fn: () => T): T {
  const before = nativeThreads();
  setNativeThreads(threads);
  try {
    return fn();
  } finally {
    setNativeThreads(before);
  }
}

/** Path of a file in ../shared (beside the repo), or undefined with a note when it is missing. */
export function sharedPath(...parts: string[]): string | undefined {
  const p = join(packageRoot(), '..', 'shared', ...parts);
  if (existsSync(p)) return p;
  log(`${p} not found (../shared is not beside the repo)`);
  return undefined;
}

export interface ModelFiles {
  model: string;
  tokenizer: string;
  /** The model file was written by us (random weights). */
  random: boolean;
}

/** The model and tokenizer files of a shape, writing random weights into dir for 15m/110m (undefined: cannot). */
export function shapeFiles(shape: ShapeName, dir: string, seed: number): ModelFiles | undefined {
  if (shape === '260k') return { model: embeddedModelPath(), tokenizer: embeddedTokenizerPath(), random: false };
  const tokenizer = sharedPath('models', 'tokenizer32000.bin');
  if (!tokenizer) {
    log(`skipping ${shape}: it needs the 32000-token tokenizer`);
    return undefined;
  }
  const model = join(dir, `random-${shape}-seed${seed}.bin`);
  if (existsSync(model)) return { model, tokenizer, random: true };
  const t0 = performance.now();
  const bytes = writeRandomLlama2c(model, benchmarkShapes[shape], { seed });
  log(`wrote random-weight ${shape} model: ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { model, tokenizer, random: true };
}

/** Runs fn with a fresh directory under the OS temp dir, removed afterwards whatever happens. */
export async function withTempDir<T>(name: string, fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `tinymorph-bench-${name}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stories of the shipped TinyStories validation text (assets/data; CDLA-Sharing-1.0): its blank
 * lines separate paragraphs (splitDocuments), and a story starts with "Once upon a time", so each
 * story is the text from one such paragraph to the next.
 */
export function validationStories(): string[] {
  const stories: string[] = [];
  for (const p of splitDocuments(readFileSync(validationTextPath(), 'utf8'))) {
    if (p.startsWith('Once upon a time')) stories.push(p);
    else if (stories.length > 0) stories[stories.length - 1] += `\n\n${p}`;
  }
  return stories;
}

/** The first sentences of the first `count` stories, all different (batched prompts). */
export function firstSentences(count: number): string[] {
  const seen = new Set<string>();
  for (const story of validationStories()) {
    const m = /^[^.!?]*[.!?]/.exec(story);
    if (m && !seen.has(m[0])) seen.add(m[0]);
    if (seen.size === count) return [...seen];
  }
  throw new Error(`the validation text has only ${seen.size} distinct first sentences; ${count} asked for`);
}

/** Runs a script's main, printing tinymorph's own errors (bad options, files) as one line with exit code 1. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof TinymorphError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  }
}
