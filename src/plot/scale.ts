/**
 * Axis scales for the SVG charts: a map from data values to pixels, and the ticks a reader sees.
 * Linear ticks are "nice" steps of 1, 2 or 5 × 10^k (Heckbert, "Nice numbers for graph labels",
 * Graphics Gems 1990; the same rule as d3-array's tickIncrement); log axes are labelled at decades
 * with unlabelled grid lines at 2…9 × 10^k, as on log paper.
 */

export interface Tick {
  value: number;
  label: string;
}

export interface Scale {
  readonly kind: 'linear' | 'log';
  /** Data values at the two ends of the axis. */
  readonly domain: readonly [number, number];
  /** Pixel positions of domain[0] and domain[1] (reversed for a y axis: bottom first). */
  readonly range: readonly [number, number];
  /** Labelled ticks, ascending. */
  readonly ticks: readonly Tick[];
  /** Unlabelled grid values (log axes: 2…9 × 10^k). */
  readonly minor: readonly number[];
  /** The pixel position of a value. */
  at(value: number): number;
}

/** A step of 1, 2 or 5 × 10^power that cuts [lo, hi] into about `count` pieces. */
interface Step {
  mult: 1 | 2 | 5;
  power: number;
}

function tickStep(lo: number, hi: number, count: number): Step {
  const raw = (hi - lo) / Math.max(1, count);
  let power = Math.floor(Math.log10(raw));
  const err = raw / 10 ** power;
  // Thresholds at the geometric means of 1, 2, 5, 10: the nice step nearest the raw one on a log scale.
  let mult: 1 | 2 | 5 = 1;
  if (err >= Math.sqrt(50)) power += 1;
  else if (err >= Math.sqrt(10)) mult = 5;
  else if (err >= Math.sqrt(2)) mult = 2;
  return { mult, power };
}

/** i × step, computed as i / (1/step) for steps below 1 so that 3 × 0.1 prints as 0.3; never −0. */
function multiple(i: number, s: Step): number {
  return (s.power >= 0 ? i * s.mult * 10 ** s.power : i / (10 ** -s.power / s.mult)) + 0;
}

/** Turns a degenerate extent (empty, or one value) into one an axis can show. */
function usableExtent(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo < hi) return [lo, hi];
  if (lo === 0) return [0, 1];
  const pad = Math.abs(lo) / 10;
  return [lo - pad, lo + pad];
}

const SI: readonly [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
const MINUS = '\u2212';

/** Fixed-point text without trailing zeros, with a true minus sign. */
function fixed(v: number, decimals: number): string {
  let s = v.toFixed(Math.max(0, Math.min(20, decimals)));
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  if (/^-0$/.test(s)) s = '0';
  return s.replace('-', MINUS);
}

/** Labels for multiples of step: plain decimals, or k/M/G from 10,000 up (0.5M, 1M, 1.5M). */
function linearLabels(values: readonly number[], s: Step): string[] {
  const top = Math.max(...values.map(Math.abs));
  const si = top >= 1e4 ? SI.find(([unit]) => top >= unit) : undefined;
  if (!si) return values.map((v) => fixed(v, -s.power));
  const [unit, suffix] = si;
  return values.map((v) => (v === 0 ? '0' : fixed(v / unit, Math.log10(unit) - s.power) + suffix));
}

/**
 * A linear scale over [lo, hi] with about `count` ticks. With nice (the default) the domain is
 * widened to the ticks that enclose it; without, the ticks are the step's multiples inside it.
 */
export function linearScale(extent: readonly [number, number], range: readonly [number, number], count: number, nice = true): Scale {
  let [lo, hi] = usableExtent(extent[0], extent[1]);
  let step = tickStep(lo, hi, count);
  // Widening can change the step, so repeat until it settles (as d3's scale.nice does).
  for (let pass = 0; nice && pass < 10; pass++) {
    const unit = multiple(1, step);
    [lo, hi] = [multiple(Math.floor(lo / unit + 1e-9), step), multiple(Math.ceil(hi / unit - 1e-9), step)];
    const next = tickStep(lo, hi, count);
    if (next.mult === step.mult && next.power === step.power) break;
    step = next;
  }
  const unit = multiple(1, step);
  const values: number[] = [];
  for (let i = Math.ceil(lo / unit - 1e-9); i <= Math.floor(hi / unit + 1e-9); i++) values.push(multiple(i, step));
  const labels = linearLabels(values, step);
  const [r0, r1] = range;
  return {
    kind: 'linear',
    domain: [lo, hi],
    range,
    ticks: values.map((value, i) => ({ value, label: labels[i] })),
    minor: [],
    at: (v) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0),
  };
}

/** 10^k as a reader writes it: 0.001 … 10000 in full, 1e-5 and 1e5 beyond. */
function decadeLabel(k: number): string {
  if (k < -4 || k > 4) return `1e${k}`.replace('-', MINUS);
  return k < 0 ? (10 ** k).toFixed(-k) : String(10 ** k);
}

/** A log10 scale over positive [lo, hi], widened to whole decades. */
export function logScale(extent: readonly [number, number], range: readonly [number, number]): Scale {
  const ok = extent[0] > 0 && extent[1] > 0 && Number.isFinite(extent[0]) && Number.isFinite(extent[1]);
  let k0 = ok ? Math.floor(Math.log10(extent[0])) : 0;
  const k1 = ok ? Math.max(Math.ceil(Math.log10(extent[1])), k0 + 1) : 1;
  if (!ok) k0 = 0;
  const decades = k1 - k0;
  const ticks: Tick[] = [];
  const minor: number[] = [];
  for (let k = k0; k <= k1; k++) {
    ticks.push({ value: 10 ** k, label: decadeLabel(k) });
    if (k === k1 || decades > 8) continue;
    for (let m = 2; m <= 9; m++) {
      // On an axis of one or two decades, 2 and 5 are labelled too (else there are only 2–3 labels).
      if (decades <= 2 && (m === 2 || m === 5)) ticks.push({ value: m * 10 ** k, label: fixed(m * 10 ** k, -k) });
      else minor.push(m * 10 ** k);
    }
  }
  ticks.sort((a, b) => a.value - b.value);
  const [r0, r1] = range;
  return {
    kind: 'log',
    domain: [10 ** k0, 10 ** k1],
    range,
    ticks,
    minor,
    at: (v) => r0 + ((Math.log10(v) - k0) / decades) * (r1 - r0),
  };
}
