/**
 * Histogram of each feature's non-zero activations, the "activation density" plot of a feature
 * dashboard (Bricken et al. 2023, "Towards Monosemanticity"; Neuronpedia): equal-width bins over
 * (0, max activation]. The maximum is only known after the whole corpus has been seen, so values are
 * first counted in fine log-spaced bins (ACC_BINS_PER_OCTAVE per doubling, ≈ 4% wide) and rebinned
 * to equal-width bins at the end by each fine bin's centre: one pass, memory d_sae × ACC_BINS.
 */

const ACC_BINS_PER_OCTAVE = 16;
const ACC_MIN_LOG2 = -14; // activations below 2^-14 land in the first bin
const ACC_MAX_LOG2 = 14; // …and above 2^14 in the last
const ACC_BINS = (ACC_MAX_LOG2 - ACC_MIN_LOG2) * ACC_BINS_PER_OCTAVE;

/** Equal-width bins over (0, max]: bin b covers (b·max/n, (b+1)·max/n]. */
export interface ActivationHistogram {
  max: number;
  counts: number[];
}

export class HistogramAccumulator {
  private readonly fine: Uint32Array;

  constructor(features: number) {
    this.fine = new Uint32Array(features * ACC_BINS);
  }

  /** Counts one non-zero activation `a` of feature `j`. */
  add(j: number, a: number): void {
    const b = Math.floor((Math.log2(a) - ACC_MIN_LOG2) * ACC_BINS_PER_OCTAVE);
    this.fine[j * ACC_BINS + (b < 0 ? 0 : b >= ACC_BINS ? ACC_BINS - 1 : b)]++;
  }

  /** Feature j's histogram in `bins` equal-width bins over (0, max]. */
  histogram(j: number, max: number, bins: number): ActivationHistogram {
    const counts = new Array<number>(bins).fill(0);
    if (!(max > 0)) return { max: 0, counts };
    for (let b = 0; b < ACC_BINS; b++) {
      const n = this.fine[j * ACC_BINS + b];
      if (n === 0) continue;
      const centre = 2 ** (ACC_MIN_LOG2 + (b + 0.5) / ACC_BINS_PER_OCTAVE);
      counts[Math.min(bins - 1, Math.max(0, Math.ceil((Math.min(centre, max) / max) * bins) - 1))] += n;
    }
    return { max, counts };
  }
}
