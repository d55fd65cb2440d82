import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ShapeError, UsageError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import type { Backend } from './backend.js';
import type { AttentionArgs, AttentionHeads } from './model-kernels.js';
import { isQ80 } from './weight-matrix.js';

/**
 * The native kernels (native/*.c, built at install into build/Release/tinymorph_native.node):
 * AVX-512 / AVX2 / portable C, on a pool of threads above a work threshold, zero-copy on the
 * callers' Float32Arrays. Absent when the addon was not built or does not load; then `nativeStatus`
 * says why and the registry falls back to the reference kernels.
 */

type AttentionNumbers = [tokenOffset: number, count: number, startPos: number, nHeads: number, nKvHeads: number, headSize: number];

/** The addon's exports (native/addon.c). Shapes are checked in C against the array lengths. */
interface NativeAddon extends Pick<Backend, 'matmulNN' | 'matmulTN' | 'topKRows' | 'gatherRows' | 'gatheredDots' | 'scatterRows' | 'scatterRowsPair' | 'transpose' | 'encodeRelu' | 'positiveEntries' | 'reluPicks' | 'scatterAddPicks' | 'addRowVector' | 'scaleInto' | 'subRowVector' | 'squaredError' | 'columnSums' | 'centeredSquares' | 'rmsnorm' | 'rope' | 'swiglu' | 'addInPlace' | 'softmax'> {
  readonly simd: 'avx512' | 'avx2' | 'scalar';
  readonly threadPool: boolean;
  matmulF32(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, n: number, d: number): void;
  matmulQ80(out: Float32Array, x: Float32Array, q: Int8Array, scales: Float32Array, groupSize: number, rows: number, n: number, d: number): void;
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, beta1: number, beta2: number, eps: number, stepSize: number, sqrtC2: number): void;
  sparseDecodeBackward(
    out: Float32Array, dOut: Float32Array, dPre: Float32Array, gradDec: Float32Array, gradEncT: Float32Array, gradBias: Float32Array, counts: Int32Array,
    idx: Int32Array, act: Float32Array, x: Float32Array, saeIn: Float32Array, wDec: Float32Array, bDec: Float32Array, rows: number, k: number, width: number, batch: number,
    actSums: Float32Array | null, dPreAddend: Float32Array | null,
  ): { sse: number; active: number };
  encodeTopK(
    idx: Int32Array, pre: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, scale: Float32Array | null, rows: number, dIn: number, dSae: number, k: number,
    auxCols: Int32Array | null, auxK: number, auxIdx: Int32Array | null, auxPre: Float32Array | null,
  ): void;
  /** The AttentionArgs fields follow the arrays (and the pattern stride) as plain numbers: tokenOffset, count, startPos, nHeads, nKvHeads, headSize. */
  attention(out: Float32Array, q: Float32Array, keys: Float32Array, values: Float32Array, scores: Float32Array, ...args: AttentionNumbers): void;
  attentionRows(out: Float32Array, q: Float32Array, keys: Float32Array, values: Float32Array, segments: Int32Array, nSeg: number, capacity: number, nHeads: number, nKvHeads: number, headSize: number): void;
  attentionPattern(pattern: Float32Array, q: Float32Array, keys: Float32Array, patternStride: number, ...args: AttentionNumbers): void;
  attentionApply(out: Float32Array, pattern: Float32Array, values: Float32Array, patternStride: number, ...args: AttentionNumbers): void;
  setThreads(n: number): void;
  threads(): number;
  setParallelMinWork(flops: number): void;
  parallelMinWork(): number;
  setErrorClass(ctor: new (message: string) => Error): void;
  cacheLineOffset(buffer: ArrayBuffer): number;
  /** `bytes` bytes of the open file `fd` from a page-aligned `offset`, mapped private copy-on-write; unmapped when collected. POSIX only. */
  mapFile?(fd: number, offset: number, bytes: number): ArrayBuffer;
}

/** What `tinymorph inspect` shows about the native backend. */
export type NativeStatus =
  | { available: true; file: string; simd: NativeAddon['simd']; threadPool: boolean; threads: number }
  | { available: false; file: string; reason: string };

/**
 * The most threads the pool runs (MAX_THREADS in native/threads.c; the addon's own check allows
 * more, which the pool would silently cap).
 */
export const MAX_NATIVE_THREADS = 256;

const threadsProblem = (n: number | string): string => `must be an integer from 1 to ${MAX_NATIVE_THREADS}, got ${JSON.stringify(n)}`;

function load(): { addon?: NativeAddon; status: NativeStatus; envError?: UsageError } {
  const file = join(packageRoot(), 'build', 'Release', 'tinymorph_native.node');
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'MODULE_NOT_FOUND' ? 'not built (run `npm install`, which needs a C compiler)' : err.message.split('\n')[0];
    return { status: { available: false, file, reason } };
  }
  addon.setErrorClass(ShapeError);
  const status: NativeStatus = { available: true, file, simd: addon.simd, threadPool: addon.threadPool, threads: addon.threads() };
  const env = process.env.TINYMORPH_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    // Not thrown at import time, where no command could report it as one line: choosing the native
    // backend throws it (nativeConfigError), so a bad value never quietly runs another backend.
    if (!/^\s*\d+\s*$/.test(env) || n < 1 || n > MAX_NATIVE_THREADS) return { addon, status, envError: new UsageError(`TINYMORPH_THREADS ${threadsProblem(env)}`) };
    addon.setThreads(n);
  }
  return { addon, status };
}

const loaded = load();
const addon = loaded.addon;

/**
 * `bytes` bytes of the open file `fd` from a page-aligned `offset`, mapped into memory
 * (native/map-file.c), or undefined when the addon did not load or has no mapFile (Windows, or
 * built before it existed): the caller reads instead. Throws the system's reason when mmap(2) fails.
 */
export function nativeMapFile(fd: number, offset: number, bytes: number): ArrayBuffer | undefined {
  return addon?.mapFile?.(fd, offset, bytes);
}

/** Why the native backend may not be used as configured (a bad $TINYMORPH_THREADS), if it may not. */
export function nativeConfigError(): UsageError | undefined {
  return loaded.envError;
}

function makeBackend(a: NativeAddon): Backend {
  return {
    name: 'native',
    matmul(out, x, w, rows, n, d) {
      if (!isQ80(w)) return a.matmulF32(out, x, w, rows, n, d);
      if (w.cols !== n || w.rows < d) throw new ShapeError(`matmul: Q8_0 weight is [${w.rows}, ${w.cols}], the call needs [${d}, ${n}]`);
      a.matmulQ80(out, x, w.q, w.scales, w.groupSize, rows, n, d);
    },
    matmulNN: (out, x, b, m, k, n) => a.matmulNN(out, x, b, m, k, n),
    matmulTN: (out, x, b, m, k, n) => a.matmulTN(out, x, b, m, k, n),
    topKRows: (outIdx, outVal, x, rows, n, k) => a.topKRows(outIdx, outVal, x, rows, n, k),
    encodeTopK(out, x, w, bias, rows, dIn, dSae, k, { scale, aux } = {}) {
      a.encodeTopK(out.idx, out.pre, x, w, bias, scale ?? null, rows, dIn, dSae, k, aux?.cols ?? null, aux?.k ?? 0, aux?.idx ?? null, aux?.pre ?? null);
    },
    gatherRows: (out, idx, val, rows, k, table, width) => a.gatherRows(out, idx, val, rows, k, table, width),
    gatheredDots: (out, x, idx, rows, k, table, width) => a.gatheredDots(out, x, idx, rows, k, table, width),
    scatterRows: (table, idx, val, rows, k, x, width) => a.scatterRows(table, idx, val, rows, k, x, width),
    scatterRowsPair: (table, idx, val, rows, k, x, width, table2, val2, x2) => a.scatterRowsPair(table, idx, val, rows, k, x, width, table2, val2, x2),
    sparseDecodeBackward: (o, i) =>
      a.sparseDecodeBackward(
        o.out, o.dOut, o.dPre, o.gradDec, o.gradEncT, o.gradBias, o.counts, i.idx, i.act, i.x, i.saeIn, i.wDec, i.bDec, i.rows, i.k, i.width, i.batch,
        o.actSums ?? null, i.dPreAddend ?? null,
      ),
    transpose: (out, x, rows, cols) => a.transpose(out, x, rows, cols),
    encodeRelu: (idx, val, x, w, bias, rows, dIn, dSae) => a.encodeRelu(idx, val, x, w, bias, rows, dIn, dSae),
    positiveEntries: (idx, val, x, rows, n) => a.positiveEntries(idx, val, x, rows, n),
    reluPicks: (val, idx, len, counts) => a.reluPicks(val, idx, len, counts),
    scatterAddPicks: (out, idx, val, len, gate) => a.scatterAddPicks(out, idx, val, len, gate),
    addRowVector: (x, v, rows, n) => a.addRowVector(x, v, rows, n),
    scaleInto: (out, x, s, len) => a.scaleInto(out, x, s, len),
    subRowVector: (out, x, v, rows, n) => a.subRowVector(out, x, v, rows, n),
    squaredError: (dOut, out, x, len, batch) => a.squaredError(dOut, out, x, len, batch),
    columnSums: (out, m, rows, width) => a.columnSums(out, m, rows, width),
    centeredSquares: (x, rows, width) => a.centeredSquares(x, rows, width),
    adamUpdate: (p, g, m, v, h) => a.adamUpdate(p, g, m, v, h.beta1, h.beta2, h.eps, h.stepSize, h.sqrtC2),
    rmsnorm: (out, x, weight, rows, size, eps) => a.rmsnorm(out, x, weight, rows, size, eps),
    rope: (x, positions, rows, width, headSize, cosSin) => a.rope(x, positions, rows, width, headSize, cosSin),
    swiglu: (gate, up, len) => a.swiglu(gate, up, len),
    addInPlace: (x, y, len) => a.addInPlace(x, y, len),
    softmax: (x, offset, len) => a.softmax(x, offset, len),
    attention(out, q, keys, values, g: AttentionArgs, scores) {
      a.attention(out, q, keys, values, scores, g.tokenOffset, g.count, g.startPos, g.nHeads, g.nKvHeads, g.headSize);
    },
    attentionRows(out, q, keys, values, segments, nSeg, capacity, h: AttentionHeads) {
      a.attentionRows(out, q, keys, values, segments, nSeg, capacity, h.nHeads, h.nKvHeads, h.headSize);
    },
    attentionPattern(pattern, q, keys, g: AttentionArgs, stride) {
      a.attentionPattern(pattern, q, keys, stride, g.tokenOffset, g.count, g.startPos, g.nHeads, g.nKvHeads, g.headSize);
    },
    attentionApply(out, pattern, values, g: AttentionArgs, stride) {
      a.attentionApply(out, pattern, values, stride, g.tokenOffset, g.count, g.startPos, g.nHeads, g.nKvHeads, g.headSize);
    },
  };
}

/** The native kernels, or undefined when the addon is not available (see `nativeStatus`). */
export const nativeBackend: Backend | undefined = addon && makeBackend(addon);

/** Bytes from the 64-byte boundary at or below a buffer's first byte (undefined without the addon). */
export const cacheLineOffset: ((buffer: ArrayBuffer) => number) | undefined = addon && ((buffer) => addon.cacheLineOffset(buffer));

/** Whether the addon loaded, and if not, why. */
export function nativeStatus(): NativeStatus {
  return loaded.status.available ? { ...loaded.status, threads: addon!.threads() } : loaded.status;
}

/** Threads the native kernels use (default: $TINYMORPH_THREADS, else the cores this process may run on). Results do not depend on it. */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NATIVE_THREADS) throw new UsageError(`native threads ${threadsProblem(n)}`);
  addon?.setThreads(n);
}

export function nativeThreads(): number {
  return addon ? addon.threads() : 1;
}

/**
 * Work (FLOPs) below which a kernel call runs on the calling thread alone; for benchmarks that
 * re-measure the threshold. Returns the previous value.
 */
export function setNativeParallelMinWork(flops: number): number {
  if (!addon) return 0;
  const prev = addon.parallelMinWork();
  addon.setParallelMinWork(flops);
  return prev;
}
