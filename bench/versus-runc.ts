import { emit } from './bench-utils.js';
import type { Side, Stats } from './interleaved-repeats.js';

/**
 * tinymorph against run.c when both ran at several thread counts: ratios are taken against run.c at
 * its best setting on this machine (by median), so that a thread count which hurts run.c — an
 * OpenMP fork/join around every tiny matmul of the 260K model, a core held by another process — is
 * not counted as tinymorph's gain. Medians lead; bests stand beside them.
 */

/** One side's result at one thread count. */
export interface AtThreads {
  threads: number;
  stats: Stats;
}

/** Rates (higher is better: tokens/s) or times (lower is better: seconds per process). */
export type Measure = 'rate' | 'time';

export interface Ratio {
  threads: number;
  runcThreads: number;
  /** tinymorph's speed over run.c's: medians against medians, bests against bests (> 1: tinymorph faster). */
  median: number;
  best: number;
}

/**
 * Sides to run interleaved (interleaved-repeats.ts): one runtime, or one case of it, at each thread
 * count; `run` does one timed run at that count and returns its sample.
 */
export function threadSides(label: string, threads: readonly number[], run: (threads: number) => number | undefined): Side[] {
  return threads.map((t) => ({ label: `${label} ${t}t`, run: () => run(t) }));
}

/** threadSides' samples back into stats by thread count (a count whose every run failed is left out). */
export function atThreads(samples: readonly number[][], threads: readonly number[], stats: (xs: readonly number[]) => Stats): AtThreads[] {
  return threads.flatMap((t, i) => (samples[i].length > 0 ? [{ threads: t, stats: stats(samples[i]) }] : []));
}

const better = (a: number, b: number, m: Measure): boolean => (m === 'rate' ? a > b : a < b);

/** run.c's best setting: the thread count with the best median (a tie goes to fewer threads). */
export function bestSetting(runc: readonly AtThreads[], m: Measure): AtThreads | undefined {
  let best: AtThreads | undefined;
  for (const r of [...runc].sort((a, b) => a.threads - b.threads)) if (!best || better(r.stats.median, best.stats.median, m)) best = r;
  return best;
}

/** Speed of tinymorph at each of its thread counts over run.c's at its best setting. */
export function ratiosVsBest(ours: readonly AtThreads[], runc: readonly AtThreads[], m: Measure): Ratio[] {
  const top = bestSetting(runc, m);
  if (!top) return [];
  const speed = (o: number, r: number): number => (m === 'rate' ? o / r : r / o);
  return ours.map((o) => ({ threads: o.threads, runcThreads: top.threads, median: speed(o.stats.median, top.stats.median), best: speed(o.stats.best, top.stats.best) }));
}

/** One JSON line per ratio, with the fields of `base` (bench, shape, …). */
export function emitRatios(base: Record<string, unknown>, ratios: readonly Ratio[], extra: Record<string, unknown> = {}): void {
  for (const r of ratios) emit({ ...base, tinymorph_threads: r.threads, runc_threads: r.runcThreads, ratio: Number(r.median.toFixed(4)), best_ratio: Number(r.best.toFixed(4)), ...extra });
}

/** "1.23 (best 1.31)"; two significant digits below 0.1 ("0.011"), where a whole process takes 100× run.c's. */
const fmtRatio = (r: Ratio | undefined): string => {
  const f = (x: number): string => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));
  return r ? `${f(r.median)} (best ${f(r.best)})` : '-';
};

/**
 * Table cells per thread count: threads, tinymorph, run.c (its best setting marked *), ratio of
 * tinymorph at that count to run.c at its best setting.
 */
export function threadRows(ours: readonly AtThreads[], runc: readonly AtThreads[], m: Measure, fmt: (s: Stats | undefined) => string): string[][] {
  const top = bestSetting(runc, m);
  const ratios = ratiosVsBest(ours, runc, m);
  const counts = [...new Set([...ours, ...runc].map((x) => x.threads))].sort((a, b) => a - b);
  return counts.map((t) => {
    const r = runc.find((x) => x.threads === t);
    return [String(t), fmt(ours.find((x) => x.threads === t)?.stats), r ? `${fmt(r.stats)}${r === top ? ' *' : ''}` : '-', fmtRatio(ratios.find((x) => x.threads === t))];
  });
}

/** The line under a table that says what the ratio compares. */
export const RATIO_NOTE =
  "ratio = tinymorph's speed at that thread count ÷ run.c's at its best setting on this machine (marked *: the best median of its thread counts), medians against medians, bests in brackets";
