import { performance } from 'node:perf_hooks';

/**
 * Repeated measurements of several sides (tinymorph and run.c, thread counts, variants) taken in
 * interleaved rounds, and their statistics. Running all of one side's repeats before the other's
 * lets a change in the machine's speed (other tenants, clock, a background build) land on one
 * side only; in rounds, each side meets the same drift. The order alternates round by round
 * (A B C, then C B A) so that no side always runs first, after the JIT warmed up on another, or
 * right after a side that heated the cores.
 */

/** One thing a bench measures: `run` does one timed run and returns its sample, or undefined when the run failed (and said why). */
export interface Side {
  label: string;
  run: () => number | undefined;
}

export interface RoundOptions {
  /** Rounds to run. */
  repeats: number;
  /** Stop after the round that passes this many seconds, even before `repeats` (there is always one round). */
  budgetS?: number;
  /** Keep running rounds until this many seconds have passed, even after `repeats`. */
  minS?: number;
  /** Never more rounds than this (with `minS` and a fast side). */
  maxRounds?: number;
  /** Prefix of a progress line on stderr after each round, with every side's sample; none: quiet. */
  progress?: string;
}

/** Runs every side once per round, in alternating order, and returns each side's samples (failed runs left out). */
export function interleave(sides: readonly Side[], o: RoundOptions): number[][] {
  const samples = sides.map(() => [] as number[]);
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  for (let round = 0; round < (o.maxRounds ?? Infinity); round++) {
    const order = sides.map((_, i) => (round % 2 === 0 ? i : sides.length - 1 - i));
    const got: (number | undefined)[] = sides.map(() => undefined);
    for (const i of order) {
      got[i] = sides[i].run();
      if (got[i] !== undefined) samples[i].push(got[i]!);
    }
    if (o.progress) {
      const shown = sides.map((s, i) => `${s.label} ${got[i] === undefined ? 'failed' : formatSample(got[i]!)}`);
      process.stderr.write(`${o.progress}: round ${round + 1}/${o.repeats}: ${shown.join(', ')}\n`);
    }
    const done = round + 1 >= o.repeats && elapsedS() >= (o.minS ?? 0);
    if (done || (o.budgetS !== undefined && elapsedS() > o.budgetS)) break;
  }
  return samples;
}

const formatSample = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median of a side's samples, the best one beside it, and how many there were. */
export interface Stats {
  median: number;
  best: number;
  runs: number;
}

/** Stats of rates (higher is better). */
export function rateStats(xs: readonly number[]): Stats {
  return { median: median(xs), best: Math.max(...xs), runs: xs.length };
}

/** Stats of times (lower is better). */
export function timeStats(xs: readonly number[]): Stats {
  return { median: median(xs), best: Math.min(...xs), runs: xs.length };
}

/** "120.1 (best 123.4)": the median first, the best beside it; '-' when there is nothing. */
export const fmtStats = (s: Stats | undefined, digits = 1): string => (s ? `${s.median.toFixed(digits)} (best ${s.best.toFixed(digits)})` : '-');

/** JSON fields of a Stats under a name: median_<name>, best_<name>, runs. */
export function statsFields(name: string, s: Stats, digits = 2): Record<string, number> {
  return { [`median_${name}`]: Number(s.median.toFixed(digits)), [`best_${name}`]: Number(s.best.toFixed(digits)), runs: s.runs };
}
